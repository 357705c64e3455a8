import Foundation
import StudioModel
import StudioStorage
@testable import StudioWorker
import XCTest

/// The live log: the worker uploads only new output bytes as segments; a reader fetches only what follows its offset.
final class LiveLogTests: XCTestCase {
    func testOnlyNewBytesAreUploadedAndReadFromAnOffset() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("livelog-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = LocalObjectStore(root: directory + "/store")
        let output = directory + "/output"
        FileManager.default.createFile(atPath: output, contents: Data("first line\n".utf8))
        let noSegments = try await LiveLogReader.read(store, key: "k", from: 0)?.bytes
        XCTAssertNil(noSegments, "without segments the reader falls back to output.tar")

        let uploader = LiveUploader.start(store: store, key: "k", outputPath: output, log: WorkerLog(level: .error))
        let deadline = Date().addingTimeInterval(10)
        var seen: [UInt8] = []
        while seen.isEmpty, Date() < deadline {
            seen = try await LiveLogReader.read(store, key: "k", from: 0)?.bytes ?? []
            if seen.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        XCTAssertEqual(String(decoding: seen, as: UTF8.self), "first line\n", "uploaded within one interval")
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: output))
        handle.seekToEndOfFile()
        handle.write(Data("second line\n".utf8))
        try handle.close()
        await uploader.finish()
        let keys = try await store.list(prefix: LiveLog.prefix("k")).sorted()
        XCTAssertEqual(keys, [LiveLog.segmentKey("k", offset: 0), LiveLog.segmentKey("k", offset: 11)], "two segments: the second holds only the new bytes")
        let second = try await store.get(keys[1])
        XCTAssertEqual(second.map { String(decoding: $0, as: UTF8.self) }, "second line\n")
        let tail = try await LiveLogReader.read(store, key: "k", from: 11)?.bytes
        XCTAssertEqual(tail.map { String(decoding: $0, as: UTF8.self) }, "second line\n")
        let middle = try await LiveLogReader.read(store, key: "k", from: 6)?.bytes
        XCTAssertEqual(middle.map { String(decoding: $0, as: UTF8.self) }, "line\nsecond line\n")
        let end = try await LiveLogReader.read(store, key: "k", from: 23)?.bytes
        XCTAssertEqual(end, [])

        // A rerun re-uploads from 0 in one segment: overlapping segments yield each byte once.
        try await store.put(LiveLog.segmentKey("k", offset: 0), Data("first line\nsecond line\n".utf8))
        let whole = try await LiveLogReader.read(store, key: "k", from: 0)?.bytes
        XCTAssertEqual(whole.map { String(decoding: $0, as: UTF8.self) }, "first line\nsecond line\n")
    }

    /// A long run leaves thousands of segments; a poll lists only those near its offset, not the series.
    func testAPollListsOnlySegmentsNearItsOffset() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("livelog-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = CountingObjectStore(LocalObjectStore(root: directory))
        var output: [UInt8] = []
        for index in 0..<3000 {
            let text = "line \(index) of a long run "
            let line = Array((text + String(repeating: ".", count: 99 - text.utf8.count) + "\n").utf8)
            XCTAssertEqual(line.count, 100)
            try await store.put(LiveLog.segmentKey("k", offset: output.count), Data(line))
            output += line
        }
        store.reset()
        let new = try await LiveLogReader.read(store, key: "k", from: 299_900)?.bytes
        XCTAssertEqual(new, Array(output[299_900...]))
        XCTAssertEqual(store.counts.listed, 1, "a reader at a segment's start lists only what follows")

        store.reset()
        let caughtUp = try await LiveLogReader.read(store, key: "k", from: output.count)?.bytes
        XCTAssertEqual(caughtUp, [])
        XCTAssertEqual(store.counts.requests, 2, "an empty listing, then one 4 KiB back that shows the last segment ends here")
        XCTAssertLessThanOrEqual(store.counts.listed, 41)

        store.reset()
        let inside = try await LiveLogReader.read(store, key: "k", from: 250_050)?.bytes
        XCTAssertEqual(inside, Array(output[250_050...]))
        // What follows (499 segments), then from 4 KiB back (41 more): not the 3,000 of the series.
        XCTAssertLessThanOrEqual(store.counts.listed, 499 + 499 + 41)

        // A window that stopped inside the last segment (a page reads 256 KiB at a time; a segment holds up to
        // 4 MiB) gets the rest of it, though no segment starts after it.
        let big = Array(repeating: UInt8(ascii: "x"), count: 300_000)
        try await store.put(LiveLog.segmentKey("big", offset: 0), Data(big))
        let rest = try await LiveLogReader.read(store, key: "big", from: 262_144)?.bytes
        XCTAssertEqual(rest?.count, 300_000 - 262_144)
        let end = try await LiveLogReader.read(store, key: "big", from: 300_000)?.bytes
        XCTAssertEqual(end, [])

        // A window is all that is fetched: the page's first view of a long log is its tail.
        store.reset()
        let tailRead = try await LiveLogReader.read(store, key: "k", from: nil, limit: 250)
        let tail = try XCTUnwrap(tailRead)
        XCTAssertEqual(tail, OutputSlice(start: output.count - 250, bytes: Array(output.suffix(250)), total: output.count))
        XCTAssertLessThanOrEqual(store.counts.bytesRead, 300, "three segments of 100 bytes, not the 300 KB")
        store.reset()
        let windowRead = try await LiveLogReader.read(store, key: "k", from: 1_050, limit: 100)
        let window = try XCTUnwrap(windowRead)
        XCTAssertEqual(window, OutputSlice(start: 1_050, bytes: Array(output[1_050..<1_150]), total: output.count))
        XCTAssertEqual(store.counts.bytesRead, 100, "the window alone: ranged reads of the two segments that hold it")

        let everything = try await LiveLogReader.read(store, key: "k", from: 0)?.bytes
        XCTAssertEqual(everything, output)
        let none = try await LiveLogReader.read(store, key: "other", from: 500)?.bytes
        XCTAssertNil(none, "no segments: the reader falls back to output.tar")
    }

    /// A store that refuses its first `failures` writes, as a flaky network would.
    private final class FlakyStore: ObjectStore, @unchecked Sendable {
        let store: LocalObjectStore
        private let lock = NSLock()
        private var failures: Int
        init(_ store: LocalObjectStore, failures: Int) { self.store = store; self.failures = failures }
        func get(_ key: String) async throws -> Data? { try await store.get(key) }
        func put(_ key: String, _ data: Data) async throws {
            let fail = lock.withLock { () -> Bool in failures -= 1; return failures >= 0 }
            if fail { throw CocoaError(.fileWriteUnknown) }
            try await store.put(key, data)
        }
        func exists(_ key: String) async throws -> Bool { try await store.exists(key) }
        func delete(_ key: String) async throws { try await store.delete(key) }
        func upload(_ key: String, fromFile path: String) async throws { try await store.upload(key, fromFile: path) }
        func download(_ key: String, toFile path: String) async throws -> Bool { try await store.download(key, toFile: path) }
    }

    /// Chart files go up as contiguous pieces with a manifest; failed writes are retried on later ticks and
    /// nothing is lost or uploaded twice; files that do not feed the charts are not uploaded.
    func testChartPiecesSurviveFailedWrites() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("livecharts-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/tb", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let local = LocalObjectStore(root: directory + "/store")
        let events = Data((0..<5000).map { UInt8($0 % 251) })
        _ = FileManager.default.createFile(atPath: directory + "/tb/events.out.tfevents.1.h", contents: events)
        _ = FileManager.default.createFile(atPath: directory + "/tb/weights.bin", contents: Data(count: 100))
        _ = FileManager.default.createFile(atPath: directory + "/output", contents: Data())
        let uploader = LiveUploader.start(store: FlakyStore(local, failures: 2), key: "k", outputPath: directory + "/output",
                                          charts: [("tb", directory + "/tb")], log: WorkerLog(level: .error))
        var manifest: LiveChartPieces.Manifest?
        let deadline = Date().addingTimeInterval(30)
        while manifest?.files["events.out.tfevents.1.h"] != events.count, Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
            manifest = try await local.get(LiveChartPieces.manifestKey("k", tag: "tb")).flatMap { LiveChartPieces.Manifest(parsing: Array($0)) }
        }
        await uploader.finish()
        let uploaded = try XCTUnwrap(manifest)
        XCTAssertEqual(uploaded.files, ["events.out.tfevents.1.h": events.count], "only the event file, all of it")
        let pieces = try await local.list(prefix: "experiments/k/tb.live/")
        XCTAssertEqual(pieces, [LiveChartPieces.pieceKey("k", tag: "tb", attempt: uploaded.attempt, file: "events.out.tfevents.1.h", offset: 0)])
        let piece = try await local.get(pieces[0])
        XCTAssertEqual(piece, events)
    }
}
