#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One AMQP 0-9-1 connection on swift-nio: the handshake (PLAIN), heartbeats, channels, and the
/// dispatch of incoming frames. Every failure reaches whoever waits, as an `AMQPError`.
public final class AMQPConnection: Sendable {
    /// Settings a caller may change from the defaults.
    public struct Options: Sendable {
        /// Heartbeat asked for, in seconds (the broker's proposal wins when it is lower; 0 turns them off).
        public var heartbeat: UInt16 = 30
        /// The largest frame we accept and propose.
        public var frameMax: UInt32 = 131_072
        /// The largest message body we buffer.
        public var maximumBodySize: UInt64 = 64 << 20
        /// Seconds allowed for connecting and for any reply.
        public var timeout: Double = 30
        /// The connection name shown in the broker's management UI.
        public var connectionName = "studio"
        /// Extra CA file for amqps:// (else the system's trust roots).
        public var caFile: String? = nil
        public init() {}
    }

    struct State {
        var channels: [UInt16: AMQPChannelState] = [:]
        var nextChannel: UInt16 = 1
        var channelMax: UInt16 = 2047
        var frameMax = 131_072
        var closed: AMQPError?
        var lastReceived = NIODeadline.now()
        var blocked = false
    }

    let options: Options
    let url: AMQPURL
    let state: Mutex<State>
    let nioChannel: Mutex<(any Channel)?> = Mutex(nil)
    private let closedPromise: EventLoopPromise<Void>

    init(url: AMQPURL, options: Options, eventLoop: any EventLoop) {
        self.url = url
        self.options = options
        var initial = State()
        initial.channels[0] = AMQPChannelState(maximumBodySize: 0)
        state = Mutex(initial)
        closedPromise = eventLoop.makePromise()
    }

    /// Why the connection closed, once it has.
    public var closeError: AMQPError? { state.withLock { $0.closed } }

    /// Whether the broker has told us it blocks publishing (connection.blocked: a resource alarm).
    public var isBlocked: Bool { state.withLock { $0.blocked } }

    /// Connects to `url`, authenticates and opens its vhost.
    public static func connect(_ url: AMQPURL, options: Options = Options()) async throws -> AMQPConnection {
        let group = MultiThreadedEventLoopGroup.singleton
        let connection = AMQPConnection(url: url, options: options, eventLoop: group.next())
        let sslContext: NIOSSLContext? = try url.tls ? Self.tlsContext(options) : nil
        let timeout = url.connectTimeout ?? options.timeout
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(Int64(timeout * 1000)))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let hostname = url.host.contains(":") || url.host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : url.host
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: sslContext, serverHostname: hostname))
                    }
                    try channel.pipeline.syncOperations.addHandler(AMQPFrameHandler(connection: connection))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: url.host, port: url.port).get()
        } catch {
            throw AMQPError(.connectionLost, "cannot connect to \(url.host):\(url.port): \(error)")
        }
        connection.nioChannel.withLock { $0 = channel }
        do {
            try await connection.handshake()
        } catch {
            channel.close(promise: nil)
            throw error
        }
        return connection
    }

    private static func tlsContext(_ options: Options) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        let file = options.caFile ?? ProcessInfo.processInfo.environment["SSL_CERT_FILE"]
        if let file, !file.isEmpty { tls.trustRoots = .file(file) }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw AMQPError(.configuration, "cannot set up TLS for amqps://: \(error)")
        }
    }

    /// Opens a new channel.
    public func openChannel() async throws -> AMQPChannel {
        let number = try state.withLock { state -> UInt16 in
            if let closed = state.closed { throw closed }
            var candidate = state.nextChannel
            for _ in 0..<Int(state.channelMax) {
                if state.channels[candidate] == nil { break }
                candidate = candidate >= state.channelMax ? 1 : candidate + 1
            }
            guard state.channels[candidate] == nil else { throw AMQPError(.configuration, "no free channel (channel-max \(state.channelMax))") }
            state.nextChannel = candidate >= state.channelMax ? 1 : candidate + 1
            state.channels[candidate] = AMQPChannelState(maximumBodySize: options.maximumBodySize)
            return candidate
        }
        let channel = AMQPChannel(connection: self, number: number)
        _ = try await call(.channelOpen, on: number)
        return channel
    }

    /// Closes the connection politely (connection.close, then waits briefly for close-ok).
    public func close() async {
        let alreadyClosed = state.withLock { $0.closed != nil }
        if !alreadyClosed {
            let reason = AMQPCloseReason(replyCode: 200, replyText: "goodbye")
            _ = try? await call(.connectionClose(reason), on: 0)
        }
        fail(AMQPError(.connectionLost, "the connection was closed by this client"))
        let channel = nioChannel.withLock { $0 }
        try? await channel?.close()
    }

    /// Waits until the connection is closed, for whatever reason.
    public func waitClosed() async {
        _ = try? await closedPromise.futureResult.get()
    }

    /// Closes everything with `error`: every waiter on every channel gets it.
    func fail(_ error: AMQPError) {
        let first = state.withLock { state -> Bool in
            guard state.closed == nil else { return false }
            state.closed = error
            for number in state.channels.keys { state.channels[number]!.fail(error) }
            return true
        }
        if first {
            closedPromise.succeed(())
            nioChannel.withLock { $0 }?.close(promise: nil)
        }
    }
}
