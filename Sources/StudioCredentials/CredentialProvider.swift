#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A credential that knows when it must be replaced.
public protocol ExpiringCredential: Sendable {
    /// How urgently the credential needs replacing at `now`.
    func refreshUrgency(now: Date) -> RefreshUrgency
}

extension AWSCredentials: ExpiringCredential {}
extension GoogleAccessToken: ExpiringCredential {}

/// Produces a fresh credential each time it is asked (reading a file, calling STS, the metadata server, …).
public protocol CredentialProvider<Credential>: Sendable {
    /// What the provider produces.
    associatedtype Credential: ExpiringCredential
    /// Fetches a new credential now; callers cache (see `CachingCredentialProvider`).
    func fetchCredential() async throws -> Credential
}

/// Always hands out the same credential (keys from the environment, a profile or the message).
public struct StaticCredentialProvider<Credential: ExpiringCredential>: CredentialProvider {
    /// The credential handed out.
    public let credential: Credential

    /// Wraps `credential`.
    public init(_ credential: Credential) { self.credential = credential }

    /// Returns the credential.
    public func fetchCredential() async throws -> Credential { credential }
}

/// Caches another provider's credential with single-flight refresh (docs/google.md#token-caching, docs/aws.md#refresh-windows): concurrent callers share
/// one fetch; inside the advisory window the cached value is returned while one background refresh runs;
/// inside the mandatory window callers wait for the refresh.
public actor CachingCredentialProvider<Base: CredentialProvider>: CredentialProvider {
    /// The cached credential type.
    public typealias Credential = Base.Credential

    private let base: Base
    private let now: @Sendable () -> Date
    private var cached: Credential?
    private var inFlight: Task<Credential, Error>?

    /// Wraps `base`; `now` is injectable for tests.
    public init(_ base: Base, now: @escaping @Sendable () -> Date = { Date() }) {
        self.base = base
        self.now = now
    }

    /// The cached credential, refreshed as its urgency requires.
    public func fetchCredential() async throws -> Credential {
        if let cached {
            switch cached.refreshUrgency(now: now()) {
            case .none:
                return cached
            case .advisory:
                if inFlight == nil { Task { _ = try? await self.refresh() } }
                return cached
            case .mandatory:
                break
            }
        }
        return try await refresh()
    }

    /// Forgets the cached credential (e.g. after a 401), so the next call fetches.
    public func invalidate() {
        cached = nil
    }

    /// Joins the refresh in flight or starts one.
    private func refresh() async throws -> Credential {
        if let inFlight { return try await inFlight.value }
        let base = self.base
        let task = Task { try await base.fetchCredential() }
        inFlight = task
        defer { inFlight = nil }
        let fresh = try await task.value
        cached = fresh
        return fresh
    }
}
