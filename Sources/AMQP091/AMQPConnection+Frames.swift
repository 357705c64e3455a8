#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import Synchronization

extension AMQPConnection {
    /// Sends `method` (and, for a publish, its content) on `channel` and waits for the reply; the
    /// connection is failed with `.timeout` when none comes within `options.timeout`.
    func call(_ method: AMQPMethod?, on channel: UInt16, content: AMQPMessage? = nil, raw: [UInt8]? = nil) async throws -> AMQPContentAssembler.Command {
        let eventLoop = try nioChannel.withLock { nio -> any EventLoop in
            guard let nio else { throw AMQPError(.connectionLost, "not connected") }
            return nio.eventLoop
        }
        let bytes = try raw ?? frames(method!, channel: channel, content: content)
        let answered = AnsweredFlag()
        let timer = eventLoop.scheduleTask(in: .milliseconds(Int64(options.timeout * 1000))) { [weak self] in
            guard let self, !answered.isSet else { return }
            let what = method.map { "\($0.ids.0).\($0.ids.1)" } ?? "the protocol header"
            self.fail(AMQPError(.timeout, "the broker did not answer \(what) within \(Int(self.options.timeout)) s"))
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            let refused: AMQPError? = state.withLock { state in
                if let closed = state.closed { return closed }
                guard state.channels[channel] != nil else { return AMQPError(.channelClosed(AMQPCloseReason(replyCode: 504, replyText: "channel closed")), "channel \(channel) is closed") }
                if let closed = state.channels[channel]!.closed { return closed }
                state.channels[channel]!.pending.append(AnsweredContinuation(continuation, answered).resume)
                write(bytes)
                return nil
            }
            if let refused { continuation.resume(throwing: refused) }
        }
    }

    /// Gives the connection up (`.timeout`) if the publishes now unconfirmed on `channel` are still
    /// unconfirmed after `options.timeout`: a broker that never confirms must not hang a publisher.
    func failUnlessConfirmed(channel: UInt16) {
        guard let eventLoop = nioChannel.withLock({ $0?.eventLoop }) else { return }
        let awaited = state.withLock { $0.channels[channel]?.nextPublish ?? 1 } - 1
        eventLoop.scheduleTask(in: .milliseconds(Int64(options.timeout * 1000))) { [weak self] in
            guard let self else { return }
            let late = self.state.withLock { $0.channels[channel]?.unconfirmed.keys.contains { $0 <= awaited } ?? false }
            if late { self.fail(AMQPError(.timeout, "the broker did not confirm a publish within \(Int(self.options.timeout)) s")) }
        }
    }

    /// Sends frames that expect no reply (ack, reject, tune-ok, close-ok).
    func send(_ method: AMQPMethod, on channel: UInt16) throws {
        let bytes = try frames(method, channel: channel, content: nil)
        try state.withLock { state in
            if let closed = state.closed { throw closed }
            if let closed = state.channels[channel]?.closed { throw closed }
            write(bytes)
        }
    }

    /// The bytes of a method and, when given, its content header and body split to the frame size.
    func frames(_ method: AMQPMethod, channel: UInt16, content: AMQPMessage?) throws -> [UInt8] {
        var bytes = try AMQPFrame.method(method, channel: channel).encoded()
        guard let content else { return bytes }
        let header = AMQPContentHeader(bodySize: UInt64(content.body.count), properties: content.properties)
        bytes += AMQPFrame(kind: .header, channel: channel, payload: try header.encoded()).encoded()
        let chunk = state.withLock { $0.frameMax } - AMQPFrame.overhead
        var offset = 0
        while offset < content.body.count {
            let end = min(content.body.count, offset + chunk)
            bytes += AMQPFrame(kind: .body, channel: channel, payload: Array(content.body[offset..<end])).encoded()
            offset = end
        }
        return bytes
    }

    /// Writes bytes to the socket; called with the state lock held, so frames leave in the order decided.
    /// The write itself is queued onto the event loop (tasks run in the order queued): run there and then,
    /// a write to a dead socket would close the channel, and `fail` would take the lock held here.
    func write(_ bytes: [UInt8]) {
        guard let nio = nioChannel.withLock({ $0 }) else { return }
        nio.eventLoop.execute {
            nio.writeAndFlush(nio.allocator.buffer(bytes: bytes), promise: nil)
        }
    }

    /// One frame from the socket (on the event loop).
    func receive(_ frame: AMQPFrame) {
        state.withLock { $0.lastReceived = .now() }
        if frame.kind == .heartbeat { return }
        do {
            if frame.channel == 0 {
                guard frame.kind == .method else { throw AMQPDecodingError("a content frame on channel 0") }
                try receiveConnectionMethod(try AMQPMethod(decoding: frame.payload))
            } else {
                try receiveChannelFrame(frame)
            }
        } catch let error as AMQPError {
            fail(error)
        } catch {
            // Spec §4.2.3: a malformed frame is a connection exception (501 FRAME_ERROR); say so before closing.
            let reason = AMQPCloseReason(replyCode: 501, replyText: String("FRAME_ERROR - \(error)".prefix(200)))
            try? send(.connectionClose(reason), on: 0)
            fail(AMQPError(.protocolViolation, "the broker sent bytes that break AMQP 0-9-1: \(error)"))
        }
    }

    private func receiveConnectionMethod(_ method: AMQPMethod) throws {
        switch method {
        case .connectionClose(let reason):
            try? send(.connectionCloseOk, on: 0)
            fail(AMQPError.closed(reason, connection: true))
        case .connectionBlocked:
            state.withLock { $0.blocked = true }
        case .connectionUnblocked:
            state.withLock { $0.blocked = false }
        default:
            try answer(.method(method), on: 0)
        }
    }

    private func receiveChannelFrame(_ frame: AMQPFrame) throws {
        let command: AMQPContentAssembler.Command? = try state.withLock { state in
            guard state.channels[frame.channel] != nil else { throw AMQPDecodingError("a frame for channel \(frame.channel), which is not open") }
            return try state.channels[frame.channel]!.assembler.take(frame)
        }
        guard let command else { return }
        let channel = frame.channel
        switch command {
        case .content(.basicDeliver(let tag, let deliveryTag, let redelivered, let exchange, let key), let message):
            let delivery = AMQPDelivery(deliveryTag: deliveryTag, redelivered: redelivered, exchange: exchange, routingKey: key, message: message)
            state.withLock { _ = $0.channels[channel]?.consumers[tag]?.yield(delivery) }
        case .content(.basicReturn(let code, let text, _, _), _):
            state.withLock { $0.channels[channel]?.noteReturn(AMQPCloseReason(replyCode: code, replyText: text)) }
        case .method(.basicAck(let tag, let multiple)):
            state.withLock { $0.channels[channel]?.confirm(tag: tag, multiple: multiple, positive: true) }
        case .method(.basicNack(let tag, let multiple, _)):
            state.withLock { $0.channels[channel]?.confirm(tag: tag, multiple: multiple, positive: false) }
        case .method(.basicCancel(let tag, _)):
            // The broker cancelled the consumer (its queue was deleted): its stream ends.
            state.withLock { $0.channels[channel]?.consumers.removeValue(forKey: tag)?.finish() }
        case .method(.channelClose(let reason)):
            try? send(.channelCloseOk, on: channel)
            state.withLock { state in
                state.channels[channel]?.fail(AMQPError.closed(reason, connection: false))
                state.channels[channel] = nil
            }
        case .method(.channelFlow(let active)):
            try send(.channelFlowOk(active: active), on: channel)
        default:
            try answer(command, on: channel)
        }
    }

    /// Hands a reply to the oldest waiting call on the channel; a reply nobody asked for breaks the protocol.
    private func answer(_ command: AMQPContentAssembler.Command, on channel: UInt16) throws {
        let waiter = state.withLock { state -> (@Sendable (Result<AMQPContentAssembler.Command, any Error>) -> Void)? in
            guard state.channels[channel]?.pending.isEmpty == false else { return nil }
            let first = state.channels[channel]!.pending.removeFirst()
            if case .method(.channelCloseOk) = command { state.channels[channel] = nil }
            return first
        }
        guard let waiter else { throw AMQPError(.protocolViolation, "the broker sent \(command) on channel \(channel), which nothing asked for") }
        waiter(.success(command))
    }
}

/// A continuation that also marks its call answered (so the call's timer stands down).
struct AnsweredContinuation: Sendable {
    let continuation: CheckedContinuation<AMQPContentAssembler.Command, any Error>
    let answered: AnsweredFlag
    init(_ continuation: CheckedContinuation<AMQPContentAssembler.Command, any Error>, _ answered: AnsweredFlag) {
        self.continuation = continuation
        self.answered = answered
    }
    func resume(_ result: Result<AMQPContentAssembler.Command, any Error>) {
        answered.set()
        continuation.resume(with: result)
    }
}

/// A flag set once, read from a timer on another thread.
final class AnsweredFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
