import XCTest
@testable import StudioModel

final class DurationTests: XCTestCase {
    func testValidDurations() throws {
        let cases: [(String, Int64)] = [
            ("25s", 25), ("5h", 18_000), ("48h2m10s", 172_930), ("0m", 0), ("1m", 60), ("1d", 86_400),
            ("1d2h3m4s", 93_784), ("90", 90), ("0", 0), ("11h60m", 43_200), ("719m60s", 43_200),
            ("5H", 18_000), (" 2m ", 120), ("1h 30m", 5_400), ("1.9", 1),
        ]
        for (text, seconds) in cases {
            XCTAssertEqual(try StudioDuration(parsing: text).seconds, seconds, text)
        }
    }

    func testInvalidDurationsNameTheText() {
        for text in ["", "5x", "h", "1.5h", "-5s", "5s1m", "1h1h", "abc", "5 s x", "99999999999999999999d", "1e3"] {
            XCTAssertThrowsError(try StudioDuration(parsing: text), text) { error in
                XCTAssertEqual((error as? ModelError)?.kind, .invalidDuration)
                XCTAssertTrue("\(error)".contains("'\(text)'"), "\(error)")
            }
        }
    }

    func testDurationValuesFromJSON() throws {
        XCTAssertNil(try StudioDuration.parse(nil, field: "f"))
        XCTAssertNil(try StudioDuration.parse(.null, field: "f"))
        XCTAssertNil(try StudioDuration.parse("", field: "f"))
        XCTAssertEqual(try StudioDuration.parse(.int(30), field: "f")?.seconds, 30)
        XCTAssertEqual(try StudioDuration.parse(.double(2.5), field: "f")?.seconds, 2)
        XCTAssertEqual(try StudioDuration.parse("2m", field: "f")?.seconds, 120)
        XCTAssertThrowsError(try StudioDuration.parse("2 weeks", field: "max_duration")) { error in
            XCTAssertTrue("\(error)".hasPrefix("max_duration: invalid duration '2 weeks'"), "\(error)")
        }
        XCTAssertThrowsError(try StudioDuration.parse(["x"], field: "f"))
        XCTAssertThrowsError(try StudioDuration.parse(.int(-1), field: "f"))
    }

    func testWholeMinutesAndDescription() throws {
        XCTAssertEqual(try StudioDuration(parsing: "119s").wholeMinutes, 1)
        XCTAssertEqual(try StudioDuration(parsing: "48h2m10s").description, "2d2m10s")
        XCTAssertEqual(StudioDuration(seconds: 0).description, "0s")
        XCTAssertEqual(StudioDuration(seconds: 90).duration, .seconds(90))
        XCTAssertLessThan(StudioDuration(seconds: 1), StudioDuration(seconds: 2))
    }

    func testSizes() throws {
        let cases: [(String, Int64)] = [
            ("3g", 3 * 1_073_741_824), ("512m", 512 * 1_048_576), ("1.5G", 1_610_612_736), ("100k", 102_400),
            ("1024", 1024), ("8GiB", 8 * 1_073_741_824), ("2Mb", 2 * 1_048_576), ("1gb", 1_073_741_824),
            ("1t", 1_099_511_627_776), ("10b", 10), (" 1g ", 1_073_741_824), ("0.5k", 512),
        ]
        for (text, bytes) in cases {
            XCTAssertEqual(try ByteSize.parse(text), bytes, text)
        }
        for text in ["", "g", "1x", "-1g", "1.2.3m", "one g", "1e9"] {
            XCTAssertThrowsError(try ByteSize.parse(text), text) { error in
                XCTAssertEqual((error as? ModelError)?.kind, .invalidSize)
                XCTAssertTrue("\(error)".contains("'\(text)'"), "\(error)")
            }
        }
    }

    func testSizeValuesFromJSON() throws {
        XCTAssertNil(try ByteSize.parse(nil, field: "ram"))
        XCTAssertNil(try ByteSize.parse(.null, field: "ram"))
        XCTAssertEqual(try ByteSize.parse(.int(4096), field: "ram"), 4096)
        XCTAssertEqual(try ByteSize.parse("1g", field: "ram"), 1_073_741_824)
        XCTAssertThrowsError(try ByteSize.parse("lots", field: "resources_needed.ram")) { error in
            XCTAssertTrue("\(error)".hasPrefix("resources_needed.ram: invalid size 'lots'"), "\(error)")
        }
        XCTAssertThrowsError(try ByteSize.parse(.bool(true), field: "ram"))
    }
}
