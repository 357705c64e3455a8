#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AsyncHTTPClient
import Glibc
import NIOCore
import NIOHTTP1
import NIOSSL

/// One HTTP request, as the cloud backends build them.
public struct HTTPRequestSpec: Sendable {
    /// What is sent as the body.
    public enum Body: Sendable {
        case none
        case bytes([UInt8])
        /// `length` bytes of a local file from `offset` on, streamed (constant memory).
        case file(path: String, offset: Int64, length: Int64)
    }

    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: Body

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: Body = .none) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// A response with its whole body (for API calls, not for large downloads).
public struct HTTPReply: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The body as text, for error messages (cut to a sensible length).
    public var bodyText: String {
        let text = String(decoding: body.prefix(2048), as: UTF8.self)
        return body.count > 2048 ? text + "…" : text
    }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// Why an HTTP exchange failed before any response came back (connection refused, timeout, TLS).
/// Every failure of an exchange comes as this one type; `isRetryable` is false only where trying again
/// would fail the same way (an answer larger than the caller accepts).
public struct HTTPTransportError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public var isRetryable: Bool
    public init(_ description: String, isRetryable: Bool = true) {
        self.description = description
        self.isRetryable = isRetryable
    }
}

/// The process's one HTTP client: HTTP/1.1 and TLS through swift-nio, trust roots from
/// `SSL_CERT_FILE` when set (else the system's), timeouts on every call.
public final class HTTPTransport: Sendable {
    /// The shared client.
    public static let shared = HTTPTransport(environment: ProcessInfo.processInfo.environment)

    private let client: HTTPClient

    /// A client whose TLS trust follows `SSL_CERT_FILE` in `environment`.
    public init(environment: [String: String]) {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let file = environment["SSL_CERT_FILE"], !file.isEmpty {
            tls.trustRoots = .file(file)
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(90))
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        // A refused connection fails at once (the pool would otherwise retry it until the connect
        // timeout, ~10 s an attempt); RetryPolicy decides whether and when to try again.
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Sends the request and collects a body of at most `maxBodyBytes`.
    public func send(_ spec: HTTPRequestSpec, timeout: Duration = .seconds(60), maxBodyBytes: Int = 64 << 20) async throws -> HTTPReply {
        let response = try await execute(spec, timeout: timeout)
        let body = try await wrapped(spec) { try await response.body.collect(upTo: maxBodyBytes) }
        return HTTPReply(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                         body: Array(body.readableBytesView))
    }

    /// Sends the request; on a 2xx answer streams the body into `path` (constant memory) and returns
    /// the reply with an empty body; otherwise returns the reply with its (error) body.
    public func download(_ spec: HTTPRequestSpec, toFile path: String, timeout: Duration = .seconds(3600)) async throws -> HTTPReply {
        let response = try await execute(spec, timeout: timeout)
        let headers = response.headers.map { (name: $0.name, value: $0.value) }
        guard (200..<300).contains(Int(response.status.code)) else {
            let body = try await wrapped(spec) { try await response.body.collect(upTo: 1 << 20) }
            return HTTPReply(status: Int(response.status.code), headers: headers, body: Array(body.readableBytesView))
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw HTTPTransportError("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try await wrapped(spec) {
            for try await chunk in response.body {
                try chunk.withUnsafeReadableBytes { buffer in
                    var offset = 0
                    while offset < buffer.count {
                        let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                        if written < 0 {
                            if errno == EINTR { continue }
                            throw HTTPTransportError("cannot write \(path): \(String(cString: strerror(errno)))")
                        }
                        offset += written
                    }
                }
            }
        }
        return HTTPReply(status: Int(response.status.code), headers: headers, body: [])
    }

    private func execute(_ spec: HTTPRequestSpec, timeout: Duration) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: spec.url)
        request.method = HTTPMethod(rawValue: spec.method)
        for header in spec.headers { request.headers.add(name: header.name, value: header.value) }
        switch spec.body {
        case .none:
            break
        case .bytes(let bytes):
            request.body = .bytes(bytes)
        case .file(let path, let offset, let length):
            request.body = .stream(FileChunks(path: path, offset: offset, length: length), length: .known(length))
        }
        let deadline = TimeAmount.nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        return try await wrapped(spec) { try await client.execute(request, timeout: deadline) }
    }

    /// Runs one step of an exchange (connecting, sending, reading the body), turning every failure but
    /// cancellation into an `HTTPTransportError`: refused connections, resets, timeouts, TLS failures and
    /// bodies cut off mid-stream are all worth a retry, and callers classify one error type.
    private func wrapped<T>(_ spec: HTTPRequestSpec, _ step: () async throws -> T) async throws -> T {
        do {
            return try await step()
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as HTTPTransportError {
            throw error
        } catch is NIOTooManyBytesError {
            throw HTTPTransportError("\(spec.method) \(Self.redactedURL(spec.url)): the answer is larger than expected", isRetryable: false)
        } catch {
            throw HTTPTransportError("\(spec.method) \(Self.redactedURL(spec.url)): \(error)")
        }
    }

    /// The URL without its query (which may hold signatures or tokens), for messages.
    public static func redactedURL(_ url: String) -> String {
        url.firstIndex(of: "?").map { String(url[..<$0]) + "?…" } ?? url
    }
}

/// A file's bytes as an async sequence of buffers, read lazily (constant memory).
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String
    let offset: Int64
    let length: Int64

    struct AsyncIterator: AsyncIteratorProtocol {
        let path: String
        var position: Int64
        var remaining: Int64
        var fd: Int32 = -1

        mutating func next() async throws -> ByteBuffer? {
            if remaining <= 0 {
                if fd >= 0 { close(fd); fd = -1 }
                return nil
            }
            if fd < 0 {
                fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw HTTPTransportError("cannot read \(path): \(String(cString: strerror(errno)))") }
            }
            let size = Int(Swift.min(remaining, 1 << 20))
            var buffer = ByteBufferAllocator().buffer(capacity: size)
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
                Swift.max(0, pread(fd, raw.baseAddress, size, off_t(position)))
            }
            if count == 0 {
                close(fd); fd = -1
                throw HTTPTransportError("\(path) ended early while uploading")
            }
            position += Int64(count)
            remaining -= Int64(count)
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(path: path, position: offset, remaining: length)
    }
}
