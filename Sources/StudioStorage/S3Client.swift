#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioCredentials
import StudioHTTP

/// Signs (SigV4, service `s3`) and sends S3 REST calls with retries and one fresh-credentials retry.
struct S3Client: Sendable {
    let chain: AWSCredentialChain
    let transport: HTTPTransport
    let retry: RetryPolicy

    /// The request body and how its payload is hashed for the signature.
    enum Payload {
        case none
        case bytes([UInt8])
        /// Streamed from a file; signed as `UNSIGNED-PAYLOAD` (it cannot be hashed without reading it twice).
        case file(path: String, offset: Int64, length: Int64)

        var body: HTTPRequestSpec.Body {
            switch self {
            case .none: return .none
            case .bytes(let bytes): return .bytes(bytes)
            case let .file(path, offset, length): return .file(path: path, offset: offset, length: length)
            }
        }

        var hash: AWSPayloadHash {
            switch self {
            case .none: return .empty
            case .bytes(let bytes): return .sha256(of: bytes)
            case .file: return .unsigned
            }
        }
    }

    /// A signed request for `method url`.
    func signed(_ method: String, _ url: String, headers: [(name: String, value: String)] = [], payload: Payload) async throws -> HTTPRequestSpec {
        let credentials = try await chain.credentials()
        let signer = AWSSigner(credentials: credentials, region: chain.region, service: "s3")
        let signature = try signer.sign(method: method, url: url, headers: headers, payload: payload.hash, date: Date())
        return HTTPRequestSpec(method: method, url: url, headers: signature.headers, body: payload.body)
    }

    /// Sends with retries on 429/5xx/connection errors; returns the final reply (error statuses included).
    func send(_ method: String, _ url: String, headers: [(name: String, value: String)] = [], payload: Payload = .none,
              timeout: Duration = .seconds(120), operation: String) async throws -> HTTPReply {
        try await withRetries(operation: operation) {
            let request = try await signed(method, url, headers: headers, payload: payload)
            return try await transport.send(request, timeout: timeout)
        }
    }

    /// Streams a 2xx answer into `path`; returns the reply (its body holds the error text otherwise).
    func download(_ url: String, toFile path: String, operation: String) async throws -> HTTPReply {
        try await withRetries(operation: operation) {
            let request = try await signed("GET", url, payload: .none)
            return try await transport.download(request, toFile: path)
        }
    }

    /// Sends under the retry policy: 429/5xx and transport failures with backoff, expired credentials
    /// once with fresh ones; a transport failure that outlasts the attempts is a transient `StorageError`.
    private func withRetries(operation: String, _ attemptOnce: () async throws -> HTTPReply) async throws -> HTTPReply {
        do {
            return try await retry.run(classify: { outcome in
                if case .success(let reply) = outcome, !reply.isSuccess,
                   S3ServiceError(operation: operation, status: reply.status, body: reply.body).isExpiredCredentials {
                    return .refreshCredentials
                }
                return RetryPolicy.standardVerdict(outcome)
            }, refresh: { await chain.invalidate() }, attemptOnce)
        } catch let error as CredentialsError {
            throw StorageError("S3 \(operation): \(error)")
        } catch let error as HTTPTransportError {
            throw StorageError("S3 \(operation) failed: \(error)", transient: error.isRetryable)
        }
    }
}

extension StorageError {
    /// The error of an S3 answer, transient when its status is one worth retrying.
    init(_ error: S3ServiceError) {
        self.init(error.description, transient: RetryPolicy.isRetryable(status: error.status))
    }
}
