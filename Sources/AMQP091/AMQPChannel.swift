/// One channel of an `AMQPConnection`: the exchange, queue, basic, confirm and tx methods. A broker's
/// channel.close fails the call that caused it (and every later one) with `AMQPError.channelClosed`.
public final class AMQPChannel: Sendable {
    public let connection: AMQPConnection
    public let number: UInt16

    init(connection: AMQPConnection, number: UInt16) {
        self.connection = connection
        self.number = number
    }

    /// Whether the channel is still open (neither side closed it, the connection is up).
    public var isOpen: Bool {
        connection.state.withLock { $0.closed == nil && $0.channels[number] != nil && $0.channels[number]!.closed == nil }
    }

    private func call(_ method: AMQPMethod, content: AMQPMessage? = nil) async throws -> AMQPContentAssembler.Command {
        try await connection.call(method, on: number, content: content)
    }

    private func expect(_ method: AMQPMethod, _ matches: (AMQPContentAssembler.Command) -> Bool) async throws {
        let reply = try await call(method)
        guard matches(reply) else { throw AMQPError(.protocolViolation, "unexpected reply \(reply) to \(method)") }
    }

    public func declareExchange(_ declaration: AMQPExchangeDeclaration) async throws {
        try await expect(.exchangeDeclare(declaration)) { $0 == .method(.exchangeDeclareOk) }
    }

    /// Declares a queue; returns its message and consumer counts.
    @discardableResult
    public func declareQueue(_ declaration: AMQPQueueDeclaration) async throws -> (messages: UInt32, consumers: UInt32) {
        guard case .method(.queueDeclareOk(_, let messages, let consumers)) = try await call(.queueDeclare(declaration)) else {
            throw AMQPError(.protocolViolation, "queue.declare was not answered with declare-ok")
        }
        return (messages, consumers)
    }

    public func bindQueue(_ queue: String, exchange: String, routingKey: String, arguments: AMQPTable = AMQPTable()) async throws {
        try await expect(.queueBind(queue: queue, exchange: exchange, routingKey: routingKey, arguments: arguments)) { $0 == .method(.queueBindOk) }
    }

    /// Deletes a queue with the messages in it (they are not dead-lettered); returns how many it held.
    @discardableResult
    public func deleteQueue(_ queue: String, ifUnused: Bool = false, ifEmpty: Bool = false) async throws -> UInt32 {
        guard case .method(.queueDeleteOk(let count)) = try await call(.queueDelete(queue: queue, ifUnused: ifUnused, ifEmpty: ifEmpty)) else {
            throw AMQPError(.protocolViolation, "queue.delete was not answered with delete-ok")
        }
        return count
    }

    public func purgeQueue(_ queue: String) async throws {
        _ = try await call(.queuePurge(queue: queue))
    }

    public func qos(prefetchCount: UInt16) async throws {
        try await expect(.basicQos(prefetchSize: 0, prefetchCount: prefetchCount, global: false)) { $0 == .method(.basicQosOk) }
    }

    /// Starts a consumer with manual acknowledgement; its deliveries come on the returned stream, which
    /// ends when the consumer is cancelled (by `cancel` or by the broker) or the channel closes.
    public func consume(_ queue: String, tag: String, arguments: AMQPTable = AMQPTable()) async throws -> AsyncStream<AMQPDelivery> {
        let (stream, continuation) = AsyncStream.makeStream(of: AMQPDelivery.self)
        connection.state.withLock { $0.channels[number]?.consumers[tag] = continuation }
        do {
            try await expect(.basicConsume(queue: queue, consumerTag: tag, noAck: false, exclusive: false, arguments: arguments)) {
                $0 == .method(.basicConsumeOk(consumerTag: tag))
            }
        } catch {
            connection.state.withLock { _ = $0.channels[number]?.consumers.removeValue(forKey: tag) }
            continuation.finish()
            throw error
        }
        return stream
    }

    /// Cancels a consumer; deliveries already sent before cancel-ok still reach its stream.
    public func cancel(consumerTag tag: String) async throws {
        _ = try await call(.basicCancel(consumerTag: tag, noWait: false))
        connection.state.withLock { _ = $0.channels[number]?.consumers.removeValue(forKey: tag)?.finish() }
    }

    /// basic.get with manual acknowledgement: one message, or nil when the queue is empty.
    public func get(_ queue: String) async throws -> AMQPDelivery? {
        switch try await call(.basicGet(queue: queue, noAck: false)) {
        case .content(.basicGetOk(let tag, let redelivered, let exchange, let key, _), let message):
            return AMQPDelivery(deliveryTag: tag, redelivered: redelivered, exchange: exchange, routingKey: key, message: message)
        case .method(.basicGetEmpty):
            return nil
        case let other:
            throw AMQPError(.protocolViolation, "basic.get was answered with \(other)")
        }
    }

    public func ack(_ deliveryTag: UInt64) throws {
        try connection.send(.basicAck(deliveryTag: deliveryTag, multiple: false), on: number)
    }

    public func nack(_ deliveryTag: UInt64, requeue: Bool) throws {
        try connection.send(.basicNack(deliveryTag: deliveryTag, multiple: false, requeue: requeue), on: number)
    }

    public func reject(_ deliveryTag: UInt64, requeue: Bool) throws {
        try connection.send(.basicReject(deliveryTag: deliveryTag, requeue: requeue), on: number)
    }

    /// Turns on publisher confirms: from now on `publish` returns once the broker has taken the message.
    public func confirmSelect() async throws {
        try await expect(.confirmSelect(noWait: false)) { $0 == .method(.confirmSelectOk) }
        connection.state.withLock { $0.channels[number]?.confirming = true }
    }

    /// Publishes a message. With confirms on, waits for the broker's ack and throws for a nack or, with
    /// `mandatory`, for a message no queue took (basic.return); otherwise returns once it is written.
    public func publish(exchange: String, routingKey: String, mandatory: Bool, message: AMQPMessage) async throws {
        let method = AMQPMethod.basicPublish(exchange: exchange, routingKey: routingKey, mandatory: mandatory, immediate: false)
        let bytes = try connection.frames(method, channel: number, content: message)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome: Result<Bool, AMQPError> = connection.state.withLock { state in
                if let closed = state.closed { return .failure(closed) }
                guard state.channels[number] != nil else { return .failure(AMQPError(.connectionLost, "channel \(number) is closed")) }
                if let closed = state.channels[number]!.closed { return .failure(closed) }
                connection.write(bytes)
                guard state.channels[number]!.confirming else { return .success(false) }
                let sequence = state.channels[number]!.nextPublish
                state.channels[number]!.nextPublish += 1
                state.channels[number]!.unconfirmed[sequence] = continuation
                return .success(true)
            }
            switch outcome {
            case .failure(let error): continuation.resume(throwing: error)
            case .success(false): continuation.resume()
            case .success(true): connection.failUnlessConfirmed(channel: number)
            }
        }
    }

    public func txSelect() async throws { try await expect(.txSelect) { $0 == .method(.txSelectOk) } }
    public func txCommit() async throws { try await expect(.txCommit) { $0 == .method(.txCommitOk) } }
    public func txRollback() async throws { try await expect(.txRollback) { $0 == .method(.txRollbackOk) } }

    /// Closes the channel (channel.close, then close-ok).
    public func close() async {
        _ = try? await call(.channelClose(AMQPCloseReason(replyCode: 200, replyText: "goodbye")))
        connection.state.withLock { $0.channels[number] = nil }
    }
}
