import Foundation
@testable import StudioUI
import StudioStorage
import StudioModel
import StudioCredentials
import XCTest

final class TensorBoardReaderTests: XCTestCase {
    private var directory = ""

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("studio-tb-\(UUID().uuidString)").path
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    override class func tearDown() { SharedMoto.stop() }

    private func realFile() throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: try TensorBoardWriter.write(into: directory + "/tb"))))
    }

    func testReadsEveryScalarKindTheTensorBoardPackageWrites() throws {
        var scalars = TensorBoardScalars()
        scalars.read(try realFile(), name: "events")
        XCTAssertEqual(scalars.malformed, [])
        XCTAssertEqual(scalars.incomplete, [])
        XCTAssertEqual(Set(scalars.series.keys), ["loss", "acc", "half", "count", "packed", "v2"], "histograms, text and other plugins' values are not chart scalars")
        func values(_ tag: String) -> [Double] { scalars.series[tag]?.map(\.value) ?? [] }
        XCTAssertEqual(values("loss").map { Float($0) }, [1, 0.5, Float(1.0 / 3), 0.25, 0.2])
        XCTAssertEqual(values("acc"), [0, 0.5, 1, 1.5, 2])
        XCTAssertEqual(values("half"), [0.5, 1.5, 2.5, 3.5, 4.5])
        XCTAssertEqual(values("count"), [0, 10, 20, 30, 40])
        XCTAssertEqual(values("packed"), [0, 2, 4, 6, 8])
        XCTAssertEqual(values("v2"), [0, 3, 6, 9, 12])
        XCTAssertEqual(scalars.series["loss"]?.map(\.step), [0, 1, 2, 3, 4])
        XCTAssertEqual(scalars.series["loss"]?.map(\.wallTime), [1000, 1001, 1002, 1003, 1004])
    }

    func testAFileStillBeingWrittenIsIncompleteNotMalformed() throws {
        let bytes = try realFile()
        var scalars = TensorBoardScalars()
        scalars.read(Array(bytes.dropLast(5)), name: "growing")
        XCTAssertEqual(scalars.incomplete, ["growing"])
        XCTAssertEqual(scalars.malformed, [])
        XCTAssertEqual(scalars.series["loss"]?.count, 4, "the records before the cut are read")
    }

    func testCorruptionIsReportedAndNeverTraps() throws {
        let bytes = try realFile()
        var flipped = bytes
        flipped[bytes.count - 20] ^= 0x40
        var scalars = TensorBoardScalars()
        scalars.read(flipped, name: "flipped")
        XCTAssertEqual(scalars.malformed.count, 1)
        XCTAssertTrue(scalars.malformed[0].contains("CRC"), scalars.malformed[0])
        XCTAssertEqual(scalars.series["loss"]?.count, 4, "records before the bad one still count")
        // Every truncation and every single-byte change of the real file: no trap, each reported or read.
        for cut in stride(from: 0, to: bytes.count, by: 7) {
            var cutScalars = TensorBoardScalars()
            cutScalars.read(Array(bytes.prefix(cut)), name: "cut")
            XCTAssertEqual(cutScalars.malformed, [])
        }
        var garbage = TensorBoardScalars()
        garbage.read(Array("this is not an event file at all".utf8), name: "garbage")
        XCTAssertEqual(garbage.malformed.count, 1)
        // Bad protobuf inside correct framing: reported, not trapped.
        for data: [UInt8] in [[0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0x2A, 0x05, 0x0A, 0x10], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], [0x0B]] {
            var framed = TensorBoardScalars()
            framed.read(Self.frame(data), name: "framed")
            XCTAssertEqual(framed.malformed.count, 1, "\(data)")
        }
    }

    func testCRC32CMatchesTheKnownCheckValue() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)[...]), 0xE306_9283)
    }

    func testDownsamplingKeepsEndsAndExtremes() {
        func value(_ index: Int) -> Double { index == 5_123 ? 1e6 : index == 7_777 ? -1e6 : Double(index % 10) }
        let points: [ScalarPoint] = (0..<10_000).map { ScalarPoint(step: Int64($0), wallTime: 0, value: value($0)) }
        let thinned = Downsampling.minMax(points, maxPoints: 100)
        XCTAssertLessThanOrEqual(thinned.count, 100)
        XCTAssertEqual(thinned.first, points.first)
        XCTAssertEqual(thinned.last, points.last)
        XCTAssertTrue(thinned.contains(points[5_123]) && thinned.contains(points[7_777]), "spikes survive")
        let steps: [Int64] = thinned.map { $0.step }
        XCTAssertEqual(steps, steps.sorted(), "in order")
        XCTAssertEqual(Downsampling.minMax(Array(points.prefix(50)), maxPoints: 100), Array(points.prefix(50)))
    }

    func testResourceSamplesBecomeSeries() {
        var scalars = TensorBoardScalars()
        ResourceSamples.read(Array("time: 100.5 CPU: 12.5 mem: 2048 \ngarbage\ntime: 101.5 CPU: 50 mem: 4096 gpu0: 30 \n".utf8), into: &scalars)
        XCTAssertEqual(scalars.series["_metrics/cpu"]?.map(\.value), [12.5, 50])
        XCTAssertEqual(scalars.series["_metrics/mem"]?.map(\.wallTime), [100.5, 101.5])
        XCTAssertEqual(scalars.series["_metrics/gpu0"]?.map(\.value), [30])
    }

    /// The scalars API over a stored `tb` artifact (a tar in storage) and `_metrics`, as the worker checkpoints them.
    func testScalarsAPIReadsTheStoredArtifacts() async throws {
        try await checkScalarsAPI(try await UIFixture())
    }

    /// The same over moto's S3: list, scalars and the metric column read through the S3 client.
    func testScalarsAPIOverS3() async throws {
        let moto = try SharedMoto.get()
        let store = S3ObjectStore(bucket: "studio-ui-\(UInt32.random(in: 0...UInt32.max))", endpoint: moto.endpoint,
                                  chain: try AWSCredentialChain(environment: moto.environment))
        try await checkScalarsAPI(try await UIFixture(remote: store))
    }

    private func checkScalarsAPI(_ fixture: UIFixture) async throws {
        do {
            _ = try TensorBoardWriter.write(into: directory + "/tb/train")
            try await fixture.store.upload("experiments/tb1/tb.tar", fromFile: try Self.tar(directory + "/tb", in: directory))
            try FileManager.default.createDirectory(atPath: directory + "/m", withIntermediateDirectories: true)
            try Data("time: 10 CPU: 5 mem: 100 \ntime: 11 CPU: 7 mem: 200 \n".utf8).write(to: URL(fileURLWithPath: directory + "/m/_metrics"))
            try await fixture.store.upload("experiments/tb1/_metrics.tar", fromFile: try Self.tar(directory + "/m/_metrics", in: directory))
            try await fixture.putExperiment("tb1", status: "finished", extra: ["artifacts": .object([
                "tb": .object(["key": .string("experiments/tb1/tb.tar"), "mutable": true]),
                "_metrics": .object(["key": .string("experiments/tb1/_metrics.tar"), "mutable": true]),
            ])])
            let tags = try fixture.json("/api/experiments/tb1/scalars")
            let list = try XCTUnwrap(tags["tags"] as? [[String: Any]])
            XCTAssertEqual(list.compactMap { $0["tag"] as? String }.sorted(),
                           ["_metrics/cpu", "_metrics/mem", "train/acc", "train/count", "train/half", "train/loss", "train/packed", "train/v2"])
            let acc = try XCTUnwrap(list.first { $0["tag"] as? String == "train/acc" })
            XCTAssertEqual(acc["min"] as? Double, 0)
            XCTAssertEqual(acc["max"] as? Double, 2)
            XCTAssertEqual(acc["last"] as? Double, 2)
            let series = try fixture.json("/api/experiments/tb1/scalars?tag=train/count&max_points=4")
            XCTAssertEqual(series["count"] as? Int, 5)
            let points = try XCTUnwrap(series["points"] as? [[Double]])
            XCTAssertEqual(points.first, [0, 1000, 0])
            XCTAssertEqual(points.last, [4, 1004, 40])
            XCTAssertLessThanOrEqual(points.count, 4)
            let cpu = try fixture.json("/api/experiments/tb1/scalars?tag=_metrics/cpu")
            XCTAssertEqual((cpu["points"] as? [[Double]])?.map { $0[2] }, [5, 7])
            XCTAssertEqual(try fixture.request("GET", "/api/experiments/tb1/scalars?max_points=x").status, 400)
            // `--metric train/loss:min` fills the list's metric column with that tag's minimum.
            try await fixture.putExperiment("tb1", status: "finished", extra: ["metric": "train/loss:min", "artifacts": .object([
                "tb": .object(["key": .string("experiments/tb1/tb.tar"), "mutable": true]),
            ])])
            let rows = try XCTUnwrap(try fixture.json("/api/experiments")["rows"] as? [[String: Any]])
            let metric = try XCTUnwrap(rows.first?["metric_value"] as? [String: Any])
            XCTAssertEqual(metric["tag"] as? String, "train/loss")
            XCTAssertEqual(metric["mode"] as? String, "min")
            XCTAssertEqual(try XCTUnwrap(metric["value"] as? Double), 0.2, accuracy: 1e-6)
            XCTAssertEqual(try XCTUnwrap(metric["max"] as? Double), 1, accuracy: 1e-6)
            XCTAssertEqual(try fixture.request("GET", "/api/experiments/none/scalars").status, 404)
        } catch {
            await fixture.tearDown()
            throw error
        }
        await fixture.tearDown()
    }

    func testAMalformedEventFileShowsAsSuchAndTheServerGoesOn() async throws {
        let fixture = try await UIFixture()
        do {
            try FileManager.default.createDirectory(atPath: directory + "/bad", withIntermediateDirectories: true)
            try Data([0x10, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4] + Array(repeating: 0x41, count: 40))
                .write(to: URL(fileURLWithPath: directory + "/bad/events.out.tfevents.1.host"))
            try await fixture.store.upload("experiments/bad1/tb.tar", fromFile: try Self.tar(directory + "/bad", in: directory))
            try await fixture.putExperiment("bad1", status: "running", extra: ["artifacts": .object([
                "tb": .object(["key": .string("experiments/bad1/tb.tar"), "mutable": true]),
            ])])
            let answer = try fixture.json("/api/experiments/bad1/scalars")
            XCTAssertEqual((answer["tags"] as? [Any])?.count, 0)
            let malformed = try XCTUnwrap(answer["malformed"] as? [String])
            XCTAssertEqual(malformed.count, 1)
            XCTAssertTrue(malformed[0].hasPrefix("events.out.tfevents.1.host: "), malformed[0])
            XCTAssertEqual(try fixture.request("GET", "/api/experiments/").status, 200)
        } catch {
            await fixture.tearDown()
            throw error
        }
        await fixture.tearDown()
    }

    private static func tar(_ path: String, in directory: String) throws -> String {
        let tar = directory + "/\(UUID().uuidString).tar"
        _ = try TarWriter.pack(path, to: tar)
        return tar
    }

    private static func frame(_ data: [UInt8]) -> [UInt8] {
        var length: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(data.count) >> (8 * UInt64($0))) }
        func little(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) } }
        length += little(CRC32C.masked(length[...]))
        return length + data + little(CRC32C.masked(data[...]))
    }
}
