import Foundation
import StudioCredentials
import StudioModel
import StudioStorage
@testable import StudioUI
import XCTest

/// The JSON API over the remote stores, records and artifacts alike on moto's S3 or the GCS emulator, with
/// stop, delete and the log going through the store as on a machine apart from the worker's: the list,
/// one experiment, the log from an offset out of the worker's live pieces (`output.live/<offset>`), scalars
/// from a stored `tb.tar` that follow a new checkpoint, stop and delete.
final class UIRemoteStoreTests: XCTestCase {
    private var directory = ""

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("studio-ui-remote-\(UUID().uuidString)").path
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    override class func tearDown() { SharedMoto.stop() }

    func testTheAPIOverS3() async throws {
        let moto = try SharedMoto.get()
        let store = S3ObjectStore(bucket: "studio-ui-\(UInt32.random(in: 0...UInt32.max))", endpoint: moto.endpoint,
                                  chain: try AWSCredentialChain(environment: moto.environment))
        try await checkAPI(try await UIFixture(remote: store))
    }

    func testTheAPIOverGCS() async throws {
        let emulator = try GCSEmulator(directory: directory)
        defer { emulator.stop() }
        let store = try GCSObjectStore(bucket: "studio-ui", environment: ["STORAGE_EMULATOR_HOST": emulator.host])
        try await checkAPI(try await UIFixture(remote: store))
    }

    /// The page reads a log in windows of at most 256 KiB (and stops before a character split at the end of
    /// what it has), while one live piece holds up to 4 MiB: its next poll starts inside a piece, and must get
    /// the rest of that piece, or the page shows a log that ends early and, once the experiment is over, calls
    /// it complete.
    func testALogReadFromInsideAPieceGetsTheRestOfIt() async throws {
        let moto = try SharedMoto.get()
        let store = S3ObjectStore(bucket: "studio-ui-\(UInt32.random(in: 0...UInt32.max))", endpoint: moto.endpoint,
                                  chain: try AWSCredentialChain(environment: moto.environment))
        let ui = try await UIFixture(remote: store)
        addTeardownBlock { await ui.tearDown() }
        try await ui.putExperiment("big", status: "finished")
        let line = String(repeating: "x", count: 99) + "\n"
        let output = String(repeating: line, count: 3_000)  // 300,000 bytes in one piece
        try await ui.store.put("experiments/big/output.live/0000000000000000", Data(output.utf8))
        let first = try ui.json("/api/experiments/big/log?offset=0")
        let next = try XCTUnwrap(first["next"] as? Int)
        XCTAssertEqual(next, 256 << 10, "the first window is the default limit")
        XCTAssertEqual(first["complete"] as? Bool, false)
        let rest = try ui.json("/api/experiments/big/log?offset=\(next)")
        XCTAssertEqual((rest["text"] as? String)?.utf8.count, 300_000 - next,
                       "the rest of the piece is missing (LiveLogReader.read returns nothing when no piece starts at or after the offset): \(rest)")
        XCTAssertEqual(rest["size"] as? Int, 300_000)
    }

    /// A window of a long log reads the pieces that hold it, not the whole log: the page's first view (the
    /// tail) of 8 pieces of 512 KiB fetches the last piece only.
    func testALogWindowReadsOnlyThePiecesThatHoldIt() async throws {
        let moto = try SharedMoto.get()
        let counted = CountingObjectStore(S3ObjectStore(bucket: "studio-ui-\(UInt32.random(in: 0...UInt32.max))", endpoint: moto.endpoint,
                                                        chain: try AWSCredentialChain(environment: moto.environment)))
        let ui = try await UIFixture(remote: counted)
        addTeardownBlock { await ui.tearDown() }
        try await ui.putExperiment("long", status: "running")
        let piece = 512 << 10
        for index in 0..<8 {
            let text = String(repeating: String(repeating: Character(String(index)), count: 1023) + "\n", count: piece / 1024)
            try await counted.put(String(format: "experiments/long/output.live/%016d", index * piece), Data(text.utf8))
        }
        counted.reset()
        let tail = try ui.json("/api/experiments/long/log")
        XCTAssertEqual(tail["size"] as? Int, 8 * piece)
        XCTAssertEqual(tail["offset"] as? Int, 8 * piece - (64 << 10), "the default tail")
        XCTAssertTrue((tail["text"] as? String)?.hasPrefix("7777") == true)
        XCTAssertLessThan(counted.counts.bytesRead, (64 << 10) + 4096, "the record and the window (a ranged read), not the piece or the log")
        counted.reset()
        let window = try ui.json("/api/experiments/long/log?offset=\(3 * piece + 10)&limit=1000")
        XCTAssertEqual(window["next"] as? Int, 3 * piece + 1010)
        XCTAssertTrue((window["text"] as? String)?.hasPrefix("3333") == true)
        XCTAssertLessThan(counted.counts.bytesRead, 1000 + 4096, "the record and the 1,000 bytes asked for")
    }

    /// A store whose listing gives keys only (the protocol's default): a checkpoint of `tb.tar` may keep its
    /// size (tars grow in 10 KiB steps), so without a version the scalars must be read again, not cached.
    func testScalarsFollowACheckpointOnAStoreWhoseListingHasNoVersions() async throws {
        let ui = try await UIFixture(remote: KeysOnlyStore(store: LocalObjectStore(root: directory + "/store")))
        addTeardownBlock { await ui.tearDown() }
        func checkpoint(steps: Int) async throws -> Int {
            let script = "import sys\nfrom tensorboard.summary.writer.event_file_writer import EventFileWriter\n"
                + "from tensorboard.compat.proto import event_pb2, summary_pb2\nw = EventFileWriter(sys.argv[1])\n"
                + "for i in range(int(sys.argv[2])):\n"
                + "    w.add_event(event_pb2.Event(wall_time=1.0, step=i, summary=summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag='loss', simple_value=i)])))\n"
                + "w.close()\n"
            try? FileManager.default.removeItem(atPath: directory + "/tb")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", script, directory + "/tb", String(steps)]
            try process.run()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, "tensorboard's writer failed")
            let file = try tar(directory + "/tb")
            try await ui.store.upload("experiments/tb2/tb.tar", fromFile: file)
            return try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int ?? -1
        }
        let before = try await checkpoint(steps: 3)
        try await ui.putExperiment("tb2", status: "running", extra: ["artifacts": .object(["tb": .object(["key": .string("experiments/tb2/tb.tar"), "mutable": true])])])
        func count() throws -> Int? {
            (try ui.json("/api/experiments/tb2/scalars")["tags"] as? [[String: Any]])?.first?["count"] as? Int
        }
        XCTAssertEqual(try count(), 3)
        let after = try await checkpoint(steps: 6)
        XCTAssertEqual(before, after, "the test needs two tars of one size")
        XCTAssertEqual(try count(), 6, "the scalars of the earlier checkpoint were served from the cache")
    }

    private func checkAPI(_ ui: UIFixture) async throws {
        do {
            try await checkListAndLog(ui)
            try await checkScalars(ui)
            try await checkStopAndDelete(ui)
        } catch {
            await ui.tearDown()
            throw error
        }
        await ui.tearDown()
    }

    private func checkListAndLog(_ ui: UIFixture) async throws {
        try await ui.putExperiment("done", status: "finished", filename: "eval.py", project: "vision", owner: "ann", added: 100)
        try await ui.putExperiment("busy", status: "running", filename: "train.py", args: ["--lr", "0.1"], owner: "bob", added: 200)
        XCTAssertEqual(try ui.keys("/api/experiments"), ["busy", "done"])
        XCTAssertEqual(try ui.keys("/api/experiments?status=running"), ["busy"])
        XCTAssertEqual(try ui.keys("/api/experiments?project=vision"), ["done"])
        let one = try ui.json("/api/experiments/busy")
        XCTAssertEqual((one["row"] as? [String: Any])?["status"] as? String, "running")
        XCTAssertEqual((one["record"] as? [String: Any])?["args"] as? [String], ["--lr", "0.1"])
        XCTAssertEqual(try ui.request("GET", "/api/experiments/nobody").status, 404)
        try await ui.putRecord("bad", "{not json")
        // A record written behind the UI's back (no change mark) shows at a later refresh, as a malformed row.
        var bad: [String: Any] = [:]
        let shown = try await eventually(10) {
            bad = (try ui.json("/api/experiments?status=malformed")["rows"] as? [[String: Any]])?.first ?? [:]
            return bad["key"] as? String == "bad"
        }
        XCTAssertTrue(shown, "no malformed row")
        XCTAssertNotNil(bad["malformed"] as? String)
        XCTAssertEqual(try ui.request("POST", "/api/experiments/bad/delete", headers: [("X-Studio-UI", "1")]).status, 200)
        let badGone = try await ui.store.exists("experiments/bad")
        XCTAssertFalse(badGone)

        // The worker's live pieces: each object holds the output from its offset on (docs/ui.md).
        func piece(_ offset: Int, _ text: String) async throws {
            let name = String(repeating: "0", count: 16 - String(offset).count) + String(offset)
            try await ui.store.put("experiments/busy/output.live/" + name, Data(text.utf8))
        }
        try await piece(0, "first line\n")
        try await piece(11, "second ë\n")  // "ë" is two bytes
        let all = try ui.json("/api/experiments/busy/log?offset=0")
        XCTAssertEqual(all["text"] as? String, "first line\nsecond ë\n")
        XCTAssertEqual(all["next"] as? Int, 21)
        XCTAssertEqual(all["complete"] as? Bool, false, "a running experiment's log grows")
        XCTAssertEqual(try ui.json("/api/experiments/busy/log?offset=11")["text"] as? String, "second ë\n")
        let end = try ui.json("/api/experiments/busy/log?offset=21")
        XCTAssertEqual(end["text"] as? String, "")
        try await piece(21, "third\n")
        let grown = try ui.json("/api/experiments/busy/log?offset=21")
        XCTAssertEqual(grown["text"] as? String, "third\n", "a new piece is read from the offset the page has")
        XCTAssertEqual(grown["next"] as? Int, 27)
        let tail = try ui.json("/api/experiments/busy/log?limit=6")
        XCTAssertEqual(tail["text"] as? String, "third\n", "without an offset: the last bytes")
    }

    private func checkScalars(_ ui: UIFixture) async throws {
        _ = try TensorBoardWriter.write(into: directory + "/tb/train")
        try await ui.store.upload("experiments/busy/tb.tar", fromFile: try tar(directory + "/tb"))
        try await ui.putExperiment("busy", status: "running", filename: "train.py", args: ["--lr", "0.1"], owner: "bob", added: 200,
                                   extra: ["time_started": 250,
                                           "artifacts": .object(["tb": .object(["key": .string("experiments/busy/tb.tar"), "mutable": true])])])
        func tags() throws -> [String] {
            (try ui.json("/api/experiments/busy/scalars")["tags"] as? [[String: Any]] ?? []).compactMap { $0["tag"] as? String }.sorted()
        }
        XCTAssertEqual(try tags(), ["train/acc", "train/count", "train/half", "train/loss", "train/packed", "train/v2"])
        let series = try ui.json("/api/experiments/busy/scalars?tag=train/count")
        XCTAssertEqual((series["points"] as? [[Double]])?.map { $0[2] }, [0, 10, 20, 30, 40])
        // The artifact, listed with its size and streamed through a temporary file.
        let stored = try Data(contentsOf: URL(fileURLWithPath: try tar(directory + "/tb")))
        let listed = try XCTUnwrap(try ui.json("/api/experiments/busy")["artifacts"] as? [[String: Any]])
        XCTAssertEqual(listed.first { $0["tag"] as? String == "tb" }?["size"] as? Int, stored.count)
        let download = try ui.request("GET", "/api/experiments/busy/artifacts/tb")
        XCTAssertEqual(download.status, 200)
        XCTAssertEqual(download.body, stored)
        // The next checkpoint holds a second run: the cached result must give way to it.
        _ = try TensorBoardWriter.write(into: directory + "/tb/eval")
        try await ui.store.upload("experiments/busy/tb.tar", fromFile: try tar(directory + "/tb"))
        XCTAssertTrue(try tags().contains("eval/loss"), "the scalars did not follow the new checkpoint of tb.tar")
    }

    private func checkStopAndDelete(_ ui: UIFixture) async throws {
        let page = [("X-Studio-UI", "1"), ("Origin", "http://127.0.0.1:\(ui.server.port)")]
        XCTAssertEqual(try ui.request("POST", "/api/experiments/busy/delete", headers: page).status, 409, "running: stop it first")
        let stop = try ui.request("POST", "/api/experiments/busy/stop", headers: page)
        XCTAssertEqual(stop.status, 200, stop.text)
        let stopped = try await ui.status("busy")
        XCTAssertEqual(stopped, "stopped", "the record in the store says stopped: the worker polls it")
        let listed = try await eventually(10) { try ui.keys("/api/experiments?status=stopped") == ["busy"] }
        XCTAssertTrue(listed, "the list does not show the stop")
        // Until its worker records the end, a stopped experiment still prints its last lines: not complete yet.
        XCTAssertEqual(try ui.json("/api/experiments/busy/log?offset=27")["complete"] as? Bool, false)
        try await ui.putExperiment("busy", status: "stopped", added: 200, extra: ["time_started": 250, "time_finished": 260])
        XCTAssertEqual(try ui.json("/api/experiments/busy/log?offset=27")["complete"] as? Bool, true)

        try await ui.store.put("blobstore/shared.tar", Data("x".utf8))
        let delete = try ui.request("POST", "/api/experiments/busy/delete", headers: page)
        XCTAssertEqual(delete.status, 200, delete.text)
        let record = try await ui.store.exists("experiments/busy")
        let artifacts = try await ui.store.list(prefix: "experiments/busy/")
        let blob = try await ui.store.exists("blobstore/shared.tar")
        XCTAssertFalse(record)
        XCTAssertEqual(artifacts, [], "the live pieces and tb.tar go with the record")
        XCTAssertTrue(blob, "shared blobs stay")
        let gone = try await eventually(10) { try ui.keys("/api/experiments") == ["done"] }
        XCTAssertTrue(gone, "the list still shows the deleted experiment")
        XCTAssertEqual(try ui.request("GET", "/api/experiments/busy/log").status, 404)
    }

    private func tar(_ path: String) throws -> String {
        let tar = directory + "/\(UUID().uuidString).tar"
        _ = try TarWriter.pack(path, to: tar)
        return tar
    }
}

/// A store whose listing gives keys only, as the protocol's default does for a store that knows no better.
private struct KeysOnlyStore: LocalStoreWrapper {
    let store: LocalObjectStore
}
