#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioCredentials
import StudioHTTP
import StudioModel

/// An error answer of the SQS JSON protocol: `__type` (namespace stripped) and `message`.
public struct SQSServiceError: Error, CustomStringConvertible, Sendable {
    /// The short error code, e.g. `QueueDoesNotExist`, `RequestThrottled`.
    public var code: String
    /// The service's message.
    public var message: String
    /// The HTTP status.
    public var status: Int
    /// The action that failed.
    public var action: String

    /// "SQS <action> failed: <code> (HTTP s): <message>".
    public var description: String {
        "SQS \(action) failed: \(code) (HTTP \(status))" + (message.isEmpty ? "" : ": \(message)")
    }

    /// Reads the error from an SQS JSON (or query-mode XML) error reply.
    init(action: String, reply: HTTPReply) {
        self.action = action
        status = reply.status
        let json = try? JSONValue(parsing: Data(reply.body))
        var type = json?["__type"]?.stringValue ?? json?["code"]?.stringValue ?? ""
        if type.isEmpty, let queryCode = reply.header("x-amzn-query-error") {
            type = String(queryCode.prefix { $0 != ";" })
        }
        if type.isEmpty {
            let text = String(decoding: reply.body, as: UTF8.self)
            if let start = text.firstRange(of: "<Code>"), let end = text[start.upperBound...].firstRange(of: "</Code>") {
                type = String(text[start.upperBound..<end.lowerBound])
            }
        }
        if let hash = type.lastIndex(of: "#") { type = String(type[type.index(after: hash)...]) }
        if let colon = type.firstIndex(of: ":") { type = String(type[..<colon]) }
        code = type.isEmpty ? "HTTP\(reply.status)" : type
        message = json?["message"]?.stringValue ?? json?["Message"]?.stringValue ?? ""
    }

    /// Codes that mean the credentials or permissions are wrong: retrying will not help.
    var isAuthorizationFailure: Bool {
        ["AccessDenied", "AccessDeniedException", "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException",
         "MissingAuthenticationToken", "IncompleteSignature", "InvalidSecurity", "KMS.AccessDeniedException"].contains(code)
    }

    /// Codes that mean temporary credentials ran out: fetch fresh ones and try again.
    var isExpiredCredentials: Bool {
        ["ExpiredToken", "ExpiredTokenException", "RequestExpired"].contains(code)
    }

    /// An answer with no SQS error code in it (no `__type`, query error header or `<Code>`): not SQS speaking.
    var carriesNoErrorCode: Bool { code == "HTTP\(status)" }

    /// SQS's answer to a request it will never accept as sent: a bad queue name, attribute or parameter.
    var isInvalidParameter: Bool {
        ["InvalidParameterValue", "InvalidParameterValueException", "InvalidAttributeName", "InvalidAttributeValue"].contains(code)
    }

    /// The SQS short name for a missing queue, in both protocols.
    var isMissingQueue: Bool {
        code == "QueueDoesNotExist" || code == "AWS.SimpleQueueService.NonExistentQueue" || code == "NonExistentQueue"
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
