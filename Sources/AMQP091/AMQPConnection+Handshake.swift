import NIOCore

extension AMQPConnection {
    /// Protocol header → start/start-ok (PLAIN) → tune/tune-ok → open/open-ok (spec §2.2.4), then heartbeats.
    func handshake() async throws {
        guard case .method(.connectionStart(_, _, _, let mechanisms, _)) = try await call(nil, on: 0, raw: AMQPFrame.protocolHeader) else {
            throw AMQPError(.protocolViolation, "the broker did not start the connection with connection.start")
        }
        guard mechanisms.split(separator: " ").contains("PLAIN") else {
            throw AMQPError(.configuration, "the broker does not offer PLAIN authentication (it offers: \(mechanisms))")
        }
        let response = [0] + Array(url.user.utf8) + [0] + Array(url.password.utf8)
        let startOk = AMQPMethod.connectionStartOk(clientProperties: clientProperties, mechanism: "PLAIN", response: response, locale: "en_US")
        let tune: AMQPContentAssembler.Command
        do {
            tune = try await call(startOk, on: 0)
        } catch let error as AMQPError where error.kind == .connectionLost {
            // A broker that does not honour authentication_failure_close just drops a refused login.
            throw AMQPError(.connectionClosed(AMQPCloseReason(replyCode: 403, replyText: "ACCESS_REFUSED")),
                            "the broker closed the connection during login: ACCESS_REFUSED (check the user and password)")
        }
        guard case .method(.connectionTune(let channelMax, let frameMax, let heartbeat)) = tune else {
            throw AMQPError(.protocolViolation, "the broker answered the login with \(tune), not connection.tune")
        }
        let chosen = negotiate(channelMax: channelMax, frameMax: frameMax, heartbeat: heartbeat)
        try send(.connectionTuneOk(channelMax: chosen.channelMax, frameMax: chosen.frameMax, heartbeat: chosen.heartbeat), on: 0)
        guard case .method(.connectionOpenOk) = try await call(.connectionOpen(virtualHost: url.virtualHost), on: 0) else {
            throw AMQPError(.protocolViolation, "the broker did not answer connection.open with open-ok")
        }
        if chosen.heartbeat > 0 { startHeartbeats(every: Int64(chosen.heartbeat)) }
    }

    private func negotiate(channelMax: UInt16, frameMax: UInt32, heartbeat: UInt16) -> (channelMax: UInt16, frameMax: UInt32, heartbeat: UInt16) {
        func smaller<T: FixedWidthInteger>(_ a: T, _ b: T) -> T { a == 0 ? b : (b == 0 ? a : min(a, b)) }
        let wanted = url.heartbeat.map { UInt16(clamping: $0) } ?? options.heartbeat
        let chosen = (channelMax: smaller(channelMax, 2047), frameMax: max(UInt32(AMQPFrame.minimumFrameSize), smaller(frameMax, options.frameMax)),
                      heartbeat: wanted == 0 ? 0 : smaller(heartbeat, wanted))
        state.withLock { state in
            state.channelMax = chosen.channelMax
            state.frameMax = Int(chosen.frameMax)
        }
        return chosen
    }

    private var clientProperties: AMQPTable {
        [
            "product": .string("studio"),
            "platform": .string("Swift"),
            "connection_name": .string(options.connectionName),
            "capabilities": .table([
                "publisher_confirms": .bool(true),
                "consumer_cancel_notify": .bool(true),
                "basic.nack": .bool(true),
                "connection.blocked": .bool(true),
                "authentication_failure_close": .bool(true),
            ]),
        ]
    }

    /// Sends a heartbeat every half interval, and gives the connection up when nothing at all has come
    /// from the broker for two intervals (spec §4.2.7).
    private func startHeartbeats(every seconds: Int64) {
        guard let eventLoop = nioChannel.withLock({ $0?.eventLoop }) else { return }
        let interval = TimeAmount.milliseconds(seconds * 500)
        eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] task in
            guard let self else { task.cancel(); return }
            let (closed, silentFor) = self.state.withLock { state in
                if state.closed == nil { self.write(AMQPFrame.heartbeat.encoded()) }
                return (state.closed != nil, NIODeadline.now() - state.lastReceived)
            }
            if closed { task.cancel(); return }
            if silentFor > .seconds(seconds * 2) {
                self.fail(AMQPError(.connectionLost, "no heartbeat from the broker for \(seconds * 2) s"))
                task.cancel()
            }
        }
    }
}

/// The pipeline's end: cuts bytes into frames for the connection, reports the socket's end.
final class AMQPFrameHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private let connection: AMQPConnection
    private var decoder: AMQPFrameDecoder

    init(connection: AMQPConnection) {
        self.connection = connection
        decoder = AMQPFrameDecoder(maximumFrameSize: Int(connection.options.frameMax))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        decoder.append(buffer.readBytes(length: buffer.readableBytes) ?? [])
        do {
            while let frame = try decoder.next() { connection.receive(frame) }
        } catch {
            connection.fail(AMQPError(.protocolViolation, "the broker sent bytes that break AMQP 0-9-1: \(error)"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.fail(AMQPError(.connectionLost, "the connection to the broker was lost"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection.fail(AMQPError(.connectionLost, Self.describe(error)))
        context.close(promise: nil)
    }

    /// BoringSSL's text for an untrusted certificate names a source file of the build; say what to do instead.
    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "the broker's TLS certificate is not trusted (CERTIFICATE_VERIFY_FAILED): set SSL_CERT_FILE to the CA file that signed it"
        }
        return "the connection to the broker failed: \(text)"
    }
}
