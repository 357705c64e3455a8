#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioHTTP
import Synchronization

/// Fetches a new Google access token for one credential source over HTTP (docs/google.md#protocol-notes): JWT-bearer
/// exchange for service-account keys, refresh-token grant for gcloud user credentials, STS exchange (and optional
/// impersonation) for workload identity federation, or the metadata server. A credentials file is re-read and
/// re-parsed whenever it changed on disk (a kubelet `..data` swap), so a rotated key is used without a restart.
public final class GoogleTokenFetcher: CredentialProvider, Sendable {
    /// The OAuth scopes requested.
    public let scopes: [String]
    /// Where the credentials come from, for messages.
    public let sourceDescription: String

    private enum Origin: Sendable {
        case file(path: String)
        case metadataServer(host: String)
    }

    private struct FileState: Sendable {
        var file: RotatingFile
        var parsed: GoogleCredentialsFile?
    }

    private let origin: Origin
    private let fileState: Mutex<FileState>
    private let transport: HTTPTransport
    private let retry: RetryPolicy
    private let now: @Sendable () -> Date
    /// Whether the metadata server ever answered: until it has, silence means "not on Google Cloud" (a
    /// configuration error); after, it is a passing outage.
    /// The metadata server is on the host (or the node): it answers at once or not at all (Python waits 3 s too).
    static let metadataTimeout: Duration = .seconds(3)
    private let metadataServerAnswered = Atomic<Bool>(false)

    /// A fetcher for `source` asking for `scopes`; the parsed file in `source` is only a first check, the file is
    /// re-read at the first fetch and whenever it changes.
    public init(source: GoogleCredentialSource, scopes: [String], transport: HTTPTransport = .shared,
                retry: RetryPolicy = .standard, now: @escaping @Sendable () -> Date = { Date() }) {
        switch source {
        case let .file(path, _):
            origin = .file(path: path)
            fileState = Mutex(FileState(file: RotatingFile(path: path), parsed: nil))
        case let .metadataServer(host):
            origin = .metadataServer(host: host)
            fileState = Mutex(FileState(file: RotatingFile(path: ""), parsed: nil))
        }
        sourceDescription = source.description
        self.scopes = scopes
        self.transport = transport
        self.retry = retry
        self.now = now
    }

    /// The credentials file as it is on disk now (re-parsed only when it changed); nil for the metadata server.
    public func currentFile() throws -> GoogleCredentialsFile? {
        guard case let .file(path) = origin else { return nil }
        return try fileState.withLock { state in
            if try state.parsed == nil || state.file.hasChanged() {
                let (contents, changed) = try state.file.read()
                if changed || state.parsed == nil {
                    state.parsed = try GoogleCredentialsFile.parse(contents, path: path)
                }
            }
            return state.parsed
        }
    }

    /// Fetches a fresh token from the source's endpoint.
    public func fetchCredential() async throws -> GoogleAccessToken {
        switch origin {
        case let .metadataServer(host):
            return try await metadataToken(host: host)
        case .file:
            switch try currentFile() {
            case let .serviceAccount(key)?:
                let assertion = try key.oauthAssertion(scopes: scopes, issuedAt: now())
                return try await exchange(at: key.tokenURI, form: [
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion),
                ])
            case let .authorizedUser(user)?:
                return try await exchange(at: user.tokenURI, form: [
                    ("grant_type", "refresh_token"), ("client_id", user.clientId),
                    ("client_secret", user.clientSecret), ("refresh_token", user.refreshToken),
                ])
            case let .externalAccount(account)?:
                return try await externalAccountToken(account)
            case nil:
                throw CredentialsError(.notFound, "no Google credentials in \(sourceDescription)")
            }
        }
    }

    /// The project the metadata server reports (`project/project-id`); nil when not on a metadata-server source.
    public func metadataProjectId() async throws -> String? {
        guard case let .metadataServer(host) = origin else { return nil }
        let reply = try await GoogleAPIClient.sendRetrying(transport: transport, retry: retry, timeout: Self.metadataTimeout) {
            HTTPRequestSpec(method: "GET", url: "http://\(host)/computeMetadata/v1/project/project-id",
                            headers: [("Metadata-Flavor", "Google")])
        }
        guard reply.isSuccess else {
            throw CredentialsError(.notFound, "the metadata server at \(host) answered \(reply.status) for the project id; "
                                   + "set GOOGLE_CLOUD_PROJECT")
        }
        let text = Encoding.trimmed(String(decoding: reply.body, as: UTF8.self))
        return text.isEmpty ? nil : text
    }

    private func metadataToken(host: String) async throws -> GoogleAccessToken {
        let base = "http://\(host)/computeMetadata/v1/instance/service-accounts/default/token"
        let url = scopes.isEmpty ? base : base + "?scopes=" + scopes.map { PercentEncoding.encode($0, keepSlash: false) }.joined(separator: ",")
        let reply: HTTPReply
        do {
            reply = try await GoogleAPIClient.sendRetrying(transport: transport, retry: retry, timeout: Self.metadataTimeout) {
                HTTPRequestSpec(method: "GET", url: url, headers: [("Metadata-Flavor", "Google")])
            }
        } catch let error as HTTPTransportError {
            if metadataServerAnswered.load(ordering: .relaxed) { throw error }
            throw CredentialsError(.notFound, "no Google credentials: GOOGLE_APPLICATION_CREDENTIALS is not set and the metadata "
                                     + "server at \(host) did not answer (\(error)); mount a key file and set "
                                     + "GOOGLE_APPLICATION_CREDENTIALS, or run on GCE/GKE")
        }
        metadataServerAnswered.store(true, ordering: .relaxed)
        return try parseTokenReply(reply, source: "the metadata server at \(host)", margin: GoogleAccessToken.metadataServerMargin)
    }

    private func externalAccountToken(_ account: GoogleExternalAccount) async throws -> GoogleAccessToken {
        let subjectToken: String
        switch account.source {
        case .file:
            subjectToken = try account.readSubjectTokenFile()
        case let .url(url, headers):
            let reply = try await GoogleAPIClient.sendRetrying(transport: transport, retry: retry) {
                HTTPRequestSpec(method: "GET", url: url, headers: headers.map { (name: $0.key, value: $0.value) })
            }
            guard reply.isSuccess else {
                throw CredentialsError(.unreadableFile, "the subject token URL \(HTTPTransport.redactedURL(url)) answered \(reply.status)")
            }
            subjectToken = try account.subjectToken(from: reply.body, origin: HTTPTransport.redactedURL(url))
        }
        let stsScopes = account.serviceAccountImpersonationURL == nil ? scopes : ["https://www.googleapis.com/auth/cloud-platform"]
        var form: [(String, String)] = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"), ("audience", account.audience),
            ("scope", stsScopes.joined(separator: " ")),
            ("requested_token_type", "urn:ietf:params:oauth:token-type:access_token"),
            ("subject_token", subjectToken), ("subject_token_type", account.subjectTokenType),
        ]
        if let project = account.workforcePoolUserProject {
            form.append(("options", #"{"userProject":"# + Encoding.jsonString(project) + "}"))
        }
        var headers: [(name: String, value: String)] = []
        if let id = account.clientId, let secret = account.clientSecret {
            headers.append(("Authorization", "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString()))
        }
        let stsToken = try await exchange(at: account.tokenURL, form: form, headers: headers)
        guard let impersonationURL = account.serviceAccountImpersonationURL else { return stsToken }

        var body = #"{"scope":["# + scopes.map(Encoding.jsonString).joined(separator: ",") + "]"
        body += #","lifetime":"\#(account.tokenLifetimeSeconds ?? 3600)s"}"#
        let bytes = Array(body.utf8)
        let receivedAt = now()
        let reply = try await GoogleAPIClient.sendRetrying(transport: transport, retry: retry) {
            HTTPRequestSpec(method: "POST", url: impersonationURL,
                            headers: [("Authorization", "Bearer " + stsToken.token), ("Content-Type", "application/json")],
                            body: .bytes(bytes))
        }
        return try parseTokenReply(reply, source: HTTPTransport.redactedURL(impersonationURL),
                                   margin: GoogleAccessToken.exchangedTokenMargin, receivedAt: receivedAt)
    }

    /// POSTs an `application/x-www-form-urlencoded` token request and parses the answer.
    private func exchange(at url: String, form: [(String, String)], headers: [(name: String, value: String)] = [])
        async throws -> GoogleAccessToken {
        let body = form.filter { !$0.1.isEmpty }
            .map { PercentEncoding.encode($0.0, keepSlash: false) + "=" + PercentEncoding.encode($0.1, keepSlash: false) }
            .joined(separator: "&")
        let bytes = Array(body.utf8)
        let allHeaders: [(name: String, value: String)] = headers
            + [(name: "Content-Type", value: "application/x-www-form-urlencoded"), (name: "Accept", value: "application/json")]
        let receivedAt = now()
        let reply = try await GoogleAPIClient.sendRetrying(transport: transport, retry: retry) {
            HTTPRequestSpec(method: "POST", url: url, headers: allHeaders, body: .bytes(bytes))
        }
        return try parseTokenReply(reply, source: "the token endpoint \(HTTPTransport.redactedURL(url))",
                                   margin: GoogleAccessToken.exchangedTokenMargin, receivedAt: receivedAt)
    }

    private func parseTokenReply(_ reply: HTTPReply, source: String, margin: TimeInterval, receivedAt: Date? = nil)
        throws -> GoogleAccessToken {
        guard reply.isSuccess else {
            if RetryPolicy.isRetryable(status: reply.status) {
                throw HTTPTransportError("\(source) kept answering \(reply.status); will try again later")
            }
            // OAuth errors come as {"error": "...", "error_description": "..."} and never echo a secret.
            do {
                _ = try GoogleAccessToken.parse(response: reply.body, receivedAt: Date(), refreshMargin: margin, source: source)
            } catch let error as CredentialsError where error.message.contains(" refused ") {
                throw CredentialsError(.invalidField, "\(error.message) (HTTP \(reply.status)); check \(sourceDescription)")
            } catch {}
            throw CredentialsError(.invalidField, "\(source) refused the token request with HTTP \(reply.status); "
                                   + "check \(sourceDescription)")
        }
        return try GoogleAccessToken.parse(response: reply.body, receivedAt: receivedAt ?? now(), refreshMargin: margin,
                                           source: source)
    }
}
