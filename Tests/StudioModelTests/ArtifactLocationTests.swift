import XCTest
@testable import StudioModel

final class ArtifactLocationTests: XCTestCase {
    func testQualifiedNamesFromTheWireFormat() throws {
        let cases: [(String, ArtifactLocation)] = [
            ("s3://127.0.0.1:5125/studioml-artifacts/blobstore/3df8.tar",
             .s3(host: "127.0.0.1:5125", bucket: "studioml-artifacts", key: "blobstore/3df8.tar")),
            ("s3://s3.amazonaws.com/bucket/experiments/k/modeldir.tar",
             .s3(host: "s3.amazonaws.com", bucket: "bucket", key: "experiments/k/modeldir.tar")),
            ("s3://mybucket/some/deep/key.tar", .s3(host: nil, bucket: "mybucket", key: "some/deep/key.tar")),
            ("s3://minio:9000/b/k", .s3(host: "minio:9000", bucket: "b", key: "k")),
            // Not `.com` and no port: StudioML's rule reads the host as the bucket.
            ("s3://s3.example.org/b/k", .s3(host: nil, bucket: "s3.example.org", key: "b/k")),
            ("gs://bucket/path/to/obj.tar", .gcs(bucket: "bucket", key: "path/to/obj.tar")),
            ("https://example.com/data.tgz", .http(url: "https://example.com/data.tgz")),
            ("http://10.0.0.1:8080/x", .http(url: "http://10.0.0.1:8080/x")),
            ("file://home/u/.studioml/storage/blobstore/x.tar", .file(path: "/home/u/.studioml/storage/blobstore/x.tar")),
            ("file:/tmp/x", .file(path: "/tmp/x")),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try ArtifactLocation(parsing: text), expected, text)
        }
    }

    func testQualifiedNameRoundTrips() throws {
        for text in ["s3://127.0.0.1:5125/b/k/x.tar", "s3://b/k", "gs://b/k", "https://h/p"] {
            XCTAssertEqual(try ArtifactLocation(parsing: text).qualifiedName, text)
        }
    }

    func testInvalidNamesAreRejected() {
        for text in ["s3://", "s3://host:9000", "s3://host.com/", "gs://", "ftp://x/y", "relative/path", ""] {
            XCTAssertThrowsError(try ArtifactLocation(parsing: text), text) { error in
                XCTAssertEqual((error as? ModelError)?.kind, .invalidArtifactLocation)
            }
        }
    }
}
