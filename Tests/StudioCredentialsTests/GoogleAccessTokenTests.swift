#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import XCTest
@testable import StudioCredentials

final class GoogleAccessTokenTests: XCTestCase {
    let received = Date(timeIntervalSince1970: 1_714_566_896)

    func testOAuthResponseWithNumberOrStringExpiry() throws {
        for body in [#"{"access_token":"ya29.c.abc","expires_in":3599,"token_type":"Bearer"}"#,
                     #"{"access_token":"ya29.c.abc","expires_in":"3599","token_type":"Bearer"}"#] {
            let token = try GoogleAccessToken.parse(response: Array(body.utf8), receivedAt: received,
                                                    refreshMargin: GoogleAccessToken.exchangedTokenMargin, source: "sts")
            XCTAssertEqual(token.token, "ya29.c.abc")
            XCTAssertEqual(token.expiry, received.addingTimeInterval(3599))
        }
    }

    func testGenerateAccessTokenResponse() throws {
        let token = try GoogleAccessToken.parse(response: Array(#"{"accessToken":"ya29.imp","expireTime":"2024-05-01T13:34:56Z"}"#.utf8),
                                                receivedAt: received, refreshMargin: 300, source: "iamcredentials")
        XCTAssertEqual(token.expiry?.timeIntervalSince1970, 1_714_570_496)
    }

    func testErrorResponseIsReportedWithoutTheRequest() {
        let body = #"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#
        XCTAssertThrowsError(try GoogleAccessToken.parse(response: Array(body.utf8), receivedAt: received,
                                                         refreshMargin: 300, source: "oauth2.googleapis.com")) { error in
            XCTAssertEqual(String(describing: error),
                           "oauth2.googleapis.com refused the token request with invalid_grant: Invalid JWT Signature.")
        }
        XCTAssertThrowsError(try GoogleAccessToken.parse(response: Array("{}".utf8), receivedAt: received,
                                                         refreshMargin: 300, source: "x"))
    }

    func testMetadataMarginAndRedaction() {
        let token = GoogleAccessToken(token: "ya29.secret", expiry: received.addingTimeInterval(1967),
                                      refreshMargin: GoogleAccessToken.metadataServerMargin)
        XCTAssertFalse(token.needsRefresh(now: received.addingTimeInterval(1967 - 226)))
        XCTAssertTrue(token.needsRefresh(now: received.addingTimeInterval(1967 - 225)))
        XCTAssertFalse(GoogleAccessToken(token: "t", expiry: nil).needsRefresh(now: .distantFuture))
        var dumped = ""
        dump(token, to: &dumped)
        for text in [String(describing: token), String(reflecting: token), dumped] {
            XCTAssertFalse(text.contains("ya29.secret"), text)
        }
    }
}
