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
    /// `CredentialsError` when no token could be had. A 401 gets one fresh token.
    public func send(_ method: String, _ path: String, headers: [(name: String, value: String)] = [],
                     body: HTTPRequestSpec.Body = .none, timeout: Duration = .seconds(60)) async throws -> HTTPReply {
        let url = path.hasPrefix("http://") || path.hasPrefix("https://") ? path : baseURL + path
        return try await retry.run(classify: { outcome in
            if case .success(let reply) = outcome, reply.status == 401, tokens != nil { return .refreshCredentials }
            return RetryPolicy.standardVerdict(outcome)
        }, refresh: { await tokens?.invalidate() }) {
            let spec = HTTPRequestSpec(method: method, url: url, headers: try await authorized(headers), body: body)
            return try await transport.send(spec, timeout: timeout)
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
        return try await retry.run {
            let spec = HTTPRequestSpec(method: "GET", url: url, headers: try await authorized([]))
            return try await transport.download(spec, toFile: file, timeout: timeout)
        }
    }

    /// `headers` with the token's `Authorization` header added, when there are tokens.
    private func authorized(_ headers: [(name: String, value: String)]) async throws -> [(name: String, value: String)] {
        guard let tokens else { return headers }
        return headers + [(name: "Authorization", value: try await tokens.authorizationHeader())]
    }

    /// Sends `spec` (no auth added), retrying like `send`; for token endpoints and the metadata server.
    public static func sendRetrying(transport: HTTPTransport, retry: RetryPolicy, timeout: Duration = .seconds(60),
                                    _ request: () throws -> HTTPRequestSpec) async throws -> HTTPReply {
        let spec = try request()
        return try await retry.run { try await transport.send(spec, timeout: timeout) }
    }

    /// Percent-encodes one path segment or query value (everything but the unreserved set).
    public static func encode(_ text: String) -> String {
        PercentEncoding.encode(text, keepSlash: false)
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
