#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioCredentials
import StudioHTTP
import StudioModel
import StudioStorage
import XCTest

final class S3ObjectStoreTests: XCTestCase {
    override class func tearDown() {
        SharedMoto.stop()
        super.tearDown()
    }

    private var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.path + "/s3-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let directory = self.directory
        addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
    }

    private func makeStore(endpoint: String? = nil, multipartThreshold: Int64 = 64 << 20) throws -> S3ObjectStore {
        let moto = try SharedMoto.get()
        let chain = try AWSCredentialChain(environment: moto.environment)
        return S3ObjectStore(bucket: "studio-test-\(UInt32.random(in: 0...UInt32.max))", endpoint: endpoint ?? moto.endpoint,
                             chain: chain, multipartThreshold: multipartThreshold, partSize: 5 << 20,
                             retry: RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50)))
    }

    func testPutGetExistsDeleteCreatingTheMissingBucket() async throws {
        let store = try makeStore()
        let missing = try await store.get("experiments/none")
        XCTAssertNil(missing)
        try await store.put("experiments/k1", Data(#"{"status": "waiting"}"#.utf8))
        let read = try await store.get("experiments/k1")
        XCTAssertEqual(read.map { String(decoding: $0, as: UTF8.self) }, #"{"status": "waiting"}"#)
        let exists = try await store.exists("experiments/k1")
        XCTAssertTrue(exists)
        try await store.delete("experiments/k1")
        let gone = try await store.exists("experiments/k1")
        XCTAssertFalse(gone)
        try await store.delete("experiments/k1")
    }

    /// Reads of a bucket that does not exist find nothing (and create nothing); the first upload
    /// creates it, as StudioML's client does.
    func testReadsOfAMissingBucketFindNothingAndAnUploadCreatesIt() async throws {
        let store = try makeStore()
        let listed = try await store.list(prefix: "experiments/")
        XCTAssertEqual(listed, [])
        let downloaded = try await store.download("experiments/none.tar", toFile: directory + "/none.tar")
        XCTAssertFalse(downloaded)
        let file = directory + "/artifact.tar"
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data("tar bytes".utf8)))
        try await store.upload("experiments/k/output.tar", fromFile: file)
        let after = try await store.list(prefix: "experiments/")
        XCTAssertEqual(after, ["experiments/k/output.tar"])
    }

    func testKeysWithSpecialCharactersRoundTrip() async throws {
        let store = try makeStore()
        let key = "projects/my project/ü+=&?/owner"
        try await store.put(key, Data("\"guest\"".utf8))
        let read = try await store.get(key)
        XCTAssertEqual(read, Data("\"guest\"".utf8))
        let listed = try await store.list(prefix: "projects/")
        XCTAssertEqual(listed, [key])
    }

    func testListFollowsContinuationTokens() async throws {
        let store = try makeStore()
        // More than one ListObjectsV2 page (1000 keys) would be slow; moto honours max-keys only via the query,
        // so this checks ordering and prefix filtering, and the paging loop with whatever page size the server uses.
        for index in [3, 1, 2] { try await store.put("experiments/k\(index)", Data("\(index)".utf8)) }
        try await store.put("users/guest/experiments/k1", Data("1".utf8))
        let listed = try await store.list(prefix: "experiments/")
        XCTAssertEqual(listed, ["experiments/k1", "experiments/k2", "experiments/k3"])
        let none = try await store.list(prefix: "nothing/")
        XCTAssertEqual(none, [])
        let detailed = try await store.listObjects(prefix: "experiments/k1")
        XCTAssertEqual(detailed.map(\.key), ["experiments/k1"])
        XCTAssertEqual(detailed.first?.size, 1)
        XCTAssertNotNil(detailed.first?.version, "S3 listings carry the ETag")
        try await store.put("experiments/k1", Data("changed".utf8))
        let rewritten = try await store.listObjects(prefix: "experiments/k1")
        XCTAssertNotEqual(rewritten.first?.version, detailed.first?.version)
        try await store.put("experiments/k1/output.tar", Data("tar".utf8))
        let records = try await store.listObjects(prefix: "experiments/", recursive: false)
        XCTAssertEqual(records.map(\.key), ["experiments/k1", "experiments/k2", "experiments/k3"], "delimiter=/ leaves nested keys out")
    }

    func testListingStartsAfterAKey() async throws {
        try await assertListingStartsAfterAKey(try makeStore())
    }

    func testRangedReads() async throws {
        try await assertRangedReads(try makeStore())
    }

    func testUploadAndDownloadFiles() async throws {
        let store = try makeStore()
        let source = directory + "/small.tar"
        let bytes = (0..<100_000).map { UInt8($0 % 251) }
        XCTAssertTrue(FileManager.default.createFile(atPath: source, contents: Data(bytes)))
        try await store.upload("blobstore/abc.tar", fromFile: source)
        let target = directory + "/back.tar"
        let found = try await store.download("blobstore/abc.tar", toFile: target)
        XCTAssertTrue(found)
        XCTAssertEqual(FileManager.default.contents(atPath: target), Data(bytes))
        let absent = try await store.download("blobstore/none.tar", toFile: directory + "/none")
        XCTAssertFalse(absent)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/none"))
    }

    func testMultipartUploadOfSeventyMebibytes() async throws {
        let store = try makeStore()
        let source = directory + "/big.bin"
        let size = 70 << 20
        let fd = open(source, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        var block = [UInt8](repeating: 0, count: 1 << 20)
        for index in 0..<(size >> 20) {
            for offset in stride(from: 0, to: block.count, by: 4096) { block[offset] = UInt8(index & 0xFF) }
            XCTAssertEqual(block.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }, block.count)
        }
        close(fd)
        try await store.upload("experiments/k/modeldir.tar", fromFile: source)
        let target = directory + "/big.back"
        let found = try await store.download("experiments/k/modeldir.tar", toFile: target)
        XCTAssertTrue(found)
        var status = stat()
        XCTAssertEqual(stat(target, &status), 0)
        XCTAssertEqual(Int(status.st_size), size)
        XCTAssertEqual(try digest(of: target), try digest(of: source))
        let listed = try await store.list(prefix: "experiments/k/")
        XCTAssertEqual(listed, ["experiments/k/modeldir.tar"])
    }

    func testAFailedMultipartUploadIsAbortedAndReported() async throws {
        let store = try makeStore(multipartThreshold: 1)
        let source = directory + "/vanishing.bin"
        XCTAssertTrue(FileManager.default.createFile(atPath: source, contents: Data(count: 6 << 20)))
        // Truncate the file between the size check and the part upload: the part stream ends early.
        let upload = Task { try await store.upload("broken", fromFile: source) }
        truncate(source, 0)
        do {
            try await upload.value
            // The race may let the upload read the whole file before truncation; then it must have succeeded whole.
            let exists = try await store.exists("broken")
            XCTAssertTrue(exists)
        } catch {
            let exists = try await store.exists("broken")
            XCTAssertFalse(exists, "a failed upload leaves no object")
        }
    }

    /// A multipart upload whose task is cancelled (studio run interrupted while uploading) is still aborted,
    /// so S3 frees the parts it stored instead of keeping (and billing) them.
    func testACancelledMultipartUploadIsAborted() async throws {
        let moto = try SharedMoto.get()
        let proxy = try FaultProxy(target: moto.endpoint, directory: directory)
        defer { proxy.stop() }
        let store = try makeStore(endpoint: proxy.endpoint, multipartThreshold: 1)
        try await store.ensureBucket()
        let source = directory + "/parts.bin"
        XCTAssertTrue(FileManager.default.createFile(atPath: source, contents: Data(count: 12 << 20)))
        // Every part upload (PUT) is held at the proxy, so the upload is surely in flight when it is cancelled.
        try await proxy.hold(method: "PUT", seconds: 30)
        let before = try await proxy.requestsSeen()
        let upload = Task { try await store.upload("cancelled", fromFile: source) }
        let deadline = ContinuousClock.now + .seconds(20)
        var seen = before
        while seen < before + 2, ContinuousClock.now < deadline {  // CreateMultipartUpload, then the first part
            try await Task.sleep(for: .milliseconds(20))
            seen = try await proxy.requestsSeen()
        }
        XCTAssertGreaterThanOrEqual(seen, before + 2, "the first part never reached the proxy")
        upload.cancel()
        do {
            try await upload.value
            XCTFail("the cancelled upload completed")
        } catch {}
        let listing = try runProcess(["python3", "-c", """
            import boto3, sys
            s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1',
                              aws_access_key_id='testing', aws_secret_access_key='testing')
            print(len(s3.list_multipart_uploads(Bucket=sys.argv[2]).get('Uploads', [])))
            """, moto.endpoint, store.bucket])
        XCTAssertEqual(listing.status, 0, listing.output)
        XCTAssertEqual(listing.output.trimmingCharacters(in: .whitespacesAndNewlines), "0", "the upload was left open, its parts kept")
    }

    func testServerErrorsAreRetried() async throws {
        let moto = try SharedMoto.get()
        let proxy = try FaultProxy(target: moto.endpoint, directory: directory)
        defer { proxy.stop() }
        let store = try makeStore(endpoint: proxy.endpoint)
        try await store.ensureBucket()
        try await proxy.arm("n=2&status=503")
        try await store.put("retried", Data("ok".utf8))
        let read = try await store.get("retried")
        XCTAssertEqual(read, Data("ok".utf8))
    }

    func testErrorsCarryTheS3CodeAndMessage() async throws {
        let moto = try SharedMoto.get()
        let chain = try AWSCredentialChain(environment: moto.environment)
        let store = S3ObjectStore(bucket: "never-created-\(UInt32.random(in: 0...UInt32.max))", endpoint: moto.endpoint,
                                  chain: chain, createsBucket: false)
        do {
            try await store.put("k", Data("x".utf8))
            XCTFail("expected NoSuchBucket")
        } catch {
            XCTAssertTrue("\(error)".contains("NoSuchBucket"), "\(error)")
        }
    }

    func testConfigSectionSelectsEndpointBucketAndCredentials() async throws {
        let moto = try SharedMoto.get()
        let section = StoreConfig(json: [
            "type": "s3", "endpoint": .string(moto.endpoint), "bucket": "studio-config-bucket",
            "credentials": ["aws": ["access_key": "AKIACONFIGKEY0001", "secret_access_key": "s", "region": "eu-west-1"]],
        ])
        let store = try S3ObjectStore(config: section, role: "database", environment: ["AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"])
        XCTAssertEqual(store.bucket, "studio-config-bucket")
        XCTAssertEqual(store.endpoint, moto.endpoint)
        // eu-west-1: the bucket is created with a LocationConstraint.
        try await store.put("experiments/x", Data("{}".utf8))
        let read = try await store.get("experiments/x")
        XCTAssertEqual(read, Data("{}".utf8))
    }

    func testConfigWithoutBucketOrCredentialsIsRefused() {
        XCTAssertThrowsError(try S3ObjectStore(config: StoreConfig(json: ["type": "s3"]), role: "storage", environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("storage.bucket"), "\(error)")
        }
        XCTAssertThrowsError(try S3ObjectStore(config: StoreConfig(json: ["type": "s3", "bucket": "b"]), role: "storage",
                                               environment: ["AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"])) { error in
            XCTAssertTrue("\(error)".contains("no AWS credentials found"), "\(error)")
        }
    }

    func testEndpointSelection() {
        XCTAssertEqual(S3ObjectStore.endpoint(configured: nil, region: "eu-west-1", environment: [:]), "https://s3.eu-west-1.amazonaws.com")
        XCTAssertEqual(S3ObjectStore.endpoint(configured: "127.0.0.1:9000", region: "x", environment: [:]), "https://127.0.0.1:9000")
        XCTAssertEqual(S3ObjectStore.endpoint(configured: nil, region: "x", environment: [
            "AWS_ENDPOINT_URL": "http://a:1", "AWS_ENDPOINT_URL_S3": "http://b:2"]), "http://b:2")
    }

    private func digest(of path: String) throws -> String {
        // Compare through a streaming digest of the file so the test itself stays in bounded memory.
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw StorageError("cannot open \(path)") }
        defer { close(fd) }
        var hasher = FNV()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            hasher.add(buffer[0..<count])
        }
        return String(hasher.value, radix: 16)
    }
}

/// FNV-1a, 64-bit: enough to compare two files in a test.
private struct FNV {
    var value: UInt64 = 0xcbf29ce484222325
    mutating func add(_ bytes: ArraySlice<UInt8>) {
        for byte in bytes { value = (value ^ UInt64(byte)) &* 0x100000001b3 }
    }
}
