#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import XCTest
@testable import StudioStorage

final class LocalObjectStoreTests: XCTestCase {
    private var scratch: Scratch!
    private var store: LocalObjectStore!

    override func setUpWithError() throws {
        scratch = try Scratch()
        store = LocalObjectStore(root: scratch.at("store"))
    }

    override func tearDown() { scratch.remove() }

    func testPutGetExistsDelete() async throws {
        let missing = try await store.get("experiments/none")
        XCTAssertNil(missing)
        let existsBefore = try await store.exists("experiments/k1")
        XCTAssertFalse(existsBefore)
        try await store.put("experiments/k1", Data("{\"key\":\"k1\"}".utf8))
        let read = try await store.get("experiments/k1")
        XCTAssertEqual(read, Data("{\"key\":\"k1\"}".utf8))
        let existsAfter = try await store.exists("experiments/k1")
        XCTAssertTrue(existsAfter)
        try await store.put("experiments/k1", Data("v2".utf8))
        let overwritten = try await store.get("experiments/k1")
        XCTAssertEqual(overwritten, Data("v2".utf8))
        try await store.delete("experiments/k1")
        try await store.delete("experiments/k1")  // deleting a missing key is fine
        let existsDeleted = try await store.exists("experiments/k1")
        XCTAssertFalse(existsDeleted)
        try await store.put("empty", Data())
        let empty = try await store.get("empty")
        XCTAssertEqual(empty, Data())
    }

    func testRecordKeyAndTagArchiveUnderItCoexist() async throws {
        try await store.put("experiments/K", Data("record".utf8))
        try await store.put("experiments/K/output.tar", Data("tar".utf8))
        try await store.put("experiments/K%obj", Data("percent".utf8))  // would collide with a naive suffix scheme
        let record = try await store.get("experiments/K")
        let tar = try await store.get("experiments/K/output.tar")
        let percent = try await store.get("experiments/K%obj")
        XCTAssertEqual(record, Data("record".utf8))
        XCTAssertEqual(tar, Data("tar".utf8))
        XCTAssertEqual(percent, Data("percent".utf8))
        let keys = try await store.list(prefix: "experiments/")
        XCTAssertEqual(keys, ["experiments/K", "experiments/K%obj", "experiments/K/output.tar"])
    }

    func testBadKeysAreRefused() async throws {
        for key in ["", "/etc/passwd", "a/../b", "../x", "a//b", "a/", "./a", "a/./b", "a\u{0}b"] {
            do {
                try await store.put(key, Data("x".utf8))
                XCTFail("key '\(key)' was accepted")
            } catch {
                XCTAssertTrue("\(error)".contains("key"), "\(error)")
            }
        }
        XCTAssertFalse(fileExists(scratch.at("x")))
        XCTAssertFalse(fileExists(scratch.at("b%obj")))
    }

    func testWritesAreAtomicAndLeaveNoTemporaryFiles() async throws {
        // A failing upload (the source vanishes) leaves the old object and no partial file.
        try await store.put("blobstore/abc.tar", Data("old".utf8))
        do {
            try await store.upload("blobstore/abc.tar", fromFile: scratch.at("does-not-exist"))
            XCTFail("upload of a missing file succeeded")
        } catch {}
        let current = try await store.get("blobstore/abc.tar")
        XCTAssertEqual(current, Data("old".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.at("store/blobstore")), ["abc.tar%obj"])

        // Readers racing a writer only ever see a complete old or new object.
        let big = Data(patternBytes(1 << 20, seed: 7))
        let small = Data("small".utf8)
        try await store.put("race", small)
        let store = self.store!
        let writer = Task.detached {
            for round in 0..<30 { try await store.put("race", round % 2 == 0 ? big : small) }
        }
        var reads = 0
        while reads < 200 {
            let seen = try await store.get("race")
            XCTAssertTrue(seen == big || seen == small, "a partial object was visible (\(seen?.count ?? -1) bytes)")
            reads += 1
        }
        try await writer.value
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.at("store")).sorted(), ["blobstore", "race%obj"])
    }

    func testUploadAndDownloadTwentyMebibytes() async throws {
        let source = scratch.at("big.bin"), copy = scratch.at("down/big.bin")
        let bytes = patternBytes(20 << 20, seed: 3)
        try writeBytes(source, bytes)
        try await store.upload("blobstore/big.tar", fromFile: source)
        let found = try await store.download("blobstore/big.tar", toFile: copy)
        XCTAssertTrue(found)
        XCTAssertEqual(try readBytes(copy), bytes)
        let missing = try await store.download("blobstore/none.tar", toFile: scratch.at("none"))
        XCTAssertFalse(missing)
        XCTAssertFalse(fileExists(scratch.at("none")))
    }

    func testListByPrefix() async throws {
        for key in ["experiments/1_a", "experiments/1_a/output.tar", "experiments/2_b", "users/guest/experiments/1_a", "blobstore/x.tar"] {
            try await store.put(key, Data(key.utf8))
        }
        let all = try await store.list(prefix: "")
        XCTAssertEqual(all, ["blobstore/x.tar", "experiments/1_a", "experiments/1_a/output.tar", "experiments/2_b", "users/guest/experiments/1_a"])
        let ones = try await store.list(prefix: "experiments/1")
        XCTAssertEqual(ones, ["experiments/1_a", "experiments/1_a/output.tar"])
        let users = try await store.list(prefix: "users/guest/")
        XCTAssertEqual(users, ["users/guest/experiments/1_a"])
        let none = try await store.list(prefix: "nothing/here")
        XCTAssertEqual(none, [])
    }

    func testListingStartsAfterAKey() async throws {
        try await assertListingStartsAfterAKey(store)
    }

    func testRangedReads() async throws {
        try await assertRangedReads(store)
    }

    func testListObjectsGivesSizesAndVersionsThatChangeOnRewrite() async throws {
        try await store.put("experiments/a", Data("one".utf8))
        try await store.put("experiments/b", Data("two".utf8))
        let first = try await store.listObjects(prefix: "experiments/")
        XCTAssertEqual(first.map(\.key), ["experiments/a", "experiments/b"])
        XCTAssertEqual(first.map(\.size), [3, 3])
        try await store.put("experiments/a", Data("one".utf8)) // same bytes, rewritten: a new file
        let second = try await store.listObjects(prefix: "experiments/")
        XCTAssertNotEqual(second[0].version, first[0].version, "a rewrite must show")
        XCTAssertEqual(second[1].version, first[1].version, "an untouched object keeps its version")
        XCTAssertNotNil(second[1].version)

        try await store.put("experiments/a/output.tar", Data("tar".utf8))
        try await store.put("experiments/a%b", Data("odd".utf8))
        let records = try await store.listObjects(prefix: "experiments/", recursive: false)
        XCTAssertEqual(records.map(\.key), ["experiments/a", "experiments/a%b", "experiments/b"], "nested artifacts are not records")
        let everything = try await store.listObjects(prefix: "experiments/")
        XCTAssertEqual(records.map(\.version), everything.filter { $0.key != "experiments/a/output.tar" }.map(\.version))
        let narrowed = try await store.listObjects(prefix: "experiments/a", recursive: false)
        XCTAssertEqual(narrowed.map(\.key), ["experiments/a", "experiments/a%b"])
        let missing = try await store.listObjects(prefix: "nothing/", recursive: false)
        XCTAssertEqual(missing, [])
    }
}
