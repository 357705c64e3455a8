#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioModel
import StudioStorage
@testable import StudioWorker
import XCTest

/// Which store and key each kind of artifact location maps to (no network: stores are only opened).
final class ArtifactStoresTests: XCTestCase {
    let environment = ["STORAGE_EMULATOR_HOST": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "env-key",
                       "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_REGION": "us-east-1", "HOME": "/nonexistent",
                       "AWS_EC2_METADATA_DISABLED": "true"]

    func stores(_ section: String) throws -> ArtifactStores {
        let json = try XCTUnwrap(try JSONValue(parsing: Data(section.utf8)).objectValue)
        return ArtifactStores(storage: LocalObjectStore(root: "/nonexistent/store"), storageConfig: StoreConfig(json: json),
                              experimentKey: "K", environment: environment)
    }

    func artifact(mutable: Bool = false, key: String? = nil, qualified: String? = nil, url: String? = nil,
                  credentials: JSONValue? = nil) -> Artifact {
        var artifact = Artifact(mutable: mutable, key: key, qualified: qualified, credentials: credentials)
        artifact.url = url
        return artifact
    }

    func testArtifactsWithoutALocationStayInTheExperimentStorage() throws {
        let resolver = try stores(#"{"type": "local"}"#)
        let keyed = try XCTUnwrap(resolver.resolve("workspace", artifact(key: "blobstore/abc.tar")))
        XCTAssertEqual(keyed.kind, .experimentStorage)
        XCTAssertEqual(keyed.key, "blobstore/abc.tar")
        XCTAssertEqual((keyed.store as? LocalObjectStore)?.root, "/nonexistent/store")
        let mutable = try XCTUnwrap(resolver.resolve("output", artifact(mutable: true)))
        XCTAssertEqual(mutable.kind, .experimentStorage)
        XCTAssertEqual(mutable.key, "experiments/K/output.tar")
        XCTAssertNil(try resolver.resolve("nothing", artifact()), "an immutable artifact with no key and no location has nothing to fetch")
        // StudioML's local storage writes `file:/…` names next to the key: the key finds the object.
        let file = try XCTUnwrap(resolver.resolve("w", artifact(key: "blobstore/x.tar", qualified: "file:/home/u/.studioml/storage/blobstore/x.tar")))
        XCTAssertEqual(file.kind, .experimentStorage)
        XCTAssertThrowsError(try resolver.resolve("w", artifact(qualified: "file:/home/u/data.tar"))) {
            XCTAssertTrue("\($0)".contains("artifact w"), "\($0)")
        }
    }

    func testAQualifiedNameOfTheExperimentsOwnStoreUsesIt() throws {
        let gcs = try stores(#"{"type": "gcs", "bucket": "main"}"#)
        let same = try XCTUnwrap(gcs.resolve("workspace", artifact(key: "blobstore/a.tar", qualified: "gs://main/blobstore/a.tar")))
        XCTAssertEqual(same.kind, .experimentStorage)
        XCTAssertEqual(same.key, "blobstore/a.tar")
        let s3 = try stores(#"{"type": "s3", "bucket": "art", "endpoint": "http://127.0.0.1:5125"}"#)
        let sameS3 = try XCTUnwrap(s3.resolve("workspace", artifact(key: "blobstore/a.tar", qualified: "s3://127.0.0.1:5125/art/blobstore/a.tar")))
        XCTAssertEqual(sameS3.kind, .experimentStorage)
        let bare = try XCTUnwrap(s3.resolve("workspace", artifact(key: "blobstore/a.tar", qualified: "s3://art/blobstore/a.tar")))
        XCTAssertEqual(bare.kind, .experimentStorage)
        let keyless = try XCTUnwrap(gcs.resolve("data", artifact(qualified: "gs://main/sets/d.tar")))
        XCTAssertEqual(keyless.kind, .experimentStorage)
        XCTAssertEqual(keyless.key, "sets/d.tar")
        // As in StudioML, a key means the experiment's storage whatever the name says (the shared sample
        // message names an S3 endpoint that a worker with another storage never reaches).
        let keyed = try XCTUnwrap(gcs.resolve("workspace", artifact(key: "blobstore/a.tar", qualified: "s3://127.0.0.1:5125/studioml-artifacts/blobstore/a.tar")))
        XCTAssertEqual(keyed.kind, .experimentStorage)
        XCTAssertEqual(keyed.key, "blobstore/a.tar")
        // The same bucket name on another endpoint is another store.
        let elsewhere = try XCTUnwrap(s3.resolve("data", artifact(qualified: "s3://10.0.0.1:9000/art/d.tar")))
        XCTAssertEqual(elsewhere.kind, .s3(endpoint: "http://10.0.0.1:9000", bucket: "art"))
        XCTAssertEqual(elsewhere.key, "d.tar")
    }

    func testAGCSLocationOpensThatBucketOnceForTheRun() throws {
        let resolver = try stores(#"{"type": "local"}"#)
        let first = try XCTUnwrap(resolver.resolve("data", artifact(qualified: "gs://other-bucket/sets/data.tar")))
        XCTAssertEqual(first.kind, .gcs(bucket: "other-bucket"))
        XCTAssertEqual(first.key, "sets/data.tar")
        XCTAssertEqual((first.store as? GCSObjectStore)?.bucket, "other-bucket")
        XCTAssertEqual((first.store as? GCSObjectStore)?.client.baseURL, "http://127.0.0.1:9")
        let mutable = try XCTUnwrap(resolver.resolve("model", artifact(mutable: true, qualified: "gs://other-bucket/out/model.tar")))
        XCTAssertEqual(mutable.key, "out/model.tar")
        XCTAssertTrue(first.store as AnyObject === mutable.store as AnyObject, "the bucket's store was opened twice")
        XCTAssertThrowsError(try resolver.resolve("bad", artifact(qualified: "gs://other-bucket/")))
    }

    func testAnS3LocationUsesItsEndpointAndTheArtifactsOwnCredentials() throws {
        let resolver = try stores(#"{"type": "s3", "bucket": "art", "endpoint": "https://minio.example:9000", "credentials": {"aws": {"access_key": "a", "secret_access_key": "b"}}}"#)
        let own: JSONValue = .object(["aws": .object(["access_key": .string("x"), "secret_access_key": .string("y")])])
        let hosted = try XCTUnwrap(resolver.resolve("d", artifact(qualified: "s3://127.0.0.1:5000/other/k/d.tar", credentials: own)))
        XCTAssertEqual(hosted.kind, .s3(endpoint: "http://127.0.0.1:5000", bucket: "other"))
        XCTAssertEqual(hosted.key, "k/d.tar")
        XCTAssertEqual((hosted.store as? S3ObjectStore)?.endpoint, "http://127.0.0.1:5000")
        // Other credentials for the same bucket are another store.
        let storageCredentials = try XCTUnwrap(resolver.resolve("e", artifact(qualified: "s3://127.0.0.1:5000/other/e.tar")))
        XCTAssertFalse(hosted.store as AnyObject === storageCredentials.store as AnyObject)
        // The storage's own host keeps its scheme; AWS hosts get https; no host means the storage's endpoint.
        XCTAssertEqual(resolver.s3Endpoint(host: "minio.example:9000"), "https://minio.example:9000")
        XCTAssertEqual(resolver.s3Endpoint(host: "s3.amazonaws.com"), "https://s3.amazonaws.com")
        let bare = try XCTUnwrap(resolver.resolve("d", artifact(qualified: "s3://other/d.tar")))
        XCTAssertEqual(bare.kind, .s3(endpoint: "https://minio.example:9000", bucket: "other"))
        XCTAssertEqual((bare.store as? S3ObjectStore)?.endpoint, "https://minio.example:9000")
    }

    func testHTTPLocationsAreDownloadOnly() throws {
        let resolver = try stores(#"{"type": "local"}"#)
        let url = "http://127.0.0.1:8000/data.tar"
        let download = try XCTUnwrap(resolver.resolve("data", artifact(url: url)))
        XCTAssertEqual(download.kind, .http)
        XCTAssertEqual(download.key, url)
        XCTAssertTrue(download.store is HTTPObjectSource)
        // The mapping points at the downloaded file, named by the URL's last segment; a keyed one is a tar.
        let experiment = Experiment(key: "K", filename: "x.py", timeAdded: 0,
                                    artifacts: [("data", artifact(url: url)), ("keyed", artifact(key: "blobstore/x.tar", url: url))])
        let set = ArtifactSet(experiment: experiment, layout: RunLayout(home: "/h", key: "K"),
                              storage: LocalObjectStore(root: "/nonexistent"), storageConfig: StoreConfig(json: [:]), compression: nil)
        XCTAssertEqual(set.localPath("data", artifact(url: url)), "/h/experiments/K/data/data.tar")
        XCTAssertEqual(set.localPath("keyed", artifact(key: "blobstore/x.tar", url: url)), "/h/experiments/K/keyed")
        XCTAssertThrowsError(try resolver.resolve("results", artifact(mutable: true, url: url))) { error in
            XCTAssertTrue("\(error)".contains("http(s) artifacts are download-only"), "\(error)")
            XCTAssertTrue("\(error)".contains("results"), "\(error)")
        }
    }

    func testAnUnknownSchemeNamesTheTagAndTheValue() throws {
        let resolver = try stores(#"{"type": "local"}"#)
        XCTAssertThrowsError(try resolver.resolve("weights", artifact(qualified: "ftp://host/w.tar"))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("weights") && text.contains("ftp://host/w.tar"), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
        XCTAssertThrowsError(try resolver.resolve("weights", artifact(mutable: true, url: "ftp://host/w.tar")))
    }

    func testTheBlobCacheKeysHTTPDownloadsByTheirURL() throws {
        let resolver = try stores(#"{"type": "local"}"#)
        let one = try XCTUnwrap(resolver.resolve("a", artifact(url: "http://one.example/data.tar")))
        let two = try XCTUnwrap(resolver.resolve("b", artifact(url: "http://two.example/data.tar")))
        XCTAssertNotEqual(ArtifactSet.cacheName(one), ArtifactSet.cacheName(two))
        XCTAssertTrue(ArtifactSet.cacheName(one).hasPrefix("url-"))
        let blob = "blobstore/" + String(repeating: "ab", count: 32) + ".tar"
        let stored = try XCTUnwrap(resolver.resolve("workspace", artifact(key: blob)))
        XCTAssertEqual(ArtifactSet.cacheName(stored), String(repeating: "ab", count: 32) + ".tar")
        let mine = try XCTUnwrap(resolver.resolve("w", artifact(key: "experiments/A/workspace.tar")))
        let theirs = try XCTUnwrap(resolver.resolve("w", artifact(key: "experiments/B/workspace.tar")))
        XCTAssertNotEqual(ArtifactSet.cacheName(mine), ArtifactSet.cacheName(theirs))
    }
}
