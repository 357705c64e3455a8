#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AMQP091

/// The connection a `RabbitMQQueue` works through, opened on first use and again after it is lost (a
/// broker restart, a network failure): callers retry with their own backoff, and each retry reconnects.
actor RabbitMQSession {
    let url: AMQPURL
    let queue: String
    let persistent: Bool
    let options: AMQPConnection.Options
    private var link: RabbitMQLink?

    init(url: AMQPURL, queue: String, persistent: Bool, options: AMQPConnection.Options) {
        self.url = url
        self.queue = queue
        self.persistent = persistent
        self.options = options
    }

    /// Runs `body` on a ready link; AMQP failures become `QueueError`s with the URL's password masked.
    func perform<T: Sendable>(_ what: String, _ body: (RabbitMQLink) async throws -> T) async throws -> T {
        do {
            return try await body(try await ready())
        } catch let error as QueueError {
            throw error
        } catch let error as AMQPError {
            dropIfBroken(error)
            throw RabbitMQErrors.classify(error, doing: what, queue: queue, url: url)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw QueueError(.transient, "cannot \(what) RabbitMQ queue \(queue) at \(url): \(error)")
        }
    }

    func close() async {
        if let link { await link.connection.close() }
        link = nil
    }

    private func ready() async throws -> RabbitMQLink {
        if let link, link.isUsable { return link }
        if let link { await link.connection.close() }
        link = nil
        var connectionOptions = options
        connectionOptions.connectionName = "studio \(queue)"
        let connection = try await AMQPConnection.connect(url, options: connectionOptions)
        do {
            let fresh = try await RabbitMQLink.open(on: connection, queue: queue, persistent: persistent)
            link = fresh
            return fresh
        } catch {
            await connection.close()
            throw error
        }
    }

    /// A closed channel cannot be used again: the next call opens a new link.
    private func dropIfBroken(_ error: AMQPError) {
        guard let link, !link.isUsable || error.replyCode != nil || error.kind == .timeout else { return }
        self.link = nil
        Task { await link.connection.close() }
    }
}
