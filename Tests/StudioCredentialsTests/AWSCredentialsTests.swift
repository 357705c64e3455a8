#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import XCTest
@testable import StudioCredentials

final class AWSCredentialsTests: XCTestCase {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let token = "FQoGZXIvYXdzEXAMPLESESSIONTOKEN"
    let credentials = AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: secret,
                                     sessionToken: token, expiration: Date(timeIntervalSince1970: 1_714_570_496))

    func testNoSecretInAnyRendering() {
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [credentials.description, credentials.debugDescription, String(describing: credentials),
                     String(reflecting: credentials), "\(credentials)", dumped, "\([credentials])"] {
            XCTAssertFalse(text.contains(Self.secret), text)
            XCTAssertFalse(text.contains(Self.token), text)
            XCTAssertFalse(text.contains("AKIAIOSFODNN7EXAMPLE"), text)
        }
        XCTAssertEqual(credentials.description, "AWSCredentials(accessKeyId: AKIA…MPLE, secretAccessKey: <redacted>, "
                       + "sessionToken: <redacted>, expiration: 2024-05-01T13:34:56Z)")
    }

    func testRefreshWindows() {
        let expiry = credentials.expiration!
        XCTAssertEqual(credentials.refreshUrgency(now: expiry.addingTimeInterval(-16 * 60)), .none)
        XCTAssertEqual(credentials.refreshUrgency(now: expiry.addingTimeInterval(-14 * 60)), .advisory)
        XCTAssertEqual(credentials.refreshUrgency(now: expiry.addingTimeInterval(-9 * 60)), .mandatory)
        XCTAssertFalse(credentials.isExpired(now: expiry.addingTimeInterval(-1)))
        XCTAssertTrue(credentials.isExpired(now: expiry))
        let longTerm = AWSCredentials(accessKeyId: "AKID", secretAccessKey: "s")
        XCTAssertEqual(longTerm.refreshUrgency(now: .distantFuture), .none)
        XCTAssertFalse(longTerm.isExpired(now: .distantFuture))
    }
}
