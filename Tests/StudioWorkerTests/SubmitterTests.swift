#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioModel
import StudioQueues
import StudioStorage
@testable import StudioWorker
import Synchronization
import XCTest

/// What a submission leaves behind when it does not reach the queue: never a record saying `waiting` for a
/// message that does not exist.
final class SubmitterTests: XCTestCase {
    private var home = ""
    private var workspace = ""

    override func setUpWithError() throws {
        home = FileManager.default.temporaryDirectory.path + "/submitter-\(UUID().uuidString)"
        workspace = home + "/workspace"
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        try Data("print('hi')\n".utf8).write(to: URL(fileURLWithPath: workspace + "/train.py"))
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: home)
    }

    /// A queue that records what was sent, and runs `onPrepare` / `onSend` (which may throw) first.
    final class FakeQueue: JobQueue, @unchecked Sendable {
        let name = "fake"
        let sent = Mutex<[Data]>([])
        var onPrepare: @Sendable () throws -> Void = {}
        var onSend: @Sendable () throws -> Void = {}
        func prepare() async throws { try onPrepare() }
        func send(_ body: Data) async throws {
            try onSend()
            sent.withLock { $0.append(body) }
        }
        func receive(lease: Int, wait: Int) async throws -> QueueMessage? { nil }
        func extendLease(_ message: QueueMessage, seconds: Int) async throws {}
        func acknowledge(_ message: QueueMessage) async throws {}
        func release(_ message: QueueMessage) async throws {}
    }

    private func submitter() throws -> Submitter {
        Submitter(config: try StudioConfig(json: .object([:])), home: home, log: WorkerLog(level: .error))
    }

    private var store: LocalObjectStore { LocalObjectStore(root: home + "/store") }

    private func submission(_ key: String) -> Submission {
        var submission = Submission(script: "train.py", workspace: workspace)
        submission.experimentName = key
        submission.project = "proj"
        return submission
    }

    /// The record keeps the config it was submitted with for the web UI, without a secret in it.
    func testTheRecordKeepsTheConfigWithoutSecrets() async throws {
        let config = try StudioConfig(json: JSONValue(parsing: Data("""
            {"env": {"HF_TOKEN": "hf_secret_value"}, "database": {"type": "local", "credentials": {"aws": {"secret_access_key": "SK_VALUE"}}},
             "cloud": {"queue": {"rmq": "amqp://user:pw_value@broker:5672/%2f"}}, "saveWorkspaceFrequency": "3m"}
            """.utf8)))
        let submitter = Submitter(config: config, home: home, log: WorkerLog(level: .error))
        let queue = FakeQueue()
        _ = try await submitter.submit(submission("k-config"), to: queue)
        let read = try await store.get("experiments/k-config")
        let stored = try XCTUnwrap(read)
        let record = try Experiment(parsing: stored)
        // (Artifact entries carry the storage's credentials: StudioML's format, which its workers need; wire-format.md §10.)
        let text = JSONValue.object(try XCTUnwrap(record.redactedConfig)).serialized(.compact)
        for secret in ["hf_secret_value", "SK_VALUE", "pw_value"] { XCTAssertFalse(text.contains(secret), "\(secret) in \(text)") }
        XCTAssertEqual(record.redactedConfig?["saveWorkspaceFrequency"], .string("3m"))
        XCTAssertEqual(record.redactedConfig?["env"]?["HF_TOKEN"], .string(SecretRedaction.marker))
        XCTAssertEqual(record.redactedConfig?["cloud"]?["queue"]?["rmq"], .string("amqp://user:<redacted>@broker:5672/%2f"))
        let sent = try XCTUnwrap(queue.sent.withLock { $0.first })
        XCTAssertTrue(String(decoding: sent, as: UTF8.self).contains("hf_secret_value"), "the message still carries the config the worker needs")
    }

    func testAFailedSendRemovesTheRecordAndItsIndexKeys() async throws {
        let queue = FakeQueue()
        queue.onSend = { throw QueueError(.unusable, "refused") }
        do {
            _ = try await submitter().submit(submission("k-failed"), to: queue)
            XCTFail("expected the send's error")
        } catch let error as QueueError {
            XCTAssertEqual(error.description, "refused")
        }
        let record = try await store.get("experiments/k-failed")
        XCTAssertNil(record, "a record says waiting for a message that was never sent")
        let index = try await store.list(prefix: "users/")
        XCTAssertEqual(index, [])
        let project = try await store.list(prefix: "projects/")
        XCTAssertEqual(project, [])
        // The content-addressed workspace blob stays: harmless, and reused by the next submission.
        let blobs = try await store.list(prefix: "blobstore/")
        XCTAssertEqual(blobs.count, 1)
    }

    func testASignalBeforeTheMessageIsSentStopsTheSubmissionWithNothingStored() async throws {
        let queue = FakeQueue()
        let interruption = SubmissionInterruption()
        queue.onPrepare = { XCTAssertTrue(interruption.interrupt(by: SIGINT)) }
        let submitter = try submitter(), submission = submission("k-interrupted")
        do {
            _ = try await interruption.run { try await submitter.submit(submission, to: queue, interruption: interruption) }
            XCTFail("expected an interruption")
        } catch let error as SubmissionInterrupted {
            XCTAssertEqual(error.exitCode, 130)
            XCTAssertEqual(error.description, "interrupted by SIGINT before the experiment was queued: nothing was submitted")
        }
        XCTAssertEqual(queue.sent.withLock { $0.count }, 0)
        let stored = try await store.list(prefix: "")
        XCTAssertEqual(stored, [], "nothing packed, uploaded or recorded")
    }

    func testASignalWhileTheMessageIsBeingSentLetsTheSubmissionFinish() async throws {
        let queue = FakeQueue()
        let interruption = SubmissionInterruption()
        queue.onSend = { XCTAssertFalse(interruption.interrupt(by: SIGTERM), "past the point of no return") }
        let submitter = try submitter(), submission = submission("k-sent")
        let key = try await interruption.run { try await submitter.submit(submission, to: queue, interruption: interruption) }
        XCTAssertEqual(key, "k-sent")
        XCTAssertEqual(queue.sent.withLock { $0.count }, 1)
        XCTAssertEqual(interruption.signal, SIGTERM, "noted")
        let record = try await RecordBook(store: store).read("k-sent")
        XCTAssertEqual(record?.status, .waiting)

        // studio run without --queue then withdraws it: its private queue goes, so its record and index keys go.
        await submitter.withdraw("k-sent", project: "proj")
        let left = try await store.list(prefix: "")
        XCTAssertEqual(left.filter { !$0.hasPrefix("blobstore/") && !$0.hasPrefix(ChangeMark.prefix) }, [])
        XCTAssertTrue(left.contains { ChangeMark(objectKey: $0)?.experiment == "k-sent" }, "a change mark tells a watching UI")
    }
}
