#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import StudioModel
import StudioStorage

/// How `studio ui` is set up.
public struct UIConfiguration: Sendable {
    /// The address to bind (default loopback); any other needs a token.
    public var host: String
    /// The port (0 picks a free one; `UIServer.port` says which).
    public var port: Int
    /// The token every request must carry; nil serves loopback only, without one.
    public var token: String?
    /// The database store (records).
    public var database: any ListableObjectStore
    /// The storage store (artifacts).
    public var storage: any ListableObjectStore
    /// Stop, delete and output, as the CLI's own commands do them.
    public var control: any ExperimentControl
    /// A directory for artifacts staged from remote stores while they stream.
    public var scratch: String

    public init(host: String = "127.0.0.1", port: Int = 5000, token: String? = nil,
                database: any ListableObjectStore, storage: any ListableObjectStore,
                control: any ExperimentControl, scratch: String) {
        self.host = host
        self.port = port
        self.token = token
        self.database = database
        self.storage = storage
        self.control = control
        self.scratch = scratch
    }
}

/// The web UI's HTTP/1.1 server: swift-nio's own server pipeline (already linked for the cloud
/// clients, so it adds next to nothing to the binary), one task per connection, requests answered in
/// order (keep-alive and pipelining handled by NIO's pipelining handler).
public final class UIServer: Sendable {
    /// The port it listens on.
    public let port: Int
    private let listener: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
    private let router: UIRouter

    private static let maxBodyBytes = 64 * 1024
    private static let chunkSize = 64 * 1024

    /// Binds; refuses a non-loopback address without a token.
    public static func start(_ configuration: UIConfiguration) async throws -> UIServer {
        if configuration.token == nil && !UIAccess.isLoopback(configuration.host) {
            throw UIError(.forbidden, "studio ui: binding to \(configuration.host) needs a token: pass --token or set STUDIO_UI_TOKEN (without one it serves only 127.0.0.1)")
        }
        if let token = configuration.token, token.isEmpty || token.contains(where: { $0 == ";" || $0 == "," || $0.isWhitespace || !$0.isASCII }) {
            throw UIError(.badRequest, "studio ui: the token must be non-empty printable ASCII without spaces, ',' or ';'")
        }
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        let catalog = ExperimentCatalog(database: configuration.database)
        Task { await catalog.warm() } // while the browser is still on its way
        let scalars = ExperimentScalars(storage: configuration.storage, control: configuration.control, scratch: configuration.scratch)
        let router = UIRouter(database: configuration.database, storage: configuration.storage, control: configuration.control,
                              catalog: catalog, access: UIAccess(token: configuration.token), scratch: configuration.scratch,
                              scalars: scalars, metrics: MetricColumn(database: configuration.database, scalars: scalars))
        return UIServer(listener: listener, router: router, port: listener.channel.localAddress?.port ?? configuration.port)
    }

    private init(listener: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>, router: UIRouter, port: Int) {
        self.listener = listener
        self.router = router
        self.port = port
    }

    /// Serves until `close()` (or the task is cancelled).
    public func run() async throws {
        let router = self.router
        try await withThrowingDiscardingTaskGroup { group in
            try await listener.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask {
                        // A connection's failure (reset, bad request) ends that connection only.
                        try? await Self.serve(connection, router: router)
                    }
                }
            }
        }
    }

    /// Stops listening; `run()` returns once open connections finish.
    public func close() async {
        try? await listener.channel.close()
    }

    private static func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, router: UIRouter) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var bodySize = 0
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    bodySize = 0
                case .body(let buffer):
                    bodySize += buffer.readableBytes // the API reads no bodies; only their size is checked
                case .end:
                    guard let requestHead = head else { continue }
                    head = nil
                    let response = bodySize > maxBodyBytes
                        ? UIResponse.error(UIError(.payloadTooLarge, "request bodies are limited to \(maxBodyBytes) bytes"))
                        : await router.respond(UIRequest(head: requestHead))
                    let keepAlive = requestHead.isKeepAlive && bodySize <= maxBodyBytes
                    try await sendResponse(response, version: requestHead.version, keepAlive: keepAlive, to: outbound)
                    if !keepAlive { return }
                }
            }
        }
    }

    private static func sendResponse(_ response: UIResponse, version: HTTPVersion, keepAlive: Bool,
                              to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws {
        var headers = HTTPHeaders(response.headers)
        // Everything from an experiment is text: no inline script runs, nothing is sniffed, no frame embeds us.
        headers.add(name: "Content-Security-Policy", value: "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        headers.add(name: "Referrer-Policy", value: "no-referrer")
        headers.add(name: "X-Frame-Options", value: "DENY")
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        switch response.body {
        case .bytes(let bytes):
            headers.add(name: "Content-Length", value: String(bytes.count))
            try await outbound.write(.head(HTTPResponseHead(version: version, status: response.status, headers: headers)))
            if !bytes.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes)))) }
            try await outbound.write(.end(nil))
        case .file(let path, let size, let temporary):
            defer { if temporary { unlink(path) } }
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                return try await sendResponse(.error(UIError(.notFound, "the artifact vanished before it could be sent")), version: version, keepAlive: keepAlive, to: outbound)
            }
            defer { Glibc.close(fd) }
            headers.add(name: "Content-Length", value: String(size))
            try await outbound.write(.head(HTTPResponseHead(version: version, status: response.status, headers: headers)))
            // Streamed in chunks: each write waits for the client, so memory stays at one chunk.
            var remaining = size
            var chunk = [UInt8](repeating: 0, count: chunkSize)
            while remaining > 0 {
                let got = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, min($0.count, remaining)) }
                if got < 0 && errno == EINTR { continue }
                guard got > 0 else { throw UIError(.internalServerError, "\(path) shrank while it was sent") }
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: chunk[0..<got]))))
                remaining -= got
            }
            try await outbound.write(.end(nil))
        }
    }
}
