#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AMQP091
import StudioModel

/// A RabbitMQ queue (StudioML's `rmq_…` names), wire-compatible with StudioML 0.0.49: exchange
/// `StudioML.topic` (topic, durable, auto-delete), the queue named as given and bound with routing key
/// `StudioML.<name>`, durable and published persistent when `cloud.queue.persistent` is true.
///
/// A received message is not held as an unacknowledged delivery (RabbitMQ's `consumer_timeout` would take
/// it back after 30 minutes while its experiment still runs): it is moved, in one AMQP transaction, into a
/// holding queue of its own whose message TTL is the lease and whose dead-letter target is the work queue.
/// Extending the lease re-publishes it there with a fresh TTL; acknowledging deletes the holding queue;
/// a worker that dies stops refreshing, and the message goes back to the work queue when the TTL runs out
/// (docs/rabbitmq.md).
public final class RabbitMQQueue: JobQueue {
    public static let exchange = "StudioML.topic"
    /// The infix of holding-queue names: `<queue>.lease.<id>`.
    public static let holdingInfix = ".lease."

    public let name: String
    public let url: AMQPURL
    /// Whether the queue is durable and its messages persistent (`cloud.queue.persistent`).
    public let persistent: Bool
    let session: RabbitMQSession

    public var routingKey: String { "StudioML." + name }

    public init(name: String, url: AMQPURL, persistent: Bool, options: AMQPConnection.Options = AMQPConnection.Options()) throws {
        guard name.utf8.count + Self.holdingInfix.utf8.count + 36 <= 255 else {
            throw QueueError(.unusable, "RabbitMQ queue name \(name.prefix(60))… is too long (at most \(255 - 36 - Self.holdingInfix.utf8.count) bytes)")
        }
        self.name = name
        self.url = url
        self.persistent = persistent
        session = RabbitMQSession(url: url, queue: name, persistent: persistent, options: options)
    }

    /// The queue as a StudioML config describes it: URL from `cloud.queue.rmq`, else `AMQP_URL`, else
    /// `amqp://guest:guest@localhost:5672/%2F`; `cloud.queue.persistent` true or "true".
    public convenience init(name: String, config: JSONObject?, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let queueSection = config.flatMap { JSONValue.object($0).value(at: ["cloud", "queue"]) }
        let configured = queueSection?["rmq"]?.stringValue
        let text = [configured, environment["AMQP_URL"]].compactMap { $0 }.first { !$0.isEmpty } ?? AMQPURL.defaultURL
        let url: AMQPURL
        do {
            url = try AMQPURL(parsing: text)
        } catch {
            throw QueueError(.unusable, "RabbitMQ queue \(name): \(error)")
        }
        let flag = queueSection?["persistent"]
        let persistent = flag?.boolValue ?? (flag?.stringValue?.lowercased() == "true")
        try self.init(name: name, url: url, persistent: persistent)
    }

    public func send(_ body: Data) async throws {
        let properties = AMQPProperties(contentType: "application/json", deliveryMode: persistent ? 2 : nil, appID: "studioml")
        try await session.perform("publish to") { link in
            try await link.publisher.publish(exchange: Self.exchange, routingKey: routingKey, mandatory: true,
                                             message: AMQPMessage(properties: properties, body: Array(body)))
        }
    }

    public func prepare() async throws {
        try await session.perform("open") { _ in }
    }

    public func receive(lease: Int, wait: Int) async throws -> QueueMessage? {
        try await session.perform("receive from") { link in
            guard let delivery = try await link.takeOne(from: name, wait: wait) else { return nil }
            let holding = name + Self.holdingInfix + UUID().uuidString.lowercased()
            try await link.move(delivery, into: holding, lease: lease)
            let properties = delivery.message.properties
            return QueueMessage(id: properties.messageID ?? holding, body: Data(delivery.message.body), receipt: holding,
                                deliveryAttempt: Self.deliveryAttempt(delivery))
        }
    }

    public func extendLease(_ message: QueueMessage, seconds: Int) async throws {
        try await session.perform("extend the lease on") { link in
            let held: Bool
            do {
                held = try await link.refresh(message.receipt, lease: seconds)
            } catch let error as AMQPError where error.replyCode == 404 {
                throw QueueError(.leaseLost, "the holding queue of message \(message.id) is gone (\(error)); it may run again elsewhere")
            }
            guard held else {
                throw QueueError(.leaseLost, "the lease on message \(message.id) ran out: it went back to RabbitMQ queue \(name)")
            }
        }
    }

    public func acknowledge(_ message: QueueMessage) async throws {
        _ = try await session.perform("acknowledge on") { link in
            try await link.worker.deleteQueue(message.receipt)
        }
    }

    public func release(_ message: QueueMessage) async throws {
        try await session.perform("release on") { link in
            try await link.giveBack(message.receipt)
        }
    }

    /// Closes the connection (the holding queues and the messages in them stay).
    public func close() async {
        await session.close()
    }

    /// 1, plus one if the broker says it delivered the message before, plus one for each time a lease
    /// ran out (each dead-lettering from one of this queue's holding queues).
    static func deliveryAttempt(_ delivery: AMQPDelivery) -> Int {
        var attempt = delivery.redelivered ? 2 : 1
        if case .array(let deaths)? = delivery.message.properties.headers?["x-death"] {
            for case .table(let death) in deaths where death["queue"]?.text?.contains(holdingInfix) == true {
                attempt += Int(clamping: death["count"]?.integer ?? 0)
            }
        }
        return attempt
    }
}
