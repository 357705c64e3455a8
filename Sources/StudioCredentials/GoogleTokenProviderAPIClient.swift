#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioHTTP

/// Calls one Google JSON API (Pub/Sub, Cloud Storage): adds the bearer token, retries throttling (429), server
/// errors (5xx) and connection failures with exponential backoff and full jitter, and on a 401 fetches a new
/// token once. Against an emulator (`tokens` nil) it sends no `Authorization` header.
public struct GoogleAPIClient: Sendable {
    /// e.g. `https://pubsub.googleapis.com` or `http://localhost:8085` for an emulator.
    public let baseURL: String
    /// Where tokens come from; nil for an emulator (no auth).
    public let tokens: GoogleTokenProvider?
    /// The HTTP client.
    public let transport: HTTPTransport
    /// Backoff for retryable failures.
    public let retry: RetryPolicy

    /// A client for the API at `baseURL`.
    public init(baseURL: String, tokens: GoogleTokenProvider?, transport: HTTPTransport = .shared, retry: RetryPolicy = .standard) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.tokens = tokens
        self.transport = transport
        self.retry = retry
    }

    /// The base URL an emulator variable selects (`host:port`, or a URL), else `defaultURL`; whether it is an emulator.
    public static func endpoint(emulatorHost: String?, defaultURL: String) -> (url: String, isEmulator: Bool) {
        guard let host = emulatorHost, !host.isEmpty else { return (defaultURL, false) }
        return (host.contains("://") ? host : "http://" + host, true)
    }

    /// Sends `method path` (path starts with `/`, or is a full URL) with `body`; returns the last reply, retryable
    /// or not, once attempts run out. Throws `HTTPTransportError` when the server never answered, and
    /// `CredentialsError` when no token could be had.
    public func send(_ method: String, _ path: String, headers: [(name: String, value: String)] = [],
                     body: HTTPRequestSpec.Body = .none, timeout: Duration = .seconds(60)) async throws -> HTTPReply {
        let url = path.hasPrefix("http://") || path.hasPrefix("https://") ? path : baseURL + path
        var attempt = 1
        var refreshedAfter401 = false
        while true {
            try Task.checkCancellation()
            var allHeaders = headers
            if let tokens {
                let authorization = try await tokens.authorizationHeader()
                allHeaders.append((name: "Authorization", value: authorization))
            }
            do {
                let reply = try await transport.send(HTTPRequestSpec(method: method, url: url, headers: allHeaders, body: body),
                                                      timeout: timeout)
                if reply.status == 401, let tokens, !refreshedAfter401 {
                    refreshedAfter401 = true
                    await tokens.invalidate()
                    continue
                }
                if !RetryPolicy.isRetryable(status: reply.status) || attempt >= retry.maxAttempts { return reply }
            } catch {
                guard let failure = Self.transportFailure(error) else { throw error }
                if attempt >= retry.maxAttempts { throw failure }
            }
            try await Task.sleep(for: retry.delay(after: attempt))
            attempt += 1
        }
    }

    /// Sends a JSON body (`Content-Type: application/json`).
    public func sendJSON(_ method: String, _ path: String, json: String, timeout: Duration = .seconds(60)) async throws -> HTTPReply {
        try await send(method, path, headers: [("Content-Type", "application/json")], body: .bytes(Array(json.utf8)),
                       timeout: timeout)
    }

    /// Streams a 2xx answer into `file`; returns the reply (with its body only when it is an error).
    public func download(_ path: String, toFile file: String, timeout: Duration = .seconds(3600)) async throws -> HTTPReply {
        let url = path.hasPrefix("http://") || path.hasPrefix("https://") ? path : baseURL + path
        var attempt = 1
        while true {
            try Task.checkCancellation()
            var headers: [(name: String, value: String)] = []
            if let tokens {
                let authorization = try await tokens.authorizationHeader()
                headers.append((name: "Authorization", value: authorization))
            }
            do {
                let reply = try await transport.download(HTTPRequestSpec(method: "GET", url: url, headers: headers),
                                                         toFile: file, timeout: timeout)
                if !RetryPolicy.isRetryable(status: reply.status) || attempt >= retry.maxAttempts { return reply }
            } catch {
                guard let failure = Self.transportFailure(error) else { throw error }
                if attempt >= retry.maxAttempts { throw failure }
            }
            try await Task.sleep(for: retry.delay(after: attempt))
            attempt += 1
        }
    }

    /// Sends `spec` (no auth added), retrying like `send`; for token endpoints and the metadata server.
    public static func sendRetrying(transport: HTTPTransport, retry: RetryPolicy, timeout: Duration = .seconds(60),
                                    _ request: () throws -> HTTPRequestSpec) async throws -> HTTPReply {
        let spec = try request()
        var attempt = 1
        while true {
            try Task.checkCancellation()
            do {
                let reply = try await transport.send(spec, timeout: timeout)
                if !RetryPolicy.isRetryable(status: reply.status) || attempt >= retry.maxAttempts { return reply }
            } catch {
                guard let failure = transportFailure(error) else { throw error }
                if attempt >= retry.maxAttempts { throw failure }
            }
            try await Task.sleep(for: retry.delay(after: attempt))
            attempt += 1
        }
    }

    /// The error as a transport failure (worth retrying), or nil for cancellation and credential problems.
    /// The client reports refused connections and timeouts as NIO errors, not only `HTTPTransportError`.
    static func transportFailure(_ error: any Error) -> HTTPTransportError? {
        switch error {
        case is CancellationError, is CredentialsError: return nil
        case let error as HTTPTransportError: return error
        default: return HTTPTransportError("\(error)")
        }
    }

    /// Percent-encodes one path segment or query value (everything but the unreserved set).
    public static func encode(_ text: String) -> String {
        Encoding.uriEncode(text, keepSlash: false)
    }

    /// The `status` and `message` of a Google JSON error body, for one-line errors.
    public static func errorSummary(_ reply: HTTPReply) -> String {
        let text = reply.bodyText
        func field(_ name: String) -> String? {
            guard let range = text.firstRange(of: "\"\(name)\"") else { return nil }
            let rest = text[range.upperBound...].drop { $0 == " " || $0 == ":" }
            guard rest.first == "\"" else { return nil }
            let value = rest.dropFirst().prefix { $0 != "\"" }
            return value.isEmpty ? nil : String(value)
        }
        let parts = [field("status"), field("message")].compactMap { $0 }
        return "HTTP \(reply.status)" + (parts.isEmpty ? "" : " " + parts.joined(separator: ": "))
    }
}
