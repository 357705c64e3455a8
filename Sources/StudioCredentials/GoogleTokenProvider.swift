#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioHTTP

/// Google access tokens for API calls, cached and refreshed before they expire (docs/google.md#token-caching), from the Application
/// Default Credentials source; also the project id the APIs are addressed to.
public final class GoogleTokenProvider: Sendable {
    /// `https://www.googleapis.com/auth/cloud-platform`: enough for Pub/Sub and Cloud Storage.
    public static let cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

    /// The fetcher doing the network work.
    public let fetcher: GoogleTokenFetcher
    private let cache: CachingCredentialProvider<GoogleTokenFetcher>
    private let environment: [String: String]

    /// A provider over `source` (see `GoogleApplicationDefaultCredentials.resolve`).
    public init(source: GoogleCredentialSource, scopes: [String] = [cloudPlatformScope], environment: [String: String],
                transport: HTTPTransport = .shared, retry: RetryPolicy = .standard,
                now: @escaping @Sendable () -> Date = { Date() }) {
        fetcher = GoogleTokenFetcher(source: source, scopes: scopes, transport: transport, retry: retry, now: now)
        cache = CachingCredentialProvider(fetcher, now: now)
        self.environment = environment
    }

    /// The provider Application Default Credentials select in `environment`; throws a one-line `CredentialsError`
    /// naming the file and field when a configured credentials file is missing or malformed.
    public static func applicationDefault(environment: [String: String], scopes: [String] = [cloudPlatformScope])
        throws -> GoogleTokenProvider {
        GoogleTokenProvider(source: try GoogleApplicationDefaultCredentials.resolve(environment: environment),
                            scopes: scopes, environment: environment)
    }

    /// A valid access token (cached until 5 min — 3 min 45 s for the metadata server — before its expiry).
    public func accessToken() async throws -> String {
        try await cache.fetchCredential().token
    }

    /// The `Authorization` header value for an API call.
    public func authorizationHeader() async throws -> String {
        "Bearer " + (try await accessToken())
    }

    /// Drops the cached token (after an API answered 401), so the next call fetches a new one.
    public func invalidate() async {
        await cache.invalidate()
    }

    /// The project: `GOOGLE_CLOUD_PROJECT` / `GCLOUD_PROJECT`, else the credentials file's `project_id`, else the
    /// metadata server's; throws when none of them names one.
    public func projectId() async throws -> String {
        let file = try fetcher.currentFile()
        let source: GoogleCredentialSource? = file.map { .file(path: "", $0) }
        if let project = GoogleApplicationDefaultCredentials.projectId(environment: environment, source: source) {
            return project
        }
        if let project = try await fetcher.metadataProjectId() { return project }
        throw CredentialsError(.notFound, "no Google Cloud project: set GOOGLE_CLOUD_PROJECT (\(fetcher.sourceDescription) names none)")
    }
}
