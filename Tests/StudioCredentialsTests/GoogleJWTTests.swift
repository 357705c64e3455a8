#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import XCTest
import _CryptoExtras
@testable import StudioCredentials

final class GoogleJWTTests: XCTestCase {
    let issuedAt = Date(timeIntervalSince1970: 1_714_566_896.7)

    func key(tokenURI: String? = nil) throws -> GoogleServiceAccountKey {
        var overrides: [String: String?] = [:]
        if let tokenURI { overrides["token_uri"] = tokenURI }
        return try GoogleServiceAccountKey(parsing: serviceAccountJSON(overrides), path: "sa.json")
    }

    /// Splits a JWT, checks the segments are unpadded base64url, verifies RS256, and returns header and claims.
    func decode(_ jwt: String, file: StaticString = #filePath, line: UInt = #line) throws
        -> (header: [String: JSONValue], claims: [String: JSONValue]) {
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(parts.count, 3, file: file, line: line)
        for part in parts {
            XCTAssertFalse(part.contains("=") || part.contains("+") || part.contains("/"), part, file: file, line: line)
        }
        let signature = try XCTUnwrap(Encoding.base64URLDecode(parts[2]))
        XCTAssertEqual(signature.count, 256, file: file, line: line)
        XCTAssertTrue(testRSAKey.publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature),
                                                            for: Array((parts[0] + "." + parts[1]).utf8),
                                                            padding: .insecurePKCS1v1_5), "RS256 signature", file: file, line: line)
        func object(_ part: String) throws -> [String: JSONValue] {
            guard case let .object(value) = try JSONDecoder().decode(JSONValue.self, from: Data(try XCTUnwrap(Encoding.base64URLDecode(part))))
            else { throw CredentialsError(.malformedFile, "not an object") }
            return value
        }
        return (try object(parts[0]), try object(parts[1]))
    }

    func testOAuthAssertion() throws {
        let jwt = try key().oauthAssertion(scopes: ["https://www.googleapis.com/auth/pubsub",
                                                    "https://www.googleapis.com/auth/devstorage.read_write"],
                                           issuedAt: issuedAt)
        let (header, claims) = try decode(jwt)
        XCTAssertEqual(header, ["alg": .string("RS256"), "typ": .string("JWT"), "kid": .string("4f1ce2")])
        XCTAssertEqual(claims, [
            "iss": .string("runner@my-proj.iam.gserviceaccount.com"),
            "aud": .string("https://oauth2.googleapis.com/token"),
            "scope": .string("https://www.googleapis.com/auth/pubsub https://www.googleapis.com/auth/devstorage.read_write"),
            "iat": .number(1_714_566_896), "exp": .number(1_714_570_496),
        ])
    }

    func testAssertionUsesTheFileTokenURIAndDelegationSubject() throws {
        let jwt = try key(tokenURI: "http://127.0.0.1:8080/token")
            .oauthAssertion(scopes: ["s"], subject: "user@example.com", issuedAt: issuedAt)
        let claims = try decode(jwt).claims
        XCTAssertEqual(claims["aud"], .string("http://127.0.0.1:8080/token"))
        XCTAssertEqual(claims["sub"], .string("user@example.com"))
    }

    func testSelfSignedWithAudience() throws {
        let jwt = try key().selfSignedJWT(audience: "https://pubsub.googleapis.com/", issuedAt: issuedAt)
        let claims = try decode(jwt).claims
        XCTAssertEqual(claims, [
            "iss": .string("runner@my-proj.iam.gserviceaccount.com"), "sub": .string("runner@my-proj.iam.gserviceaccount.com"),
            "aud": .string("https://pubsub.googleapis.com/"), "iat": .number(1_714_566_896), "exp": .number(1_714_570_496),
        ])
    }

    func testSelfSignedWithScopeHasNoAudience() throws {
        let claims = try decode(try key().selfSignedJWT(scopes: ["a", "b"], issuedAt: issuedAt)).claims
        XCTAssertNil(claims["aud"])
        XCTAssertEqual(claims["scope"], .string("a b"))
        XCTAssertEqual(claims["sub"], .string("runner@my-proj.iam.gserviceaccount.com"))
    }

    func testKidIsOmittedWithoutAKeyId() throws {
        let key = try GoogleServiceAccountKey(parsing: serviceAccountJSON(["private_key_id": nil]), path: "sa.json")
        XCTAssertEqual(try decode(try key.selfSignedJWT(audience: "x", issuedAt: issuedAt)).header,
                       ["alg": .string("RS256"), "typ": .string("JWT")])
    }

    func testTamperedJWTFailsVerification() throws {
        let jwt = try key().selfSignedJWT(audience: "https://pubsub.googleapis.com/", issuedAt: issuedAt)
        let parts = jwt.split(separator: ".").map(String.init)
        let forged = Encoding.base64URL(Array(#"{"iss":"evil"}"#.utf8))
        let signature = _RSA.Signing.RSASignature(rawRepresentation: Encoding.base64URLDecode(parts[2])!)
        XCTAssertFalse(testRSAKey.publicKey.isValidSignature(signature, for: Array((parts[0] + "." + forged).utf8),
                                                             padding: .insecurePKCS1v1_5))
    }

    func testSelfSignedAccessTokenRefreshesFiveMinutesEarly() throws {
        let token = try key().selfSignedAccessToken(audience: "https://pubsub.googleapis.com/", now: issuedAt)
        XCTAssertEqual(token.expiry?.timeIntervalSince1970, 1_714_570_496)
        XCTAssertFalse(token.needsRefresh(now: Date(timeIntervalSince1970: 1_714_570_496 - 301)))
        XCTAssertTrue(token.needsRefresh(now: Date(timeIntervalSince1970: 1_714_570_496 - 300)))
    }
}
