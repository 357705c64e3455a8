import XCTest
@testable import StudioInit

final class InitLoggerTests: XCTestCase {
    func testJSONValuesAreEscaped() {
        XCTAssertEqual(LogValue.string("a\"b\\c\nd\u{1}").json, "\"a\\\"b\\\\c\\nd\\u0001\"")
        XCTAssertEqual(LogValue.integer(42).json, "42")
    }

    func testTextValuesWithSpacesAreQuoted() {
        XCTAssertEqual(LogValue.string("sh -c x").text, "\"sh -c x\"")
        XCTAssertEqual(LogValue.string("ok").text, "ok")
    }

    func testTimestampIsRFC3339UTCWithMilliseconds() {
        let stamp = InitLogger.timestamp()
        XCTAssertEqual(stamp.count, 24, stamp)
        XCTAssertTrue(stamp.hasSuffix("Z"))
        XCTAssertEqual(Array(stamp)[10], "T")
    }
}
