/// When and how long to wait before trying a failed call again: exponential backoff with full
/// jitter (as the AWS and Google SDKs do), on throttling (429), server errors (5xx) and failures
/// to connect; never on other 4xx answers, which would fail again the same way.
public struct RetryPolicy: Sendable {
    /// Calls in all, the first included.
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 6, baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(20)) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The default for API calls.
    public static let standard = RetryPolicy()

    /// Whether an HTTP status is worth retrying: throttling, timeouts and server errors, but not 501
    /// (the server does not implement the method) or 505 (nor the HTTP version), which RFC 9110 makes
    /// answers about the request, not the moment: a wrong endpoint would be retried forever.
    public static func isRetryable(status: Int) -> Bool {
        status == 429 || status == 408 || ((500...599).contains(status) && status != 501 && status != 505)
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1).
    public func delay(after attempt: Int) -> Duration {
        let cap = Double(maxDelay.components.seconds) + Double(maxDelay.components.attoseconds) / 1e18
        let base = Double(baseDelay.components.seconds) + Double(baseDelay.components.attoseconds) / 1e18
        let ceiling = min(cap, base * Double(1 << min(attempt, 16)))
        return .milliseconds(Int(Double.random(in: 0...ceiling) * 1000))
    }

    /// Sends `request` through `transport`, retrying transport failures and retryable statuses;
    /// returns the last reply (retryable or not) once attempts run out.
    public func send(_ transport: HTTPTransport, _ request: @Sendable () async throws -> HTTPRequestSpec) async throws -> HTTPReply {
        var attempt = 1
        while true {
            do {
                let reply = try await transport.send(try await request())
                if !Self.isRetryable(status: reply.status) || attempt >= maxAttempts { return reply }
            } catch let error as HTTPTransportError {
                if attempt >= maxAttempts { throw error }
            }
            try await Task.sleep(for: delay(after: attempt))
            attempt += 1
        }
    }
}
