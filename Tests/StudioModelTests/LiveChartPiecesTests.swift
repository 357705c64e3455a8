import StudioModel
import XCTest

final class LiveChartPiecesTests: XCTestCase {
    func testKeysAndManifest() throws {
        XCTAssertEqual(LiveChartPieces.pieceKey("k", tag: "tb", attempt: "17", file: "train/events.x", offset: 42),
                       "experiments/k/tb.live/17/train/events.x/0000000000000042")
        XCTAssertEqual(LiveChartPieces.manifestKey("k", tag: "_metrics"), "experiments/k/_metrics.live.json")
        let manifest = LiveChartPieces.Manifest(attempt: "17", files: ["b": 2, "a/c": 1])
        XCTAssertEqual(String(decoding: manifest.encoded, as: UTF8.self), #"{"attempt":"17","files":{"a/c":1,"b":2}}"#)
        XCTAssertEqual(LiveChartPieces.Manifest(parsing: manifest.encoded), manifest)
    }

    func testNamesThatCouldLeaveTheExperimentAreRefused() {
        for name in ["", ".", "..", "a/../b", "/a", "a/", "a//b", "a\u{0}b", "a\nb"] {
            XCTAssertFalse(LiveChartPieces.Manifest.isSafe(name), name.debugDescription)
            XCTAssertNil(LiveChartPieces.Manifest(parsing: Array(#"{"attempt": "1", "files": {"\#(name.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\u{0}", with: "\\u0000"))": 1}}"#.utf8)), name.debugDescription)
        }
        XCTAssertTrue(LiveChartPieces.Manifest.isSafe("train/events.out.tfevents.1.host"))
        XCTAssertTrue(LiveChartPieces.Manifest.isSafe("..hidden"))
    }
}
