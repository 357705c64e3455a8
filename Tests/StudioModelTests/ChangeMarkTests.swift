import StudioModel
import XCTest

/// Change marks: names that sort by time and parse back; anything else under the prefix is not a mark.
final class ChangeMarkTests: XCTestCase {
    func testNamesSortByTimeAndParseBack() {
        let early = ChangeMark(experiment: "1700000000_b", milliseconds: 999)
        let late = ChangeMark(experiment: "1700000000_a", milliseconds: 1_700_000_000_123)
        XCTAssertEqual(late.objectKey, "experiments.changes/001700000000123-1700000000_a")
        XCTAssertTrue(early.objectKey < late.objectKey)
        XCTAssertEqual(ChangeMark(objectKey: late.objectKey), late)
        XCTAssertEqual(ChangeMark(objectKey: early.objectKey), early)
        // A listing that starts after a position takes marks written at that millisecond and later.
        XCTAssertTrue(ChangeMark.position(999) < early.objectKey)
        XCTAssertTrue(ChangeMark.position(1000) > early.objectKey)
        XCTAssertEqual(ChangeMark.position(-5), "experiments.changes/000000000000000")
    }

    func testOtherNamesAreNotMarks() {
        for name in ["experiments.changes/", "experiments.changes/000000000000001", "experiments.changes/000000000000001-",
                     "experiments.changes/00000000000000x-k", "experiments.changes/000000000000001_k",
                     "experiments.changes/000000000000001-a/b", "experiments/000000000000001-k", "", "experiments.changes/٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣-k"] {
            XCTAssertNil(ChangeMark(objectKey: name), name)
        }
        XCTAssertEqual(ChangeMark(objectKey: "experiments.changes/000000000000001-k é")?.experiment, "k é")
    }
}
