#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import XCTest
@testable import StudioCredentials

final class TimestampsTests: XCTestCase {
    func testFormatting() {
        XCTAssertEqual(Timestamps.amzDate(Date(timeIntervalSince1970: 1_440_938_160)), "20150830T123600Z")
        XCTAssertEqual(Timestamps.rfc3339(Date(timeIntervalSince1970: 0)), "1970-01-01T00:00:00Z")
        XCTAssertEqual(Timestamps.rfc3339(Date(timeIntervalSince1970: 951_782_400)), "2000-02-29T00:00:00Z")
        XCTAssertEqual(Timestamps.rfc3339(Date(timeIntervalSince1970: 4_102_444_799)), "2099-12-31T23:59:59Z")
    }

    func testParsing() {
        XCTAssertEqual(Timestamps.parseRFC3339("2024-05-01T13:34:56Z")?.timeIntervalSince1970, 1_714_570_496)
        XCTAssertEqual(Timestamps.parseRFC3339("2024-05-01T13:34:56.250Z")?.timeIntervalSince1970, 1_714_570_496.25)
        XCTAssertEqual(Timestamps.parseRFC3339("2024-05-01T15:34:56+02:00")?.timeIntervalSince1970, 1_714_570_496)
        XCTAssertEqual(Timestamps.parseRFC3339(" 2000-02-29T00:00:00Z\n")?.timeIntervalSince1970, 951_782_400)
        for bad in ["", "2024-05-01", "2024-05-01T13:34:56", "2024-13-01T00:00:00Z", "2024-05-01T13:34:56Zjunk",
                    "2024-05-01T13:34:56."] {
            XCTAssertNil(Timestamps.parseRFC3339(bad), bad)
        }
    }

    func testRoundTripAcrossCenturies() {
        for seconds in stride(from: -2_208_988_800, through: 4_102_444_800, by: 86_400 * 37 + 3_671) {
            let date = Date(timeIntervalSince1970: Double(seconds))
            XCTAssertEqual(Timestamps.parseRFC3339(Timestamps.rfc3339(date)), date)
        }
    }
}
