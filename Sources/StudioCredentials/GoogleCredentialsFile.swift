#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A Google credentials JSON file (ADC), by its `type` (docs/google.md#protocol-notes).
public enum GoogleCredentialsFile: Sendable, CustomStringConvertible {
    /// `"type": "service_account"`: a key that signs JWTs.
    case serviceAccount(GoogleServiceAccountKey)
    /// `"type": "authorized_user"`: a gcloud user refresh token.
    case authorizedUser(GoogleAuthorizedUser)
    /// `"type": "external_account"`: Workload Identity Federation.
    case externalAccount(GoogleExternalAccount)

    /// Reads and parses the file at `path`.
    public static func load(path: String) throws -> GoogleCredentialsFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw CredentialsError(.unreadableFile, exists ? "cannot read Google credentials file \(path): check its permissions"
                                   : "Google credentials file \(path) does not exist")
        }
        return try parse(Array(data), path: path)
    }

    /// Parses file contents; `path` only names the file in errors.
    public static func parse(_ bytes: [UInt8], path: String) throws -> GoogleCredentialsFile {
        let fields = try JSONFields(parsing: bytes, context: path)
        let type = try fields.requiredString("type", in: "a Google credentials file")
        switch type {
        case "service_account": return .serviceAccount(try GoogleServiceAccountKey(fields))
        case "authorized_user": return .authorizedUser(try GoogleAuthorizedUser(fields))
        case "external_account": return .externalAccount(try GoogleExternalAccount(fields))
        default:
            throw CredentialsError(.unsupportedType, "\(path): credential type \"\(type)\" is not supported "
                                   + "(use service_account, authorized_user or external_account)")
        }
    }

    /// The project the file names (`project_id`, or `quota_project_id` for user credentials).
    public var projectId: String? {
        switch self {
        case let .serviceAccount(key): return key.projectId
        case let .authorizedUser(user): return user.quotaProjectId
        case .externalAccount: return nil
        }
    }

    /// A summary without secrets.
    public var description: String {
        switch self {
        case let .serviceAccount(key): return key.description
        case let .authorizedUser(user): return user.description
        case let .externalAccount(account): return account.description
        }
    }
}

/// An `authorized_user` file: refreshed with `grant_type=refresh_token` at the token endpoint (docs/google.md#gcloud-user-credentials-authorized_user).
public struct GoogleAuthorizedUser: Sendable, Equatable, CustomStringConvertible {
    /// The OAuth client id.
    public let clientId: String
    /// The OAuth client secret.
    public let clientSecret: String
    /// The long-lived refresh token.
    public let refreshToken: String
    /// Billing project to send as `x-goog-user-project`.
    public let quotaProjectId: String?
    /// The token endpoint.
    public let tokenURI: String

    init(_ fields: JSONFields) throws {
        let kind = "an authorized_user file"
        clientId = try fields.requiredString("client_id", in: kind)
        clientSecret = try fields.requiredString("client_secret", in: kind)
        refreshToken = try fields.requiredString("refresh_token", in: kind)
        quotaProjectId = try fields.string("quota_project_id")
        tokenURI = try fields.string("token_uri") ?? GoogleServiceAccountKey.defaultTokenURI
    }

    /// The client id only.
    public var description: String { "GoogleAuthorizedUser(clientId: \(clientId), secrets: <redacted>)" }
}
