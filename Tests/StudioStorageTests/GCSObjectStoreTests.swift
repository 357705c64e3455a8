#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioHTTP
import XCTest
@testable import StudioStorage

/// gcp-storage-emulator (through `scripts/gcs-emulator.py`) on a loopback port, killed when the test ends.
final class GCSEmulator {
    let host: String

    init(for testCase: XCTestCase, directory: String) async throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/gcs-emulator.py").path
        let portFile = directory + "/gcs-port"
        let arguments = ["/usr/bin/env", "python3", script, "--port-file", portFile]
        let cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, directory + "/gcs.log", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        guard posix_spawn(&pid, arguments[0], &actions, nil, cArguments, environ) == 0 else {
            throw XCTSkip("cannot start python3")
        }
        testCase.addTeardownBlock {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        let deadline = Date().addingTimeInterval(30)
        var found: String?
        while found == nil {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw XCTSkip("gcp-storage-emulator is not available: pip install gcp-storage-emulator")
            }
            guard Date() < deadline else { throw XCTSkip("gcp-storage-emulator did not start within 30 s") }
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) {
                let spec = HTTPRequestSpec(method: "GET", url: "http://127.0.0.1:\(port)/storage/v1/b")
                if (try? await HTTPTransport.shared.send(spec, timeout: .seconds(2)))?.isSuccess == true { found = "127.0.0.1:\(port)" }
            }
            if found == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        host = found!
    }
}

final class GCSObjectStoreTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.path + "/studio-gcs-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        addTeardownBlock { [directory] in try? FileManager.default.removeItem(atPath: directory!) }
    }

    func store(_ emulator: GCSEmulator, bucket: String = "studio-test", chunk: Int64 = 8 << 20) throws -> GCSObjectStore {
        let base = try GCSObjectStore(bucket: bucket, environment: ["STORAGE_EMULATOR_HOST": "http://" + emulator.host])
        return try GCSObjectStore(bucket: bucket, client: base.client, project: "p", simpleUploadLimit: chunk, chunkSize: chunk)
    }

    func testPutGetExistsDeleteAndBucketCreation() async throws {
        let emulator = try await GCSEmulator(for: self, directory: directory)
        let store = try store(emulator)
        let missing = try await store.get("experiments/none")
        XCTAssertNil(missing)
        try await store.put("experiments/k 1", Data("record".utf8))  // creates the bucket first
        let record = try await store.get("experiments/k 1")
        XCTAssertEqual(record.map { String(decoding: $0, as: UTF8.self) }, "record")
        let present = try await store.exists("experiments/k 1"), absent = try await store.exists("experiments/k")
        XCTAssertTrue(present)
        XCTAssertFalse(absent)
        try await store.delete("experiments/k 1")
        try await store.delete("experiments/k 1")  // deleting a missing key is fine
        let gone = try await store.exists("experiments/k 1")
        XCTAssertFalse(gone)
    }

    func testListsByPrefixInByteOrder() async throws {
        let emulator = try await GCSEmulator(for: self, directory: directory)
        let store = try store(emulator)
        for key in ["experiments/b", "experiments/a/output.tar", "experiments/a", "blobstore/x.tar"] {
            try await store.put(key, Data(key.utf8))
        }
        let experiments = try await store.list(prefix: "experiments/")
        XCTAssertEqual(experiments, ["experiments/a", "experiments/a/output.tar", "experiments/b"])
        let all = try await store.list(prefix: "")
        XCTAssertEqual(all.count, 4)
    }

    func testListingGivesSizesGenerationsAndStartsAfterAKey() async throws {
        let emulator = try await GCSEmulator(for: self, directory: directory)
        let store = try store(emulator)
        try await assertListingStartsAfterAKey(store)
        try await assertRangedReads(store)
        let first = try await store.listObjects(prefix: "p/a")
        XCTAssertEqual(first.first?.size, 3)
        XCTAssertNotNil(first.first?.version, "GCS listings carry the generation")
        try await store.put("p/a", Data("p/a".utf8)) // the same bytes, written again: a new generation
        let second = try await store.listObjects(prefix: "p/a")
        XCTAssertNotEqual(second.first?.version, first.first?.version)
    }

    func testLargeFilesGoUpInResumableChunksAndStreamBack() async throws {
        let emulator = try await GCSEmulator(for: self, directory: directory)
        let store = try store(emulator, chunk: 256 << 10)  // 256 KiB chunks: a 700 KB file takes three
        let source = directory + "/big.bin", copy = directory + "/copy.bin"
        var bytes = [UInt8](repeating: 0, count: 700_001)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 8) }
        XCTAssertTrue(FileManager.default.createFile(atPath: source, contents: Data(bytes)))
        try await store.upload("blobstore/big.tar", fromFile: source)
        let downloaded = try await store.download("blobstore/big.tar", toFile: copy)
        XCTAssertTrue(downloaded)
        XCTAssertEqual(FileManager.default.contents(atPath: copy), Data(bytes))
        // A small file goes up in one request.
        try await store.upload("blobstore/small.tar", fromFile: copy.replacingOccurrences(of: "copy", with: "big"))
        let notThere = try await store.download("blobstore/none.tar", toFile: directory + "/none")
        XCTAssertFalse(notThere)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/none"))
    }

    func testPersistedRangeParsing() {
        XCTAssertEqual(GCSObjectStore.persistedEnd("bytes=0-262143"), 262_143)
        XCTAssertNil(GCSObjectStore.persistedEnd("garbage"))
        XCTAssertEqual(GCSObjectStore.pathAndQuery("http://h:1/upload/x?y=1"), "/upload/x?y=1")
    }
}
