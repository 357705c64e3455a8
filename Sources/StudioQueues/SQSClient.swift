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
        let reply = try await send(action: action) {
            let credentials = try await chain.credentials()
            let signer = AWSSigner(credentials: credentials, region: chain.region, service: "sqs")
            let signed = try signer.signSQSRequest(action: action, url: endpoint, body: bytes, date: Date())
            return HTTPRequestSpec(method: "POST", url: endpoint, headers: signed.headers, body: .bytes(bytes))
        }
        guard reply.isSuccess else { throw SQSServiceError(action: action, reply: reply) }
        if reply.body.isEmpty { return .object(JSONObject()) }
        do {
            return try JSONValue(parsing: Data(reply.body))
        } catch {
            throw QueueError(.transient, "SQS \(action) answered something that is not JSON: \(reply.bodyText.prefix(200))")
        }
    }

    /// Sends under the retry policy: 429/5xx and transport failures with backoff, an expired token once
    /// with fresh credentials; returns the last reply once attempts run out.
    private func send(action: String, _ request: () async throws -> HTTPRequestSpec) async throws -> HTTPReply {
        do {
            return try await retry.run(classify: { outcome in
                if case .success(let reply) = outcome, !reply.isSuccess,
                   SQSServiceError(action: action, reply: reply).isExpiredCredentials {
                    return .refreshCredentials
                }
                return RetryPolicy.standardVerdict(outcome)
            }, refresh: { await chain.invalidate() }) {
                try await transport.send(try await request(), timeout: .seconds(60))
            }
        } catch let error as HTTPTransportError {
            throw HTTPTransportError("SQS at \(endpoint): \(error)", isRetryable: error.isRetryable)
        }
    }
}
