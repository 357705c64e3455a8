#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import _CryptoExtras

/// A `service_account` key file: the RSA key and the identity it signs JWTs as (docs/google.md#service-account-keys-and-jwts).
public struct GoogleServiceAccountKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Google's OAuth 2.0 token endpoint.
    public static let defaultTokenURI = "https://oauth2.googleapis.com/token"

    /// The service account's e-mail (`iss` of its JWTs).
    public let clientEmail: String
    /// The key id, sent as the JWT header `kid`.
    public let privateKeyId: String?
    /// The RSA private key (PKCS#8 `BEGIN PRIVATE KEY` or PKCS#1 `BEGIN RSA PRIVATE KEY`).
    public let privateKey: _RSA.Signing.PrivateKey
    /// The token endpoint (`aud` of OAuth assertions); defaults to `https://oauth2.googleapis.com/token`.
    public let tokenURI: String
    /// The project the key belongs to.
    public let projectId: String?
    /// The OAuth client id of the service account.
    public let clientId: String?
    /// The universe domain (`googleapis.com` unless a sovereign cloud).
    public let universeDomain: String

    /// Creates a key from its parts.
    public init(clientEmail: String, privateKeyId: String?, privateKey: _RSA.Signing.PrivateKey,
                tokenURI: String = defaultTokenURI, projectId: String? = nil, clientId: String? = nil,
                universeDomain: String = "googleapis.com") {
        self.clientEmail = clientEmail
        self.privateKeyId = privateKeyId
        self.privateKey = privateKey
        self.tokenURI = tokenURI
        self.projectId = projectId
        self.clientId = clientId
        self.universeDomain = universeDomain
    }

    init(_ fields: JSONFields) throws {
        let kind = "a service_account key file"
        clientEmail = try fields.requiredString("client_email", in: kind)
        let pem = try fields.requiredString("private_key", in: kind)
        do {
            privateKey = try _RSA.Signing.PrivateKey(pemRepresentation: pem)
        } catch {
            throw CredentialsError(.invalidField, "\(fields.context): field \"private_key\" is not a PEM RSA private key "
                                   + "of at least 2048 bits (expected -----BEGIN PRIVATE KEY-----)")
        }
        privateKeyId = try fields.string("private_key_id")
        tokenURI = try fields.string("token_uri") ?? Self.defaultTokenURI
        projectId = try fields.string("project_id")
        clientId = try fields.string("client_id")
        universeDomain = try fields.string("universe_domain") ?? "googleapis.com"
    }

    /// Parses a key file's contents; `path` only names the file in errors.
    public init(parsing bytes: [UInt8], path: String) throws {
        guard case let .serviceAccount(key) = try GoogleCredentialsFile.parse(bytes, path: path) else {
            throw CredentialsError(.unsupportedType, "\(path): expected \"type\": \"service_account\"")
        }
        self = key
    }

    /// The identity and key id, never the key.
    public var description: String {
        "GoogleServiceAccountKey(clientEmail: \(clientEmail), privateKeyId: \(privateKeyId ?? "nil"), privateKey: <redacted>)"
    }

    /// The same as `description`.
    public var debugDescription: String { description }

    /// A reflection without the key.
    public var customMirror: Mirror {
        Mirror(self, children: ["clientEmail": clientEmail, "privateKeyId": privateKeyId ?? "nil",
                                "privateKey": "<redacted>", "tokenURI": tokenURI], displayStyle: .struct)
    }
}
