#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioCredentials
import StudioHTTP
import StudioModel

extension SQSServiceError {
    /// Reads the error from an SQS reply.
    init(action: String, reply: HTTPReply) {
        self.init(action: action, status: reply.status, body: reply.body, queryErrorHeader: reply.header("x-amzn-query-error"))
    }
}

/// Signs and sends SQS JSON 1.0 calls (`X-Amz-Target: AmazonSQS.<Action>`), with retries on throttling,
/// 5xx and connection errors, and one fresh-credentials retry on an expired token.
struct SQSClient: Sendable {
    let endpoint: String
    let chain: AWSCredentialChain
    let transport: HTTPTransport
    let retry: RetryPolicy

    /// Sends `action` with `body`; returns the reply object (`{}` when empty) or throws `SQSServiceError`.
    func call(_ action: String, _ body: JSONObject) async throws -> JSONValue {
        let bytes = Array(JSONValue.object(body).serialized(.compact).utf8)
        var refreshed = false
        while true {
            let credentials = try await chain.credentials()
            let signer = AWSSigner(credentials: credentials, region: chain.region, service: "sqs")
            let url = endpoint
            let reply = try await send {
                let signed = try signer.signSQSRequest(action: action, url: url, body: bytes, date: Date())
                return HTTPRequestSpec(method: "POST", url: url, headers: signed.headers, body: .bytes(bytes))
            }
            guard reply.isSuccess else {
                let error = SQSServiceError(action: action, reply: reply)
                if error.isExpiredCredentials, !refreshed {
                    refreshed = true
                    await chain.invalidate()
                    continue
                }
                throw error
            }
            if reply.body.isEmpty { return .object(JSONObject()) }
            do {
                return try JSONValue(parsing: Data(reply.body))
            } catch {
                throw QueueError(.transient, "SQS \(action) answered something that is not JSON: \(reply.bodyText.prefix(200))")
            }
        }
    }

    /// Sends with the retry policy's backoff on 429/5xx and on every transport failure (NIO's connection
    /// errors included, which the transport does not all wrap); returns the last reply once attempts run out.
    private func send(_ request: () throws -> HTTPRequestSpec) async throws -> HTTPReply {
        var attempt = 1
        while true {
            do {
                let reply = try await transport.send(try request(), timeout: .seconds(60))
                if !RetryPolicy.isRetryable(status: reply.status) || attempt >= retry.maxAttempts { return reply }
            } catch let error as CredentialsError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if attempt >= retry.maxAttempts { throw HTTPTransportError("SQS at \(endpoint): \(error)") }
            }
            try await Task.sleep(for: retry.delay(after: attempt))
            attempt += 1
        }
    }
}
