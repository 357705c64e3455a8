import XCTest
@testable import StudioModel

final class ArtifactTests: XCTestCase {
    private let credentials: JSONValue = ["aws": ["access_key": "AKIDEXAMPLE", "secret_access_key": "wJalrSECRET"]]

    func testFieldsReadAndWrite() throws {
        var artifact = Artifact(mutable: false, key: "blobstore/abc.tar", local: "/home/u/p",
                                qualified: "s3://127.0.0.1:5125/arts/blobstore/abc.tar", bucket: "arts", credentials: credentials)
        XCTAssertEqual(artifact.json.keys, ["unpack", "mutable", "key", "local", "qualified", "bucket", "credentials"])
        XCTAssertTrue(artifact.unpack)
        XCTAssertFalse(artifact.mutable)
        XCTAssertEqual(artifact.key, "blobstore/abc.tar")
        XCTAssertEqual(artifact.bucket, "arts")
        XCTAssertEqual(artifact.credentials, credentials)
        XCTAssertEqual(try artifact.location(), .s3(host: "127.0.0.1:5125", bucket: "arts", key: "blobstore/abc.tar"))
        XCTAssertNil(artifact.hash)
        XCTAssertNil(artifact.url)
        artifact.local = "/elsewhere"
        artifact.hash = "abc"
        XCTAssertEqual(artifact.json["local"], "/elsewhere")
        XCTAssertEqual(artifact.json["hash"], "abc")
    }

    func testURLArtifactLocation() throws {
        var artifact = Artifact(json: ["mutable": false, "url": "https://example.com/d.tgz"])
        XCTAssertEqual(try artifact.location(), .http(url: "https://example.com/d.tgz"))
        artifact.url = nil
        XCTAssertNil(try artifact.location())
    }

    func testDescriptionsNeverShowCredentials() {
        let artifact = Artifact(mutable: true, key: "experiments/k/output.tar", credentials: credentials)
        for text in [artifact.redactedDescription, artifact.description, String(describing: artifact), String(reflecting: artifact), "\(artifact)"] {
            XCTAssertFalse(text.contains("wJalrSECRET"), text)
            XCTAssertFalse(text.contains("AKIDEXAMPLE"), text)
            XCTAssertTrue(text.contains("credentials=<redacted>"), text)
            XCTAssertTrue(text.contains("experiments/k/output.tar"), text)
        }
    }

    func testDefaultArtifactsMatchTheSampleMessage() throws {
        let message = try StudioMessage(parsing: Samples.message)
        let key = message.experiment.key
        let config = try message.config
        let defaults = Artifact.defaults(
            experimentKey: key, workspacePath: "/home/user/myproject",
            workspaceBlobKey: "blobstore/3df8b8dc4bee6b90d7e03f6309f7d5342e1a6931d068827a3c56781d1d6fff64.tar",
            studioHome: "/home/user/.studioml/", store: ArtifactStoreReference(config.storage))
        XCTAssertEqual(defaults.map(\.tag), ["workspace", "modeldir", "retval", "output", "tb", "_metrics", "_metadata"])
        let sample = message.experiment.orderedArtifacts
        XCTAssertEqual(sample.map(\.tag), defaults.map(\.tag))
        for (mine, theirs) in zip(defaults, sample) {
            XCTAssertTrue(JSONValue.object(mine.artifact.json).isIdentical(to: .object(theirs.artifact.json)),
                          "\(mine.tag): \(mine.artifact.json) vs \(theirs.artifact.json)")
        }
    }

    func testDefaultArtifactsWithoutStoreOrBlob() {
        let defaults = Artifact.defaults(experimentKey: "1_k", workspacePath: "/w", workspaceBlobKey: nil,
                                         studioHome: "/h", store: nil)
        XCTAssertEqual(defaults[0].artifact.json, ["unpack": true, "mutable": false, "local": "/w"])
        XCTAssertEqual(defaults[1].artifact.json,
                       ["unpack": true, "mutable": true, "key": "experiments/1_k/modeldir.tar", "local": "/h/experiments/1_k/modeldir"])
    }

    func testQualifiedLocationsPerStoreType() {
        func location(_ store: JSONObject) -> String? {
            ArtifactStoreReference(StoreConfig(json: store)).qualifiedLocation(forKey: "experiments/k/tb.tar")
        }
        XCTAssertEqual(location(["type": "s3", "endpoint": "http://127.0.0.1:5125", "bucket": "b"]), "s3://127.0.0.1:5125/b/experiments/k/tb.tar")
        XCTAssertEqual(location(["type": "s3", "bucket": "b"]), "s3://s3.amazonaws.com/b/experiments/k/tb.tar")
        XCTAssertEqual(location(["type": "gcloud", "bucket": "g"]), "gs://g/experiments/k/tb.tar")
        XCTAssertEqual(location(["type": "local", "endpoint": "/srv", "bucket": "store"]), "file://srv/store/experiments/k/tb.tar")
        XCTAssertNil(location(["type": "firebase"]))
    }
}
