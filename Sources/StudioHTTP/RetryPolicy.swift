/// When and how long to wait before trying a failed call again: exponential backoff with full
/// jitter (as the AWS and Google SDKs do). The one retry loop of every HTTP caller is `run`; what
/// each caller retries is its classification closure (`RetryVerdict`), by default `standardVerdict`:
/// throttling (429), server errors (5xx) and transport failures; never other 4xx answers, which
/// would fail again the same way.
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

    /// The standard classification: retry retryable statuses and `HTTPTransportError`s (the transport
    /// wraps every failure to connect, send or receive in one); take any other reply or error as final.
    @Sendable public static func standardVerdict(_ outcome: Result<HTTPReply, any Error>) -> RetryVerdict {
        switch outcome {
        case .success(let reply): return isRetryable(status: reply.status) ? .retry : .final
        case .failure(let error): return (error as? HTTPTransportError)?.isRetryable == true ? .retry : .final
        }
    }

    /// The one send-and-retry loop. Runs `attempt`, asks `classify` what its outcome means, and:
    /// `.final` returns the reply (or rethrows the error); `.retry` waits `delay(after:)` and tries
    /// again while attempts remain, then returns the last reply or throws the last error;
    /// `.refreshCredentials` calls `refresh` and tries again at once, once per call (a second time it
    /// counts as `.final`: fresh credentials refused again will not do better). Cancellation always ends the loop.
    public func run(classify: (Result<HTTPReply, any Error>) -> RetryVerdict = RetryPolicy.standardVerdict,
                    refresh: () async -> Void = {},
                    _ attempt: () async throws -> HTTPReply) async throws -> HTTPReply {
        var attempts = 1
        var refreshed = false
        while true {
            try Task.checkCancellation()
            let outcome: Result<HTTPReply, any Error>
            do {
                outcome = .success(try await attempt())
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                outcome = .failure(error)
            }
            var verdict = classify(outcome)
            if verdict == .refreshCredentials {
                if !refreshed {
                    refreshed = true
                    await refresh()
                    continue
                }
                verdict = .final
            }
            if verdict == .final || attempts >= maxAttempts { return try outcome.get() }
            try await Task.sleep(for: delay(after: attempts))
            attempts += 1
        }
    }

    /// Sends `request` through `transport` under the standard classification; returns the last reply
    /// (retryable or not) once attempts run out, or throws the last `HTTPTransportError`.
    public func send(_ transport: HTTPTransport, timeout: Duration = .seconds(60),
                     _ request: @Sendable () async throws -> HTTPRequestSpec) async throws -> HTTPReply {
        try await run { try await transport.send(try await request(), timeout: timeout) }
    }
}

/// What one attempt's outcome means to `RetryPolicy.run`.
public enum RetryVerdict: Sendable, Equatable {
    /// The answer (or error) is the call's result.
    case final
    /// Transient: wait with backoff and try again while attempts remain.
    case retry
    /// The credentials were refused or expired: refresh them and try again at once (once per call).
    case refreshCredentials
}
