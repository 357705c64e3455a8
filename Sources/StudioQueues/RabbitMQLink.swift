#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AMQP091

/// One connection's channels for a `RabbitMQQueue`, with StudioML's topology declared: a publisher
/// channel with confirms, and a worker channel in transaction mode (prefetch 1) that takes deliveries
/// and moves them between the work queue and holding queues atomically (tx.commit).
struct RabbitMQLink: Sendable {
    let connection: AMQPConnection
    let publisher: AMQPChannel
    let worker: AMQPChannel
    let queue: String
    let persistent: Bool

    /// How long an empty, unused holding queue lives (x-expires): a safety net, far beyond any lease.
    static let holdingQueueExpiry: Int64 = 24 * 3600 * 1000

    var isUsable: Bool { connection.closeError == nil && publisher.isOpen && worker.isOpen }

    static func open(on connection: AMQPConnection, queue: String, persistent: Bool) async throws -> RabbitMQLink {
        let publisher = try await connection.openChannel()
        // StudioML's flags exactly (rabbit_queue.py): a broker refuses a redeclaration with other flags (406).
        try await publisher.declareExchange(AMQPExchangeDeclaration(name: RabbitMQQueue.exchange, type: "topic", durable: true, autoDelete: true))
        try await publisher.declareQueue(AMQPQueueDeclaration(name: queue, durable: persistent))
        try await publisher.bindQueue(queue, exchange: RabbitMQQueue.exchange, routingKey: "StudioML." + queue)
        try await publisher.confirmSelect()
        let worker = try await connection.openChannel()
        try await worker.qos(prefetchCount: 1)
        try await worker.txSelect()
        return RabbitMQLink(connection: connection, publisher: publisher, worker: worker, queue: queue, persistent: persistent)
    }

    /// One delivery from `source`, waiting up to `wait` seconds (a consumer with prefetch 1, cancelled once
    /// it has delivered or the wait is over; `wait` 0 is one basic.get). The delivery stays unacknowledged.
    func takeOne(from source: String, wait: Int) async throws -> AMQPDelivery? {
        if wait <= 0 { return try await worker.get(source) }
        let tag = "studio-" + UUID().uuidString.lowercased()
        let stream = try await worker.consume(source, tag: tag)
        let first = await Self.first(of: stream, within: wait)
        try await worker.cancel(consumerTag: tag)
        var taken = first
        // A delivery that crossed the cancel on the wire: keep it if we have none, else hand it back.
        for await late in stream {
            if taken == nil { taken = late } else { try worker.reject(late.deliveryTag, requeue: true) }
        }
        if Task.isCancelled, let delivery = taken {
            try worker.reject(delivery.deliveryTag, requeue: true)
            try await worker.txCommit()
            throw CancellationError()
        }
        return taken
    }

    private static func first(of stream: AsyncStream<AMQPDelivery>, within seconds: Int) async -> AMQPDelivery? {
        await withTaskGroup(of: AMQPDelivery?.self) { group in
            group.addTask {
                for await delivery in stream { return delivery }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let winner = await group.next() ?? nil
            group.cancelAll()
            // The loser may have taken a delivery in the same instant: it must not be dropped.
            var late: AMQPDelivery? = nil
            while let result = await group.next() { if let result { late = result } }
            return winner ?? late
        }
    }

    /// Moves a delivery into a new holding queue whose message TTL is the lease, in one transaction:
    /// either the copy is there and the delivery acknowledged, or neither.
    func move(_ delivery: AMQPDelivery, into holding: String, lease: Int) async throws {
        do {
            try await worker.declareQueue(AMQPQueueDeclaration(name: holding, durable: persistent, arguments: [
                "x-dead-letter-exchange": .string(""),
                "x-dead-letter-routing-key": .string(queue),
                "x-expires": .int64(Self.holdingQueueExpiry),
            ]))
            try await worker.publish(exchange: "", routingKey: holding, mandatory: true, message: copy(delivery.message, lease: lease))
            try worker.ack(delivery.deliveryTag)
            try await worker.txCommit()
        } catch {
            if worker.isOpen {
                try? await worker.txRollback()
                try? worker.reject(delivery.deliveryTag, requeue: true)
                try? await worker.txCommit()
                _ = try? await worker.deleteQueue(holding)
            }
            throw error
        }
    }

    /// Re-publishes the held message with a fresh TTL; false when the holding queue is empty (the lease
    /// ran out and the message went back to the work queue).
    func refresh(_ holding: String, lease: Int) async throws -> Bool {
        guard let held = try await worker.get(holding) else { return false }
        try await worker.publish(exchange: "", routingKey: holding, mandatory: true, message: copy(held.message, lease: lease))
        try worker.ack(held.deliveryTag)
        try await worker.txCommit()
        return true
    }

    /// Puts the held message back on the work queue at once, then deletes the holding queue.
    func giveBack(_ holding: String) async throws {
        if let held = try await worker.get(holding) {
            var message = held.message
            message.properties.expiration = nil
            try await worker.publish(exchange: "", routingKey: queue, mandatory: true, message: message)
            try worker.ack(held.deliveryTag)
            try await worker.txCommit()
        }
        try await worker.deleteQueue(holding)
    }

    /// The message with its TTL set to the lease (persistent when the queue is).
    private func copy(_ message: AMQPMessage, lease: Int) -> AMQPMessage {
        var copy = message
        let milliseconds = min(Int64(max(1, lease)) * 1000, Self.holdingQueueExpiry / 2)
        copy.properties.expiration = String(milliseconds)
        if persistent { copy.properties.deliveryMode = 2 }
        return copy
    }
}
