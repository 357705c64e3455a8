@testable import StudioStorage
import XCTest

final class KeyOrderTests: XCTestCase {
    /// Listings are sorted by UTF-8 bytes, as S3 and GCS list: a prefix first, then byte by byte.
    func testOrderIsTheUTF8ByteOrder() {
        let keys = ["b", "", "a/b", "a", "é", "z", "ab", "a%obj", "A", "\u{FFFD}", "😀", "e\u{301}", "experiments/1_" + String(repeating: "x", count: 40)]
        let expected = keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        XCTAssertEqual(keys.sorted { $0.precedesInKeyOrder($1) }, expected)
        XCTAssertFalse("a".precedesInKeyOrder("a"))
        XCTAssertTrue("a".precedesInKeyOrder("ab"))
        XCTAssertFalse("ab".precedesInKeyOrder("a"))
    }
}
