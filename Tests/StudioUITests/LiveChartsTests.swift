import Foundation
import StudioModel
import StudioStorage
@testable import StudioUI
@testable import StudioWorker
import XCTest

/// Charts of a running experiment on a UI apart from its worker: the worker's live pieces of `tb` and
/// `_metrics` (LiveUploader), read back through the store only (ExperimentScalars, LiveCharts).
final class LiveChartsTests: XCTestCase {
    private var directory = ""

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("studio-live-charts-\(UUID().uuidString)").path
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    private func running(_ key: String) throws -> Experiment {
        var record = try Experiment(parsing: Data(#"{"key": "\#(key)", "filename": "t.py", "time_added": 1}"#.utf8))
        record.status = .running
        return record
    }

    private func append(_ bytes: some Collection<UInt8>, to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(bytes))
    }

    /// A real event file (the tensorboard package's writer) revealed in two parts, the first ending inside
    /// a record, and resource samples ending inside a line: the chart shows the complete records and lines
    /// within a few seconds, then the rest, and the second look fetches only the new pieces (no listing).
    func testAChartFollowsARunningExperimentThroughTheStore() async throws {
        let event = Array(try Data(contentsOf: URL(fileURLWithPath: try TensorBoardWriter.write(into: directory + "/writer"))))
        let cut = event.count / 2
        var firstHalf = TensorBoardScalars(), whole = TensorBoardScalars()
        firstHalf.read(Array(event[..<cut]), name: "events")
        whole.read(event, name: "events")
        XCTAssertEqual(firstHalf.incomplete, ["events"], "the cut falls inside a record")
        let shownFirst = try XCTUnwrap(firstHalf.series["loss"]).count
        XCTAssertLessThan(shownFirst, 5)

        let local = LocalObjectStore(root: directory + "/store")
        let run = directory + "/run"
        try FileManager.default.createDirectory(atPath: run + "/tb/train", withIntermediateDirectories: true)
        let eventFile = run + "/tb/train/events.out.tfevents.1.host"
        _ = FileManager.default.createFile(atPath: eventFile, contents: Data(event[..<cut]))
        _ = FileManager.default.createFile(atPath: run + "/tb/model.ckpt", contents: Data(repeating: 7, count: 1000))
        _ = FileManager.default.createFile(atPath: run + "/_metrics", contents: Data("time: 10 CPU: 50 mem: 100\ntime: 11 CPU: 60 mem: 110\ntime: 12 CP".utf8))
        _ = FileManager.default.createFile(atPath: run + "/output", contents: Data())
        let uploader = LiveUploader.start(store: local, key: "k", outputPath: run + "/output",
                                          charts: [("tb", run + "/tb"), ("_metrics", run + "/_metrics")], log: WorkerLog(level: .error))
        let counted = CountingObjectStore(local)
        let reader = ExperimentScalars(storage: counted, control: NoControl(), scratch: directory + "/scratch")
        let record = try running("k")

        var shown = TensorBoardScalars()
        let first = try await eventually(10) {
            shown = try await reader.scalars("k", record: record)
            return shown.series["train/loss"]?.count == shownFirst && shown.series["_metrics/cpu"]?.count == 2
        }
        XCTAssertTrue(first, "the first pieces never showed: \(shown.series.mapValues(\.count))")
        XCTAssertEqual(shown.series["train/loss"], firstHalf.series["loss"])
        XCTAssertEqual(shown.series["_metrics/cpu"]?.map(\.value), [50, 60])

        try append(event[cut...], to: eventFile)
        try append("U: 70 mem: 120\n".utf8, to: run + "/_metrics")
        func uploaded(_ tag: String, _ file: String) async throws -> Int? {
            try await local.get(LiveChartPieces.manifestKey("k", tag: tag)).flatMap { LiveChartPieces.Manifest(parsing: Array($0))?.files[file] }
        }
        let metricsSize = Int(try FileManager.default.attributesOfItem(atPath: run + "/_metrics")[.size] as? UInt64 ?? 0)
        let rest = try await eventually(10) {
            let events = try await uploaded("tb", "train/events.out.tfevents.1.host")
            let metrics = try await uploaded("_metrics", "_metrics")
            return events == event.count && metrics == metricsSize
        }
        XCTAssertTrue(rest, "the worker never uploaded the rest")
        counted.reset()
        shown = try await reader.scalars("k", record: record)
        XCTAssertEqual(counted.counts.listings, 0, "the live pieces are found through their manifests, not listings")
        XCTAssertEqual(counted.counts.requests, 4, "two manifests and one new piece of each file")
        XCTAssertLessThan(counted.counts.bytesRead, event.count, "the second look fetched the event file again")
        XCTAssertEqual(shown.series["train/loss"]?.count, 5)
        XCTAssertEqual(shown.series["train/loss"], whole.series["loss"])
        XCTAssertEqual(shown.series["_metrics/cpu"]?.map(\.value), [50, 60, 70])
        XCTAssertEqual(shown.series["_metrics/cpu"]?.map(\.step), [0, 1, 2])
        XCTAssertEqual(shown.incomplete, [])
        await uploader.finish()

        let stored = try await local.get(LiveChartPieces.manifestKey("k", tag: "tb"))
        let manifest = try XCTUnwrap(LiveChartPieces.Manifest(parsing: Array(try XCTUnwrap(stored))))
        XCTAssertEqual(manifest.files["train/events.out.tfevents.1.host"], event.count)
        XCTAssertNil(manifest.files["model.ckpt"], "only event files of tb are uploaded live")
    }

    /// A manifest that is not one, or names a piece outside the experiment, is ignored: the chart falls back
    /// to the checkpoint (none here: no scalars) and nothing breaks.
    func testABadManifestIsIgnored() async throws {
        let local = LocalObjectStore(root: directory + "/store")
        let reader = ExperimentScalars(storage: local, control: NoControl(), scratch: directory + "/scratch")
        for text in ["not json", #"{"attempt": "1", "files": {"../../../x": 10}}"#, #"{"attempt": "..", "files": {}}"#,
                     #"{"attempt": "1", "files": {"a": -1}}"#, #"{"attempt": "1", "files": {"a": 99999999999}}"#] {
            try await local.put(LiveChartPieces.manifestKey("k", tag: "tb"), Data(text.utf8))
            let scalars = try await reader.scalars("k", record: try running("k"))
            XCTAssertEqual(scalars.series.count, 0, text)
        }
    }

    /// A rerun (after a redelivery) is a new attempt: its pieces replace the last attempt's on the chart.
    func testANewAttemptReplacesTheLastOne() async throws {
        let local = LocalObjectStore(root: directory + "/store")
        let reader = ExperimentScalars(storage: local, control: NoControl(), scratch: directory + "/scratch")
        func attempt(_ id: String, _ lines: String) async throws {
            try await local.put(LiveChartPieces.pieceKey("k", tag: "_metrics", attempt: id, file: "_metrics", offset: 0), Data(lines.utf8))
            try await local.put(LiveChartPieces.manifestKey("k", tag: "_metrics"),
                                Data(LiveChartPieces.Manifest(attempt: id, files: ["_metrics": lines.utf8.count]).encoded))
        }
        try await attempt("100", "time: 1 CPU: 5\ntime: 2 CPU: 6\n")
        let before = try await reader.scalars("k", record: try running("k"))
        XCTAssertEqual(before.series["_metrics/cpu"]?.map(\.value), [5, 6])
        try await attempt("200", "time: 3 CPU: 7\n")
        let after = try await reader.scalars("k", record: try running("k"))
        XCTAssertEqual(after.series["_metrics/cpu"]?.map(\.value), [7])
    }
}
