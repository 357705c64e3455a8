import Foundation
import StudioModel
import StudioStorage
@testable import StudioUI
import XCTest

/// The list's metric column of a running experiment follows its event files: a `since` poll whose
/// records did not change still carries the metric values that did.
final class MetricColumnTests: XCTestCase {
    private var directory = ""

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("studio-metric-\(UUID().uuidString)").path
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func testASincePollCarriesTheChangedMetricOfARunningRow() async throws {
        let ui = try await UIFixture()
        addTeardownBlock { await ui.tearDown() }
        _ = try TensorBoardWriter.write(into: directory + "/tb/train")
        try await upload(ui, "run1")
        try await upload(ui, "done1")
        for (key, status) in [("run1", "running"), ("done1", "finished")] {
            try await ui.putExperiment(key, status: status, extra: ["metric": "train/loss:min", "artifacts": .object([
                "tb": .object(["key": .string("experiments/\(key)/tb.tar"), "mutable": true]),
            ])])
        }
        let first = try ui.json("/api/experiments")
        XCTAssertEqual(try count(in: first, "run1"), 5)
        let generation = try XCTUnwrap(first["generation"] as? Int)
        let metricsGeneration = try XCTUnwrap(first["metrics_generation"] as? Int)
        let poll = "/api/experiments?since=\(generation)&metrics_since=\(metricsGeneration)&metrics=run1/done1/nosuch"

        let quiet = try ui.json(poll)
        XCTAssertEqual(quiet["unchanged"] as? Bool, true)
        XCTAssertNil(quiet["metrics"], "nothing changed yet")

        // The run writes a second event file; its record stays as it was.
        _ = try TensorBoardWriter.write(into: directory + "/tb/train")
        try await upload(ui, "run1")
        try await upload(ui, "done1")
        var answer: [String: Any] = [:]
        let seen = try await eventually(20) {
            answer = try ui.json(poll)
            return answer["metrics"] != nil
        }
        XCTAssertTrue(seen, "the running row's metric never came with a poll")
        XCTAssertEqual(answer["unchanged"] as? Bool, true, "no record changed: only the metric did")
        let metrics = try XCTUnwrap(answer["metrics"] as? [String: [String: Any]])
        XCTAssertEqual(Array(metrics.keys), ["run1"], "a finished row and an unknown key are left out")
        XCTAssertEqual(metrics["run1"]?["count"] as? Int, 10)
        XCTAssertEqual(metrics["run1"]?["mode"] as? String, "min")
        let newer = try XCTUnwrap(answer["metrics_generation"] as? Int)
        XCTAssertGreaterThan(newer, metricsGeneration)

        let again = try ui.json("/api/experiments?since=\(generation)&metrics_since=\(newer)&metrics=run1")
        XCTAssertNil(again["metrics"], "a value is sent once per change")
        XCTAssertEqual(try ui.request("GET", "/api/experiments?since=\(generation)&metrics_since=x&metrics=run1").status, 400)
    }

    private func upload(_ ui: UIFixture, _ key: String) async throws {
        let tar = directory + "/\(UUID().uuidString).tar"
        _ = try TarWriter.pack(directory + "/tb", to: tar)
        try await ui.store.upload("experiments/\(key)/tb.tar", fromFile: tar)
    }

    private func count(in answer: [String: Any], _ key: String) throws -> Int? {
        let rows = try XCTUnwrap(answer["rows"] as? [[String: Any]])
        let row = try XCTUnwrap(rows.first { $0["key"] as? String == key })
        return (row["metric_value"] as? [String: Any])?["count"] as? Int
    }
}
