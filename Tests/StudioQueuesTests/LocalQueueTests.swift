#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
@testable import StudioQueues
import XCTest

final class LocalQueueTests: XCTestCase {
    var home: TemporaryHome!

    override func setUpWithError() throws { home = try TemporaryHome() }
    override func tearDown() { home.remove() }

    func testSendReceiveAcknowledge() async throws {
        let queue = try LocalQueue(name: "local", home: home.path)
        XCTAssertEqual(queue.directory, home.path + "/queue/local")
        try await queue.send(body("{\"experiment\": {\"key\": \"k1\"}}"))

        let readyFiles = try directoryNames(queue.directory).filter { !$0.hasPrefix(".") }
        XCTAssertEqual(readyFiles.count, 1)
        XCTAssertEqual(try directoryNames(queue.directory + "/.tmp"), [], "the temp file is renamed away")

        let message = try await queue.receive(lease: 30, wait: 0)
        XCTAssertEqual(text(message?.body), "{\"experiment\": {\"key\": \"k1\"}}")
        XCTAssertEqual(message?.deliveryAttempt, 1)
        XCTAssertEqual(message.map { $0.id + ".json" }, readyFiles.first, "the id is the sent file's stem")
        let counts = try await queue.counts()
        XCTAssertEqual(counts, QueueCounts(ready: 0, leased: 1))

        try await queue.acknowledge(try XCTUnwrap(message))
        let nothing = try await queue.receive(lease: 30, wait: 0)
        XCTAssertNil(nothing)
        let afterAck = try await queue.counts()
        XCTAssertEqual(afterAck.total, 0)
        XCTAssertEqual(try directoryNames(queue.directory + "/.leased"), [])
    }

    func testReceivesInSendOrder() async throws {
        let queue = try LocalQueue(name: "local-fifo", home: home.path)
        for index in 0..<20 { try await queue.send(body("m\(index)")) }
        var received: [String] = []
        while let message = try await queue.receive(lease: 30, wait: 0) {
            received.append(text(message.body) ?? "")
            try await queue.acknowledge(message)
        }
        XCTAssertEqual(received, (0..<20).map { "m\($0)" })
    }

    func testReceiveOnEmptyQueueWaitsThenReturnsNil() async throws {
        let queue = try LocalQueue(name: "local", home: home.path)
        let start = ContinuousClock.now
        let message = try await queue.receive(lease: 30, wait: 1)
        let elapsed = secondsSince(start)
        XCTAssertNil(message)
        XCTAssertGreaterThanOrEqual(elapsed, 0.95)
        XCTAssertLessThan(elapsed, 3)

        let immediate = ContinuousClock.now
        let none = try await queue.receive(lease: 30, wait: 0)
        XCTAssertNil(none)
        XCTAssertLessThan(secondsSince(immediate), 0.5)
    }

    func testWaitingReceiveWakesWhenAMessageIsSent() async throws {
        let queue = try LocalQueue(name: "local", home: home.path)
        let start = ContinuousClock.now
        let receiver = Task { try await queue.receive(lease: 30, wait: 20) }
        try await Task.sleep(nanoseconds: 300_000_000)
        try await queue.send(body("late"))
        let message = try await receiver.value
        XCTAssertEqual(text(message?.body), "late")
        XCTAssertLessThan(secondsSince(start), 5, "the receive returned on the send, not at the end of its wait")
    }

    func testCancellingAWaitingReceiveEndsItPromptly() async throws {
        let queue = try LocalQueue(name: "local", home: home.path)
        let start = ContinuousClock.now
        let receiver = Task { try await queue.receive(lease: 30, wait: 20) }
        try await Task.sleep(nanoseconds: 200_000_000)
        receiver.cancel()
        do {
            _ = try await receiver.value
            XCTFail("a cancelled receive should throw CancellationError")
        } catch is CancellationError {}
        XCTAssertLessThan(secondsSince(start), 5)
    }

    func testSeveralWaitingReceiversDoNotStarveTheSender() async throws {
        // More waiters than cooperative threads: waits must not hold those threads.
        let queue = try LocalQueue(name: "local", home: home.path)
        let start = ContinuousClock.now
        let receivers = (0..<8).map { _ in Task { try await queue.receive(lease: 30, wait: 20) } }
        try await Task.sleep(nanoseconds: 200_000_000)
        for index in 0..<8 { try await queue.send(body("w\(index)")) }
        var bodies: [String] = []
        for receiver in receivers { bodies.append(text(try await receiver.value?.body) ?? "nil") }
        XCTAssertEqual(bodies.sorted(), (0..<8).map { "w\($0)" })
        XCTAssertLessThan(secondsSince(start), 10)
    }

    func testReleaseMakesTheMessageReceivableAtOnce() async throws {
        let queue = try LocalQueue(name: "local", home: home.path)
        try await queue.send(body("again"))
        let first = try await received(queue.receive(lease: 300, wait: 0))
        try await queue.release(first)
        let second = try await received(queue.receive(lease: 300, wait: 0))
        XCTAssertEqual(second.id, first.id)
        XCTAssertEqual(second.deliveryAttempt, 2)
        XCTAssertNotEqual(second.receipt, first.receipt)
        XCTAssertEqual(text(second.body), "again")
        await assertQueueError(.leaseLost) { try await queue.acknowledge(first) }
        try await queue.acknowledge(second)
    }

    func testFileCopiedInByCpIsReceived() async throws {
        let queue = try LocalQueue(name: "local", home: home.path)
        let source = home.path + "/message.json"
        try writeFile(source, Array("{\"experiment\": {\"key\": \"from-cp\"}}".utf8))
        XCTAssertEqual(try runProcess(["/bin/cp", source, queue.directory + "/job-1.json"]), 0)

        let message = try await received(queue.receive(lease: 30, wait: 10))
        XCTAssertEqual(message.id, "job-1")
        XCTAssertEqual(text(message.body), "{\"experiment\": {\"key\": \"from-cp\"}}")
        try await queue.acknowledge(message)
    }

    func testFileMovedInWhileWaitingIsReceived() async throws {
        let queue = try LocalQueue(name: "local", home: home.path)
        let source = home.path + "/moved.json"
        try writeFile(source, Array("{}".utf8))
        let receiver = Task { try await queue.receive(lease: 30, wait: 20) }
        try await Task.sleep(nanoseconds: 200_000_000)
        XCTAssertEqual(try runProcess(["/bin/mv", source, queue.directory + "/moved.json"]), 0)
        let message = try await receiver.value
        XCTAssertEqual(message?.id, "moved")
        XCTAssertEqual(text(message?.body), "{}")
    }

    func testBodyIsDeliveredWhateverItContains() async throws {
        let queue = try LocalQueue(name: "local", home: home.path)
        let bytes: [UInt8] = [0xff, 0xfe, 0x00, 0x41, 0xc3]
        try writeFile(queue.directory + "/binary.json", bytes)
        let message = try await received(queue.receive(lease: 30, wait: 10))
        XCTAssertEqual(Array(message.body), bytes)
        try await queue.send(Data())
        let empty = try await received(queue.receive(lease: 30, wait: 0))
        XCTAssertEqual(empty.body, Data())
    }

    func testHiddenTemporaryAndNonJSONFilesAreIgnored() async throws {
        let queue = try LocalQueue(name: "local", home: home.path)
        try writeFile(queue.directory + "/.hidden.json", Array("{}".utf8))
        try writeFile(queue.directory + "/notes.txt", Array("{}".utf8))
        try writeFile(queue.directory + "/half.json.tmp", Array("{}".utf8))
        try writeFile(queue.directory + "/.tmp/orphan.json.tmp", Array("{}".utf8))
        try FileManager.default.createDirectory(atPath: queue.directory + "/folder.json", withIntermediateDirectories: false)
        let message = try await queue.receive(lease: 30, wait: 1)
        XCTAssertNil(message)
        XCTAssertTrue(FileManager.default.fileExists(atPath: queue.directory + "/notes.txt"))
    }

    func testBadQueueNamesAreRefused() async throws {
        for name in ["local/x", "local/../x", "local..", "../local", "sqs_jobs", "local x", "local\u{0}", "", "locál",
                     "local" + String(repeating: "a", count: 300)] {
            await assertQueueError(.unusable) { try LocalQueue(name: name, home: home.path) }
        }
        XCTAssertEqual(try directoryNames(home.path), [], "a refused name creates nothing")
        XCTAssertNoThrow(try LocalQueue(name: "local_gpu-2.a", home: home.path))
    }

    func testLocalQueueNameSelection() {
        XCTAssertTrue(isLocalQueueName("local"))
        XCTAssertTrue(isLocalQueueName("local-gpu"))
        XCTAssertFalse(isLocalQueueName("sqs_local"))
        XCTAssertFalse(isLocalQueueName("my-topic"))
    }

    func testHomeResolution() {
        XCTAssertEqual(LocalQueue.home(environment: ["STUDIOML_HOME": "/srv/studio", "HOME": "/home/u"]), "/srv/studio")
        XCTAssertEqual(LocalQueue.home(environment: ["STUDIOML_HOME": "", "HOME": "/home/u"]), "/home/u/.studioml")
        XCTAssertTrue(LocalQueue.home(environment: [:]).hasSuffix("/.studioml"))
    }

    func testQueueFromEnvironmentLivesUnderStudioHome() async throws {
        let queue = try LocalQueue(name: "local", environment: ["STUDIOML_HOME": home.path + "/studio/"])
        XCTAssertEqual(queue.directory, home.path + "/studio/queue/local")
        try await queue.send(body("x"))
        let counts = try await queue.counts()
        XCTAssertEqual(counts, QueueCounts(ready: 1, leased: 0))
    }
}
