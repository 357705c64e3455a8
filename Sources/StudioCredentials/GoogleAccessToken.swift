#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A Google OAuth access token with its expiry and the refresh margin that suits its source (docs/google.md#token-caching).
public struct GoogleAccessToken: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Metadata-server tokens: 3 min 45 s, under the server's 4-minute cache edge (docs/google.md#the-metadata-server).
    public static let metadataServerMargin: TimeInterval = 225
    /// JWT-bearer, STS and impersonated tokens: 5 minutes.
    public static let exchangedTokenMargin: TimeInterval = 300
    /// Self-signed JWTs: re-sign 5 minutes before `exp`.
    public static let selfSignedJWTMargin: TimeInterval = 300

    /// The bearer token.
    public let token: String
    /// When the token stops working; nil if the server did not say.
    public let expiry: Date?
    /// How long before `expiry` to fetch a new one.
    public let refreshMargin: TimeInterval

    /// Creates a token.
    public init(token: String, expiry: Date?, refreshMargin: TimeInterval = exchangedTokenMargin) {
        self.token = token
        self.expiry = expiry
        self.refreshMargin = refreshMargin
    }

    /// Whether to fetch a new token at `now` (within the margin of expiry; never for tokens without an expiry).
    public func needsRefresh(now: Date) -> Bool { refreshUrgency(now: now) != .none }

    /// `.mandatory` inside the refresh margin, else `.none`.
    public func refreshUrgency(now: Date) -> RefreshUrgency {
        guard let expiry else { return .none }
        return now >= expiry.addingTimeInterval(-refreshMargin) ? .mandatory : .none
    }

    /// Parses a token endpoint answer: `{"access_token","expires_in"}` (OAuth, STS, metadata server; `expires_in`
    /// as number or string) or `{"accessToken","expireTime"}` (IAM `generateAccessToken`).
    public static func parse(response bytes: [UInt8], receivedAt: Date, refreshMargin: TimeInterval,
                             source: String) throws -> GoogleAccessToken {
        let fields = try JSONFields(parsing: bytes, context: "the token response from \(source)")
        if let error = try? fields.string("error") {
            let detail = (try? fields.string("error_description")).flatMap { $0 }.map { ": " + $0 } ?? ""
            throw CredentialsError(.invalidField, "\(source) refused the token request with \(error)\(detail)")
        }
        if let token = try fields.string("access_token") {
            let expiresIn = try fields.integer("expires_in")
            return GoogleAccessToken(token: token, expiry: expiresIn.map { receivedAt.addingTimeInterval(Double($0)) },
                                     refreshMargin: refreshMargin)
        }
        if let token = try fields.string("accessToken") {
            var expiry: Date?
            if let text = try fields.string("expireTime") {
                guard let parsed = Timestamps.parseRFC3339(text) else {
                    throw CredentialsError(.invalidField, "\(fields.context): field \"expireTime\" is not an RFC 3339 time")
                }
                expiry = parsed
            }
            return GoogleAccessToken(token: token, expiry: expiry, refreshMargin: refreshMargin)
        }
        throw CredentialsError(.missingField, "\(fields.context) is missing field \"access_token\"")
    }

    /// The expiry only; the token is redacted.
    public var description: String {
        "GoogleAccessToken(token: <redacted>, expiry: \(expiry.map(Timestamps.rfc3339) ?? "nil"))"
    }

    /// The same as `description`.
    public var debugDescription: String { description }

    /// A reflection without the token.
    public var customMirror: Mirror {
        Mirror(self, children: ["token": "<redacted>", "expiry": expiry.map(Timestamps.rfc3339) ?? "nil"],
               displayStyle: .struct)
    }
}
