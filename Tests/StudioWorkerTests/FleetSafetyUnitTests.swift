#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioHTTP
import StudioModel
import StudioQueues
import StudioStorage
@testable import StudioWorker
import XCTest

/// The pieces that decide a message's fate and keep a long-running worker flat.
final class FleetSafetyUnitTests: XCTestCase {
    func testTransientAndPermanentFailures() {
        XCTAssertTrue(MessageFailure.isTransient(StorageError("S3 GET failed: HTTP 503", transient: true)))
        XCTAssertFalse(MessageFailure.isTransient(StorageError("S3 GET failed: AccessDenied (HTTP 403)")))
        XCTAssertTrue(MessageFailure.isTransient(HTTPTransportError("connection refused")))
        XCTAssertFalse(MessageFailure.isTransient(WorkerError("database.type nosuchdb is not supported")))
        XCTAssertTrue(MessageFailure("cannot read", StorageError("x", transient: true)).isTransient)
        XCTAssertEqual(MessageFailure("cannot read", WorkerError("boom")).description, "cannot read: boom")
    }

    func testRedeliveryDelayDoublesUpToTenMinutes() {
        XCTAssertEqual((1...7).map { RedeliveryDelay.seconds(base: 15, afterDelivery: $0) }, [15, 30, 60, 120, 240, 480, 600])
        XCTAssertEqual(RedeliveryDelay.seconds(base: 1, afterDelivery: 1000), 600)
        XCTAssertEqual(RedeliveryDelay.seconds(base: 0, afterDelivery: 1), 1, "never at once")
    }

    func testDeliveryCounterTakesTheLargerCountAndStaysBounded() {
        let counter = DeliveryCounter(capacity: 2)
        XCTAssertEqual(counter.record("a", reported: 1), 1)
        XCTAssertEqual(counter.record("a", reported: 1), 2, "a queue that reports nothing: our own count")
        XCTAssertEqual(counter.record("a", reported: 7), 7, "the queue's count when it is larger")
        XCTAssertEqual(counter.record("a", reported: 1), 8)
        counter.forget("a")
        XCTAssertEqual(counter.record("a", reported: 1), 1)
        _ = counter.record("b", reported: 1)
        _ = counter.record("c", reported: 1)
        XCTAssertEqual(counter.record("a", reported: 1), 1, "the oldest entry was evicted")
    }

    func testRedactionRemovesCredentialsEnvValuesAndURLPasswords() throws {
        let message = try JSONValue(parsing: """
            {"experiment": {"key": "k", "artifacts": {"workspace": {"credentials": {"aws": {"access_key": "AK", "secret_access_key": "SK"}}}}},
             "config": {"env": {"HF_TOKEN": "hf_secret", "PLAIN": "also hidden"}, "database": {"type": "s3", "bucket": "b",
                        "credentials": {"aws": {"secret_access_key": "SK2"}}},
                        "cloud": {"queue": {"rmq": "amqps://u:pw@host:5671/vh"}}, "password": "p"}}
            """)
        let text = SecretRedaction.redact(message).serialized(.compact)
        for secret in ["\"AK\"", "SK", "hf_secret", "also hidden", ":pw@", "\"p\""] { XCTAssertFalse(text.contains(secret), "\(secret) in \(text)") }
        XCTAssertTrue(text.contains("\"bucket\":\"b\""), text)
        XCTAssertTrue(text.contains("amqps://u:<redacted>@host:5671/vh"), text)
        XCTAssertTrue(text.contains("\"HF_TOKEN\":\"<redacted>\""), text)
        XCTAssertEqual(SecretRedaction.redactURLPassword("https://host/a:b@c"), "https://host/a:b@c", "an @ in the path is no password")
    }

    func testRejectedFilesArePrivateAndTheOldestGoFirst() throws {
        let home = NSTemporaryDirectory() + "rejected-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: home) }
        let rejected = RejectedMessages(home: home, limit: 2)
        for index in 0..<3 {
            let message = QueueMessageStandIn.make(id: "m\(index)", body: "not json \(index)")
            _ = try rejected.keep(message, queue: "local", reason: "why \(index)", deliveries: 1)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: home + "/rejected").sorted()
        XCTAssertEqual(names, ["m1.json", "m2.json"])
        var status = stat()
        XCTAssertEqual(stat(home + "/rejected/m2.json", &status), 0)
        XCTAssertEqual(status.st_mode & 0o777, 0o600)
        let kept = try JSONValue(parsing: try Data(contentsOf: URL(fileURLWithPath: home + "/rejected/m2.json")))
        XCTAssertEqual(kept.value(at: ["reason"])?.stringValue, "why 2")
        XCTAssertEqual(kept.value(at: ["message_text"])?.stringValue, "not json 2")
    }

    func testBlobCacheTrimsTheLeastRecentlyUsed() throws {
        let directory = NSTemporaryDirectory() + "blobcache-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (index, name) in ["old", "used", "new"].enumerated() {
            _ = FileManager.default.createFile(atPath: directory + "/" + name, contents: Data(count: 1000))
            var times = [timespec(tv_sec: 1_000_000 + index, tv_nsec: 0), timespec(tv_sec: 1_000_000 + index, tv_nsec: 0)]
            XCTAssertEqual(utimensat(AT_FDCWD, directory + "/" + name, &times, 0), 0)
        }
        BlobCache.touch(directory + "/used")
        BlobCache(directory: directory).trim(to: 2000)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).sorted(), ["new", "used"])
        BlobCache(directory: directory).trim(to: 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [])
    }

    /// With `--parallel`, one slot trims while another unpacks: a blob being used is never removed.
    func testBlobCacheNeverTrimsABlobInUse() async throws {
        let directory = NSTemporaryDirectory() + "blobcache-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in ["busy", "idle"] { _ = FileManager.default.createFile(atPath: directory + "/" + name, contents: Data(count: 1000)) }
        try await BlobCache.whilePinned(directory + "/busy") {
            try await BlobCache.whilePinned(directory + "/busy") { BlobCache(directory: directory).trim(to: 0) }
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["busy"], "still pinned by its first user")
        }
        BlobCache(directory: directory).trim(to: 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [], "trimmed once nobody uses it")
    }

    func testHousekeepingKeepsTheNewestRunsAndRemovesReadOnlyTrees() throws {
        let home = NSTemporaryDirectory() + "runs-\(UUID().uuidString)"
        defer { _ = RunHousekeeping.removeTree(home) }
        let housekeeping = RunHousekeeping(keepRuns: 1, cacheBytes: 1 << 30)
        for key in ["a", "b"] {
            let layout = RunLayout(home: home, key: key)
            try layout.prepare()
            try FileManager.default.createDirectory(atPath: layout.workspace + "/locked", withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: layout.workspace + "/locked/file", contents: Data("x".utf8))
            chmod(layout.workspace + "/locked", 0o500)
            housekeeping.settled(layout, log: WorkerLog(level: .error))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: home + "/experiments"), ["b"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: home + "/artifact_mappings"), ["b"])
    }

    func testCancellableSleepLastsItsDurationOrEndsAtCancellation() async {
        let clock = ContinuousClock()
        let full = await clock.measure { await CancellableSleep.sleep(for: .milliseconds(200)) }
        XCTAssertGreaterThanOrEqual(full, .milliseconds(200))
        let sleeper = Task { await clock.measure { await CancellableSleep.sleep(for: .seconds(60)) } }
        try? await Task.sleep(for: .milliseconds(50))
        sleeper.cancel()
        let cancelled = await sleeper.value
        XCTAssertLessThan(cancelled, .seconds(5), "a cancelled sleep did not end")
        let already = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await clock.measure { await CancellableSleep.sleep(for: .seconds(60)) }
        }
        let early = await already.value
        XCTAssertLessThan(early, .seconds(5), "a sleep started cancelled did not end at once")
    }

    func testACancelledWaitOnTheStopSwitchEndsAndIsForgotten() async {
        let stop = StopSwitch()
        for _ in 0..<100 {
            let waiter = Task { await stop.wait() }
            waiter.cancel()
            let reason = await waiter.value
            XCTAssertNil(reason)
        }
        XCTAssertEqual(stop.waiterCount, 0, "cancelled waiters were kept")
        let waiter = Task { await stop.wait() }
        while stop.waiterCount == 0 { await Task.yield() }
        stop.trip(.stopRequested)
        let reason = await waiter.value
        XCTAssertEqual(reason, .stopRequested)
    }
}

enum QueueMessageStandIn {
    static func make(id: String, body: String) -> QueueMessage {
        QueueMessage(id: id, body: Data(body.utf8), receipt: "r-" + id)
    }
}
