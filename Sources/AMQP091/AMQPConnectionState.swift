/// A delivered message (basic.deliver or basic.get-ok) with what the broker said about it.
public struct AMQPDelivery: Sendable, Equatable {
    public var deliveryTag: UInt64
    public var redelivered: Bool
    public var exchange: String
    public var routingKey: String
    public var message: AMQPMessage
}

/// What a channel has asked and not yet been answered, and where its asynchronous traffic goes.
/// Kept by the connection under its lock; every field changes only with the lock held.
struct AMQPChannelState {
    var assembler: AMQPContentAssembler
    /// Synchronous methods sent and awaiting their reply, in the order sent (replies come in that order).
    var pending: [@Sendable (Result<AMQPContentAssembler.Command, any Error>) -> Void] = []
    var consumers: [String: AsyncStream<AMQPDelivery>.Continuation] = [:]
    /// Publisher confirms: the next publish's sequence number, and the publishes awaiting ack/nack.
    var confirming = false
    var nextPublish: UInt64 = 1
    var unconfirmed: [UInt64: CheckedContinuation<Void, any Error>] = [:]
    var returned: [UInt64: AMQPCloseReason] = [:]
    var closed: AMQPError?

    init(maximumBodySize: UInt64) { assembler = AMQPContentAssembler(maximumBodySize: maximumBodySize) }

    /// Fails everything waiting on the channel with `error`, once.
    mutating func fail(_ error: AMQPError) {
        if closed == nil { closed = error }
        for waiter in pending { waiter(.failure(error)) }
        pending = []
        for (_, consumer) in consumers { consumer.finish() }
        consumers = [:]
        for (_, waiter) in unconfirmed { waiter.resume(throwing: error) }
        unconfirmed = [:]
        returned = [:]
    }

    /// basic.ack / basic.nack under publisher confirms: settles one publish, or all up to `tag`.
    mutating func confirm(tag: UInt64, multiple: Bool, positive: Bool) {
        let settled = multiple ? unconfirmed.keys.filter { $0 <= tag } : (unconfirmed[tag] != nil ? [tag] : [])
        for sequence in settled.sorted() {
            guard let waiter = unconfirmed.removeValue(forKey: sequence) else { continue }
            if let reason = returned.removeValue(forKey: sequence) {
                waiter.resume(throwing: AMQPError(.unroutable(reason), "the broker returned the message: \(reason.replyCode) \(reason.replyText)"))
            } else if positive {
                waiter.resume()
            } else {
                waiter.resume(throwing: AMQPError(.negativelyAcknowledged, "the broker refused the message (basic.nack)"))
            }
        }
    }

    /// basic.return precedes the confirm of the publish it returns (RabbitMQ's order): it belongs to the
    /// oldest unconfirmed publish not returned yet.
    mutating func noteReturn(_ reason: AMQPCloseReason) {
        if let sequence = unconfirmed.keys.filter({ returned[$0] == nil }).min() { returned[sequence] = reason }
    }
}
