#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
@testable import StudioQueues
import XCTest

final class LocalQueueClaimsTests: XCTestCase {
    var home: TemporaryHome!

    override func setUpWithError() throws { home = try TemporaryHome() }
    override func tearDown() { home.remove() }

    func testExpiredLeaseIsRedeliveredWithTheSameIdAndNextAttempt() async throws {
        let queue = try LocalQueue(name: "local", home: home.path)
        try await queue.send(body("job"))
        let start = ContinuousClock.now
        let first = try await received(queue.receive(lease: 1, wait: 0))
        XCTAssertEqual(first.deliveryAttempt, 1)
        let hidden = try await queue.receive(lease: 30, wait: 0)
        XCTAssertNil(hidden, "a leased message is invisible")

        // The waiting receive must wake by itself when the lease ends: nothing else touches the queue.
        let second = try await received(queue.receive(lease: 1, wait: 10))
        XCTAssertGreaterThanOrEqual(secondsSince(start), 0.9)
        XCTAssertLessThan(secondsSince(start), 4)
        XCTAssertEqual(second.id, first.id)
        XCTAssertEqual(second.deliveryAttempt, 2)
        XCTAssertEqual(text(second.body), "job")

        let third = try await received(queue.receive(lease: 30, wait: 10))
        XCTAssertEqual(third.id, first.id)
        XCTAssertEqual(third.deliveryAttempt, 3, "the count survives several redeliveries")

        await assertQueueError(.leaseLost) { try await queue.acknowledge(first) }
        await assertQueueError(.leaseLost) { try await queue.extendLease(second, seconds: 60) }
        await assertQueueError(.leaseLost) { try await queue.release(second) }
        try await queue.acknowledge(third)
        let counts = try await queue.counts()
        XCTAssertEqual(counts.total, 0)
    }

    func testExtendLeaseKeepsTheMessageInvisiblePastTheFirstDeadline() async throws {
        let queue = try LocalQueue(name: "local", home: home.path)
        try await queue.send(body("long job"))
        let message = try await received(queue.receive(lease: 1, wait: 0))
        try await queue.extendLease(message, seconds: 4)
        // Waits 2 s: past the original 1 s deadline, before the extended one.
        let other = try await queue.receive(lease: 30, wait: 2)
        XCTAssertNil(other)
        let counts = try await queue.counts()
        XCTAssertEqual(counts, QueueCounts(ready: 0, leased: 1))
        try await queue.extendLease(message, seconds: 60)
        try await queue.acknowledge(message)
        let empty = try await queue.counts()
        XCTAssertEqual(empty.total, 0)
    }

    func testExtendLeaseByZeroReleases() async throws {
        let queue = try LocalQueue(name: "local", home: home.path)
        try await queue.send(body("nack"))
        let message = try await received(queue.receive(lease: 60, wait: 0))
        try await queue.extendLease(message, seconds: 0)
        let again = try await queue.receive(lease: 60, wait: 0)
        XCTAssertEqual(again?.id, message.id)
        XCTAssertEqual(again?.deliveryAttempt, 2)
    }

    func testForeignReceiptIsRefused() async throws {
        let queue = try LocalQueue(name: "local", home: home.path)
        let forged = QueueMessage(id: "x", body: Data(), receipt: "../../etc/passwd")
        await assertQueueError(.leaseLost) { try await queue.acknowledge(forged) }
        let unknown = QueueMessage(id: "x", body: Data(), receipt: String(repeating: "a", count: 32))
        await assertQueueError(.leaseLost) { try await queue.extendLease(unknown, seconds: 10) }
    }

    func testMessageOfACrashedClaimerComesBackAfterItsLease() async throws {
        // The claimer "dies": its instance is gone and it never acknowledges.
        do {
            let crashed = try LocalQueue(name: "local", home: home.path)
            try await crashed.send(body("survivor"))
            _ = try await received(crashed.receive(lease: 1, wait: 0))
        }
        let worker = try LocalQueue(name: "local", home: home.path)
        let counts = try await worker.counts()
        XCTAssertEqual(counts, QueueCounts(ready: 0, leased: 1))
        let message = try await received(worker.receive(lease: 30, wait: 10))
        XCTAssertEqual(text(message.body), "survivor")
        XCTAssertEqual(message.deliveryAttempt, 2)
    }

    func testLeaseLeftOnDiskByAnEarlierRunIsRecovered() async throws {
        // A leased file as a process killed with -9 long ago would have left it.
        let queue = try LocalQueue(name: "local", home: home.path)
        let receipt = String(repeating: "0123456789abcdef", count: 2)
        let name = "\(receipt).1000.3.old-job.json"
        try writeFile(queue.directory + "/.leased/" + name, Array("{\"k\": 1}".utf8))
        let message = try await received(queue.receive(lease: 30, wait: 0))
        XCTAssertEqual(message.id, "old-job")
        XCTAssertEqual(message.deliveryAttempt, 4)
        XCTAssertEqual(text(message.body), "{\"k\": 1}")
    }

    func testSameFileDroppedTwiceKeepsBothMessages() async throws {
        let queue = try LocalQueue(name: "local", home: home.path)
        let source = home.path + "/job.json"
        try writeFile(source, Array("one".utf8))
        XCTAssertEqual(try runProcess(["/bin/cp", source, queue.directory + "/job.json"]), 0)
        let first = try await received(queue.receive(lease: 60, wait: 10))
        try writeFile(source, Array("two".utf8))
        XCTAssertEqual(try runProcess(["/bin/cp", source, queue.directory + "/job.json"]), 0)
        let second = try await received(queue.receive(lease: 60, wait: 10))
        try await queue.release(first)
        try await queue.release(second)
        var bodies: [String] = []
        while let message = try await queue.receive(lease: 60, wait: 0) {
            XCTAssertEqual(message.id, "job")
            XCTAssertEqual(message.deliveryAttempt, 2)
            bodies.append(text(message.body) ?? "")
        }
        XCTAssertEqual(bodies.sorted(), ["one", "two"])
    }

    func testConcurrentReceiversTakeEachMessageExactlyOnce() async throws {
        let total = 200
        let shared = try LocalQueue(name: "local-drain", home: home.path)
        for index in 0..<total { try await shared.send(body("m\(index)")) }
        let seen = Locked<[String: Int]>([:])

        // Four tasks on one instance, and two instances of their own on detached tasks, as separate
        // workers would be.
        let queues = [shared, shared, shared, shared,
                      try LocalQueue(name: "local-drain", home: home.path),
                      try LocalQueue(name: "local-drain", home: home.path)]
        try await withThrowingTaskGroup(of: Int.self) { group in
            for queue in queues {
                group.addTask {
                    var taken = 0
                    while let message = try await queue.receive(lease: 60, wait: 0) {
                        seen.withLock { $0[text(message.body) ?? "", default: 0] += 1 }
                        try await queue.acknowledge(message)
                        taken += 1
                    }
                    return taken
                }
            }
            var sum = 0
            for try await taken in group { sum += taken }
            XCTAssertEqual(sum, total)
        }
        let counts = seen.withLock { $0 }
        XCTAssertEqual(counts.count, total, "no message lost")
        XCTAssertEqual(counts.values.filter { $0 != 1 }.count, 0, "no message received twice")
        let left = try await shared.counts()
        XCTAssertEqual(left.total, 0)
    }

    func testConcurrentReceiversOnThreadsRecoverExpiredLeasesOnce() async throws {
        // Every message's first lease runs out; receivers race to return and retake them.
        let queue = try LocalQueue(name: "local", home: home.path)
        for index in 0..<20 { try await queue.send(body("e\(index)")) }
        var abandoned: [QueueMessage] = []
        while let message = try await queue.receive(lease: 1, wait: 0) { abandoned.append(message) }
        XCTAssertEqual(abandoned.count, 20)

        let seen = Locked<[String: [Int]]>([:])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                let worker = try LocalQueue(name: "local", home: home.path)
                group.addTask {
                    while let message = try await worker.receive(lease: 60, wait: 3) {
                        seen.withLock { $0[message.id, default: []].append(message.deliveryAttempt) }
                        try await worker.acknowledge(message)
                    }
                }
            }
            try await group.waitForAll()
        }
        let attempts = seen.withLock { $0 }
        XCTAssertEqual(Set(attempts.keys), Set(abandoned.map(\.id)))
        XCTAssertTrue(attempts.values.allSatisfy { $0 == [2] }, "\(attempts)")
    }
}
