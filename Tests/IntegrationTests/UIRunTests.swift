import Foundation
import XCTest

/// `studio run`'s side of the web UI: `--metric` stored as StudioML stores it, and the experiment's page
/// address printed (on stderr: stdout stays the key alone) when a UI address is configured.
final class UIRunTests: XCTestCase {
    func testRunStoresTheMetricAndPrintsThePageAddress() throws {
        let fixture = try WorkerFixture()
        defer { fixture.tearDown() }
        try "print('hi')\n".write(toFile: fixture.workspace + "/train.py", atomically: true, encoding: .utf8)
        let result = try fixture.run(["run", "--queue", "local", "--metric", "val/loss:min", "-e", "run 1", "train.py"],
                                     environment: ["STUDIO_UI_URL": "http://ui.example:5000"])
        XCTAssertEqual(result.code, 0, result.stderrText)
        XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), "run 1\n")
        XCTAssertTrue(result.stderrText.contains("http://ui.example:5000/#/e/run%201"), result.stderrText)
        XCTAssertEqual(fixture.record("run 1")?["metric"] as? String, "val/loss:min")

        let quiet = try fixture.run(["run", "--queue", "local", "-e", "run 2", "train.py"])
        XCTAssertEqual(quiet.code, 0, quiet.stderrText)
        XCTAssertFalse(quiet.stderrText.contains("#/e/"), "no address without a configured UI: \(quiet.stderrText)")
        XCTAssertTrue(fixture.record("run 2")?["metric"] is NSNull, "StudioML stores null without --metric")

        let bad = try fixture.run(["run", "--queue", "local", "--metric", "loss:avg", "train.py"])
        XCTAssertEqual(bad.code, 64, bad.stderrText)
        XCTAssertTrue(bad.stderrText.contains("--metric takes NAME, NAME:min or NAME:max"), bad.stderrText)
    }
}
