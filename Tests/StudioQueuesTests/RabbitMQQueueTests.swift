#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AMQP091
import StudioQueues
import XCTest

/// `RabbitMQQueue` against a real rabbitmq-server on loopback (consumer_timeout 10 s): StudioML's wire
/// details, the holding-queue leases, release, the errors that make a worker exit 42, a broker restart.
final class RabbitMQQueueTests: XCTestCase {
    private var server: RabbitMQServer!

    override func setUpWithError() throws {
        server = try SharedRabbitMQ.get()
    }

    override class func tearDown() {
        SharedRabbitMQ.stop()
        super.tearDown()
    }

    private func queue(_ name: String = "rmq_t\(UInt32.random(in: 0...UInt32.max))", persistent: Bool = false,
                       url: String? = nil) throws -> RabbitMQQueue {
        try RabbitMQQueue(name: name, url: try AMQPURL(parsing: url ?? server.url()), persistent: persistent)
    }

    /// A raw client on the broker, to look at what the queue left there.
    private func inspect<T>(_ body: (AMQPChannel) async throws -> T) async throws -> T {
        let connection = try await AMQPConnection.connect(try AMQPURL(parsing: server.url()))
        defer { Task { await connection.close() } }
        return try await body(try await connection.openChannel())
    }

    private func depth(_ name: String) async throws -> UInt32 {
        try await inspect { try await $0.declareQueue(AMQPQueueDeclaration(name: name, passive: true)).messages }
    }

    func testPublishesAsStudioMLDoesAndReceivesWithAHoldingQueue() async throws {
        let queue = try queue(persistent: true)
        try await queue.send(body(#"{"experiment":{"key":"k1"},"config":{}}"#))
        // What StudioML's pika client would see: exchange, routing key, properties.
        let raw = try await inspect { channel in try await channel.get(queue.name) }
        let delivery = try XCTUnwrap(raw)
        XCTAssertEqual(delivery.exchange, "StudioML.topic")
        XCTAssertEqual(delivery.routingKey, "StudioML.\(queue.name)")
        XCTAssertEqual(delivery.message.properties.appID, "studioml")
        XCTAssertEqual(delivery.message.properties.contentType, "application/json")
        XCTAssertEqual(delivery.message.properties.deliveryMode, 2)
        // (The inspecting connection closed without acking: the message is back.)
        let message = try received(try await queue.receive(lease: 30, wait: 5))
        XCTAssertEqual(text(message.body), #"{"experiment":{"key":"k1"},"config":{}}"#)
        XCTAssertTrue(message.receipt.hasPrefix(queue.name + ".lease."))
        let work = try await depth(queue.name)
        let held = try await depth(message.receipt)
        XCTAssertEqual(work, 0)
        XCTAssertEqual(held, 1)
        try await queue.acknowledge(message)
        let afterAck = try await queue.receive(lease: 30, wait: 1)
        XCTAssertNil(afterAck)
        await queue.close()
    }

    func testALeaseThatRunsOutBringsTheMessageBackAndExtendingKeepsIt() async throws {
        let queue = try queue()
        try await queue.send(body("m"))
        let first = try received(try await queue.receive(lease: 2, wait: 5))
        for _ in 0..<4 {
            try await Task.sleep(for: .seconds(1))
            try await queue.extendLease(first, seconds: 2)
        }
        let whileExtended = try await depth(queue.name)
        XCTAssertEqual(whileExtended, 0, "a lease kept extended holds the message")
        // No more extensions: the TTL runs out and the message is dead-lettered back to the work queue.
        let second = try received(try await queue.receive(lease: 30, wait: 10))
        XCTAssertEqual(text(second.body), "m")
        XCTAssertEqual(second.deliveryAttempt, 2)
        await assertQueueError(.leaseLost) { try await queue.extendLease(first, seconds: 2) }
        try await queue.acknowledge(second)
        await queue.close()
    }

    func testReleaseHandsTheMessageBackAtOnce() async throws {
        let queue = try queue()
        try await queue.send(body("r"))
        let message = try received(try await queue.receive(lease: 600, wait: 5))
        try await queue.release(message)
        let again = try received(try await queue.receive(lease: 600, wait: 2))
        XCTAssertEqual(text(again.body), "r")
        try await queue.acknowledge(again)
        await queue.close()
    }

    func testAMessageOutlastsTheBrokersConsumerTimeout() async throws {
        let queue = try queue()
        try await queue.send(body("long"))
        // Control: the broker does enforce its timeout on a delivery held unacknowledged.
        let control = try await AMQPConnection.connect(try AMQPURL(parsing: server.url()))
        let channel = try await control.openChannel()
        try await queue.send(body("held raw"))
        let message = try received(try await queue.receive(lease: 4, wait: 5))
        let rawDelivery = try await channel.get(queue.name)
        XCTAssertNotNil(rawDelivery)
        let deadline = ContinuousClock.now + .seconds(3 * RabbitMQServer.consumerTimeoutSeconds)
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .seconds(1))
            try await queue.extendLease(message, seconds: 4)
        }
        XCTAssertFalse(channel.isOpen, "the broker closed the channel that held a delivery past consumer_timeout")
        await control.close()
        // Ours was never redelivered: only the raw one came back.
        let other = try received(try await queue.receive(lease: 30, wait: 5))
        XCTAssertEqual(text(other.body), "held raw")
        try await queue.acknowledge(other)
        try await queue.acknowledge(message)
        let none = try await queue.receive(lease: 30, wait: 1)
        XCTAssertNil(none)
        await queue.close()
    }

    func testRefusedLoginIsUnusableAndKeepsThePasswordOut() async throws {
        let queue = try queue(url: server.url(user: "nobody", password: "s3cret-pw"))
        do {
            try await queue.prepare()
            XCTFail("a refused login must fail")
        } catch let error as QueueError {
            XCTAssertEqual(error.code, .unusable, "\(error)")
            XCTAssertTrue(error.description.contains("refused the login"), "\(error)")
            XCTAssertFalse(error.description.contains("s3cret-pw"), "\(error)")
        }
    }

    func testMissingVhostIsUnusable() async throws {
        let queue = try queue(url: server.url(vhost: "no-such-vhost"))
        await assertQueueError(.unusable) { try await queue.prepare() }
    }

    func testMissingPermissionIsUnusable() async throws {
        let user = "reader\(UInt32.random(in: 0...UInt32.max))"
        try server.addUser(user, password: "pw", vhost: "/", configure: "^$", write: "^$", read: ".*")
        let queue = try queue(url: server.url(user: user, password: "pw"))
        await assertQueueError(.unusable) { try await queue.prepare() }
    }

    func testExchangeDeclaredWithOtherFlagsIsUnusable() async throws {
        let vhost = "flags\(UInt32.random(in: 0...UInt32.max))"
        try server.ctl(["add_vhost", vhost])
        try server.ctl(["set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"])
        let connection = try await AMQPConnection.connect(try AMQPURL(parsing: server.url(vhost: vhost)))
        try await connection.openChannel().declareExchange(AMQPExchangeDeclaration(name: "StudioML.topic", type: "topic", durable: false))
        await connection.close()
        let queue = try queue(url: server.url(vhost: vhost))
        do {
            try await queue.send(body("x"))
            XCTFail("a 406 must fail")
        } catch let error as QueueError {
            XCTAssertEqual(error.code, .unusable, "\(error)")
            XCTAssertTrue(error.description.contains("406"), "\(error)")
        }
    }

    func testABrokerRestartMidLeaseIsRiddenOut() async throws {
        let own = try RabbitMQServer()
        defer { own.remove() }
        let queue = try RabbitMQQueue(name: "rmq_restart", url: try AMQPURL(parsing: own.url()), persistent: true)
        try await queue.send(body("survivor"))
        let message = try received(try await queue.receive(lease: 120, wait: 5))
        try own.restart()
        // The first call after the restart may find the old connection dead: retried as the worker does.
        var extended = false
        for _ in 0..<20 where !extended {
            do { try await queue.extendLease(message, seconds: 120); extended = true } catch let error as QueueError where error.code == .transient {
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        XCTAssertTrue(extended)
        try await queue.acknowledge(message)
        let none = try await queue.receive(lease: 30, wait: 1)
        XCTAssertNil(none)
        await queue.close()
    }
}
