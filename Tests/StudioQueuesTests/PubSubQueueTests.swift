#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioHTTP
import StudioModel
import XCTest
@testable import StudioQueues

/// Fast retries so injected failures do not slow the tests.
let quickRetry = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(20), maxDelay: .milliseconds(100))

final class PubSubQueueTests: XCTestCase {
    func queue(_ fake: FakePubSub, _ name: String = "jobs") throws -> PubSubQueue {
        try PubSubQueue(name: name, environment: ["PUBSUB_EMULATOR_HOST": fake.host], retry: quickRetry)
    }

    func testSendReceiveAcknowledgeCreatesTopicAndSubscription() async throws {
        let fake = try FakePubSub(for: self)
        let queue = try queue(fake)
        try await queue.send(body(#"{"experiment": {"key": "k1"}}"#))
        let message = try received(try await queue.receive(lease: 30, wait: 10))
        XCTAssertEqual(text(message.body), #"{"experiment": {"key": "k1"}}"#)
        XCTAssertEqual(message.deliveryAttempt, 1)
        try await queue.acknowledge(message)
        let none = try await queue.receive(lease: 30, wait: 1)
        XCTAssertNil(none)
        let state = try await fake.state()
        let messages = try XCTUnwrap(state["subscriptions"]?["projects/studio-emulator/subscriptions/jobs_sub"]?.arrayValue)
        XCTAssertEqual(messages.count, 1)
        XCTAssertEqual(messages.first?["acked"], .bool(true))
        // A second queue object finds the topic and subscription there (409 is fine).
        let again = try self.queue(fake)
        try await again.send(body("second"))
        let second = try received(try await again.receive(lease: 30, wait: 10))
        XCTAssertEqual(text(second.body), "second")
    }

    func testASubscriptionOnATopicNotYetVisibleIsCreatedOnceItIs() async throws {
        let fake = try FakePubSub(for: self, arguments: ["--topic-propagation", "1.5"])
        let queue = try queue(fake, "fresh-topic")
        try await queue.send(body("first"))
        let message = try received(try await queue.receive(lease: 30, wait: 10))
        XCTAssertEqual(text(message.body), "first")
        let creations = try await fake.count("createSubscription")
        XCTAssertGreaterThan(creations, 1, "the first subscription PUT should have met the 404")
    }

    func testReleaseRedeliversAtOnceAndCountsDeliveryAttempts() async throws {
        let fake = try FakePubSub(for: self, arguments: ["--delivery-attempt"])
        let queue = try queue(fake)
        try await queue.send(body("m"))
        let first = try received(try await queue.receive(lease: 60, wait: 10))
        try await queue.release(first)
        let start = ContinuousClock.now
        let second = try received(try await queue.receive(lease: 60, wait: 10))
        XCTAssertLessThan(secondsSince(start), 3)
        XCTAssertEqual(second.id, first.id)
        XCTAssertNotEqual(second.receipt, first.receipt)
        XCTAssertEqual(second.deliveryAttempt, 2)
    }

    func testAnExpiredLeaseIsRedeliveredAndAnExtendedOneIsNot() async throws {
        let fake = try FakePubSub(for: self, arguments: ["--pull-hold", "0.5"])
        let queue = try queue(fake)
        try await queue.send(body("kept"))
        let kept = try received(try await queue.receive(lease: 2, wait: 10))
        // Extend every 0.6 s for 5 s (well past two 2-s deadlines): nobody else gets the message.
        let extender = Task {
            for _ in 0..<8 {
                try await Task.sleep(for: .milliseconds(600))
                try await queue.extendLease(kept, seconds: 2)
            }
        }
        let meanwhile = try await queue.receive(lease: 2, wait: 5)
        XCTAssertNil(meanwhile, "a message under an extended lease was delivered again")
        try await extender.value
        // Stop extending: after the deadline the message comes back.
        let back = try received(try await queue.receive(lease: 30, wait: 10))
        XCTAssertEqual(back.id, kept.id)
        try await queue.acknowledge(back)
    }

    func testExactlyOnceStaleAckIdIsALostLease() async throws {
        let fake = try FakePubSub(for: self, arguments: ["--pull-hold", "0.5"])
        let create = try await fake.put("projects/studio-emulator/topics/exactly-once", "{}")
        XCTAssertEqual(create, 200)
        let subscription = try await fake.put("projects/studio-emulator/subscriptions/exactly-once_sub",
                                              #"{"topic":"projects/studio-emulator/topics/exactly-once","ackDeadlineSeconds":10,"enableExactlyOnceDelivery":true}"#)
        XCTAssertEqual(subscription, 200)
        let queue = try queue(fake, "exactly-once")
        try await queue.send(body("once"))
        let first = try received(try await queue.receive(lease: 1, wait: 10))
        let second = try received(try await queue.receive(lease: 30, wait: 10))  // redelivered after 1 s
        XCTAssertEqual(second.id, first.id)
        await assertQueueError(.leaseLost) { try await queue.acknowledge(first) }
        await assertQueueError(.leaseLost) { try await queue.extendLease(first, seconds: 30) }
        try await queue.acknowledge(second)
    }

    func testThrottlingAndUnavailableAreRetried() async throws {
        let fake = try FakePubSub(for: self)
        let queue = try queue(fake)
        try await fake.fail(next: 2, status: 429, match: ":publish")
        try await queue.send(body("after 429"))
        try await fake.fail(next: 3, status: 503, match: ":pull")
        let message = try received(try await queue.receive(lease: 30, wait: 10))
        XCTAssertEqual(text(message.body), "after 429")
        let publishes = try await fake.count("publish"), pulls = try await fake.count("pull")
        XCTAssertEqual(publishes, 1)  // the 429s were answered before the fake counted the RPC
        XCTAssertGreaterThanOrEqual(pulls, 1)
        // Failures that outlast the retries are transient queue errors, not crashes.
        try await fake.fail(next: 50, status: 503, match: ":acknowledge")
        await assertQueueError(.transient) { try await queue.acknowledge(message) }
    }

    func testPullsThatKeepFailingEndTheWaitWithATransientError() async throws {
        let fake = try FakePubSub(for: self)
        let queue = try queue(fake)
        try await queue.send(body("later"))
        try await fake.fail(next: 1000, status: 503, match: ":pull")
        let start = ContinuousClock.now
        await assertQueueError(.transient) { try await queue.receive(lease: 30, wait: 2) }
        XCTAssertLessThan(secondsSince(start), 8)
        let pulls = try await fake.count("pull")
        XCTAssertEqual(pulls, 0)  // every pull was answered by the injected failure
    }

    func testAnEmptyQueueIsPolledWithoutABusyLoop() async throws {
        let fake = try FakePubSub(for: self, arguments: ["--pull-hold", "0"])  // answers {} at once
        let queue = try queue(fake)
        let start = ContinuousClock.now
        let none = try await queue.receive(lease: 30, wait: 3)
        XCTAssertNil(none)
        XCTAssertGreaterThanOrEqual(secondsSince(start), 2.9)
        let pulls = try await fake.count("pull")
        XCTAssertLessThanOrEqual(pulls, 6, "\(pulls) pulls in 3 s")
    }

    func testTheSelectorPicksPubSubForOtherNames() throws {
        setenv("PUBSUB_EMULATOR_HOST", "127.0.0.1:1", 1)
        defer { unsetenv("PUBSUB_EMULATOR_HOST") }
        let directory = FileManager.default.temporaryDirectory.path + "/studio-sel-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        XCTAssertTrue(try QueueSelector.open("my-jobs", home: directory) is PubSubQueue)
        XCTAssertTrue(try QueueSelector.open("local", home: directory) is LocalQueue)
        XCTAssertThrowsError(try QueueSelector.open("1bad", home: directory))
    }

    func testPullParsingAndExactlyOnceErrorClassification() throws {
        let queue = try PubSubQueue(name: "jobs", project: "p", client: .init(baseURL: "http://127.0.0.1:1", tokens: nil))
        let pull = #"{"receivedMessages":[{"ackId":"A1","message":{"data":"eyJrIjoxfQ","messageId":"42"},"deliveryAttempt":3}]}"#
        let message = try XCTUnwrap(try queue.parsePull(Array(pull.utf8)))
        XCTAssertEqual(message, QueueMessage(id: "42", body: body(#"{"k":1}"#), receipt: "A1", deliveryAttempt: 3))
        XCTAssertNil(try queue.parsePull(Array("{}".utf8)))
        let error = #"{"error":{"code":400,"status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","#
            + #""reason":"EXACTLY_ONCE_ACKID_FAILURE","metadata":{"A1":"PERMANENT_FAILURE_INVALID_ACK_ID","A2":"TRANSIENT_FAILURE_UNORDERED_ACK_ID"}}]}}"#
        XCTAssertEqual(PubSubErrors.ackIdFailure(Array(error.utf8), ackId: "A1"), .permanent("PERMANENT_FAILURE_INVALID_ACK_ID"))
        XCTAssertEqual(PubSubErrors.ackIdFailure(Array(error.utf8), ackId: "A2"), .transient)
        XCTAssertNil(PubSubErrors.ackIdFailure(Array(error.utf8), ackId: "A3"))
    }
}
