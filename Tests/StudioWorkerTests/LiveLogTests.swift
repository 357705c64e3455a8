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
        XCTAssertEqual(store.counts.bytesRead, 200)

        let everything = try await LiveLogReader.read(store, key: "k", from: 0)?.bytes
        XCTAssertEqual(everything, output)
        let none = try await LiveLogReader.read(store, key: "other", from: 500)?.bytes
        XCTAssertNil(none, "no segments: the reader falls back to output.tar")
    }
}
