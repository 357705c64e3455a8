#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import _CryptoExtras

/// RS256 JWTs signed with a service-account key: the OAuth assertion and the self-signed token (docs/google.md#service-account-keys-and-jwts).
extension GoogleServiceAccountKey {
    /// Google's maximum and default JWT lifetime.
    public static let jwtLifetime: TimeInterval = 3600

    /// The JWT-bearer assertion to exchange at `tokenURI`: `iss`, optional `sub` (domain-wide delegation),
    /// `aud` = `tokenURI`, `scope` (space-joined), `iat`, `exp` = `iat` + 1 h.
    public func oauthAssertion(scopes: [String], subject: String? = nil, issuedAt: Date) throws -> String {
        try signedJWT(audience: tokenURI, scopes: scopes, subject: subject, issuedAt: issuedAt)
    }

    /// A self-signed JWT used directly as a bearer token: `iss` = `sub` = client e-mail, `aud` = the service root
    /// (e.g. `https://pubsub.googleapis.com/`), no `scope`.
    public func selfSignedJWT(audience: String, issuedAt: Date) throws -> String {
        try signedJWT(audience: audience, scopes: nil, subject: clientEmail, issuedAt: issuedAt)
    }

    /// A self-signed JWT carrying `scope` instead of `aud` (AIP-4111: never both).
    public func selfSignedJWT(scopes: [String], issuedAt: Date) throws -> String {
        try signedJWT(audience: nil, scopes: scopes, subject: clientEmail, issuedAt: issuedAt)
    }

    /// A self-signed JWT wrapped as an access token, re-signed 5 minutes before it expires.
    public func selfSignedAccessToken(audience: String, now: Date) throws -> GoogleAccessToken {
        let issuedAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        return GoogleAccessToken(token: try selfSignedJWT(audience: audience, issuedAt: issuedAt),
                                 expiry: issuedAt.addingTimeInterval(Self.jwtLifetime),
                                 refreshMargin: GoogleAccessToken.selfSignedJWTMargin)
    }

    func signedJWT(audience: String?, scopes: [String]?, subject: String?, issuedAt: Date) throws -> String {
        var header = #"{"alg":"RS256","typ":"JWT""#
        if let privateKeyId { header += #","kid":"# + Encoding.jsonString(privateKeyId) }
        header += "}"

        let iat = Int(issuedAt.timeIntervalSince1970.rounded(.down))
        var claims: [String] = [#""iss":"# + Encoding.jsonString(clientEmail)]
        if let subject { claims.append(#""sub":"# + Encoding.jsonString(subject)) }
        if let audience { claims.append(#""aud":"# + Encoding.jsonString(audience)) }
        if let scopes { claims.append(#""scope":"# + Encoding.jsonString(scopes.joined(separator: " "))) }
        claims.append(#""iat":\#(iat)"#)
        claims.append(#""exp":\#(iat + Int(Self.jwtLifetime))"#)
        let payload = "{" + claims.joined(separator: ",") + "}"

        let signingInput = Encoding.base64URL(Array(header.utf8)) + "." + Encoding.base64URL(Array(payload.utf8))
        let signature: _RSA.Signing.RSASignature
        do {
            signature = try privateKey.signature(for: Array(signingInput.utf8), padding: .insecurePKCS1v1_5)
        } catch {
            throw CredentialsError(.signingFailed, "signing a JWT for \(clientEmail) failed: the RSA key was rejected")
        }
        return signingInput + "." + Encoding.base64URL(signature.rawRepresentation)
    }
}
