#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An AWS key pair with an optional session token and expiry; printing it never shows a secret.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The access key id (`AKIA…` long-term, `ASIA…` temporary); not secret, but shown shortened.
    public var accessKeyId: String
    /// The secret access key.
    public var secretAccessKey: String
    /// The session token of temporary credentials.
    public var sessionToken: String?
    /// When temporary credentials stop working; nil for long-term keys.
    public var expiration: Date?

    /// Creates credentials from their parts.
    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    /// botocore's advisory window: refresh in the background when less than this remains (docs/aws.md#refresh-windows).
    public static let advisoryRefreshWindow: TimeInterval = 15 * 60
    /// botocore's mandatory window: block and refresh when less than this remains (docs/aws.md#refresh-windows).
    public static let mandatoryRefreshWindow: TimeInterval = 10 * 60

    /// How urgently these credentials need replacing at `now` (never, for credentials without an expiry).
    public func refreshUrgency(now: Date) -> RefreshUrgency {
        guard let expiration else { return .none }
        let remaining = expiration.timeIntervalSince(now)
        if remaining < Self.mandatoryRefreshWindow { return .mandatory }
        if remaining < Self.advisoryRefreshWindow { return .advisory }
        return .none
    }

    /// Whether the credentials have already expired at `now`.
    public func isExpired(now: Date) -> Bool {
        guard let expiration else { return false }
        return expiration <= now
    }

    /// The access key id shortened to its first four and last four characters.
    public var redactedAccessKeyId: String {
        guard accessKeyId.count > 8 else { return String(repeating: "*", count: accessKeyId.count) }
        return accessKeyId.prefix(4) + "…" + accessKeyId.suffix(4)
    }

    /// A redacted summary: the shortened key id, whether a session token is present, and the expiry.
    public var description: String {
        var text = "AWSCredentials(accessKeyId: \(redactedAccessKeyId), secretAccessKey: <redacted>"
        text += sessionToken == nil ? ", sessionToken: nil" : ", sessionToken: <redacted>"
        if let expiration { text += ", expiration: \(Timestamps.rfc3339(expiration))" }
        return text + ")"
    }

    /// The same redacted summary as `description`.
    public var debugDescription: String { description }

    /// A reflection without secrets, so `dump()` and debuggers cannot leak them either.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "accessKeyId": redactedAccessKeyId,
            "secretAccessKey": "<redacted>",
            "sessionToken": sessionToken == nil ? "nil" : "<redacted>",
            "expiration": expiration.map(Timestamps.rfc3339) ?? "nil",
        ], displayStyle: .struct)
    }
}

/// How urgently a cached credential must be replaced.
public enum RefreshUrgency: Int, Sendable, Comparable {
    /// Still good for a while.
    case none = 0
    /// Refresh soon; keep using the current one meanwhile (one caller refreshes, others don't wait).
    case advisory = 1
    /// Too close to expiry to use; wait for a refresh.
    case mandatory = 2

    /// Orders by urgency.
    public static func < (lhs: RefreshUrgency, rhs: RefreshUrgency) -> Bool { lhs.rawValue < rhs.rawValue }
}
