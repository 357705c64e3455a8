#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioModel
import StudioStorage

/// A running experiment's chart data, from the live pieces its worker uploads (`LiveChartPieces`): per file,
/// how far it has been fetched and what that parsed to, so each look costs the manifests (one small object
/// per chart artifact) and the pieces written since the last look, never the files again.
struct LiveCharts: Sendable {
    private struct File: Sendable {
        var fetched = 0
        /// Bytes after the last complete record or line: read again with what follows them.
        var pending: [UInt8] = []
        var scalars = TensorBoardScalars()
        var nextStep: Int64 = 0
        /// Malformed: read no further.
        var stopped = false
    }

    private struct Chart: Sendable {
        var attempt: String
        var files: [String: File] = [:]
    }

    private var charts: [String: Chart] = [:]
    /// Every file's scalars, in tag and file order.
    private(set) var scalars = TensorBoardScalars()

    /// Fetches the manifests and the pieces written since the last call; false when `key` has no live pieces
    /// (an experiment run by an older worker, or not started).
    mutating func update(_ key: String, from storage: any ObjectStore) async throws -> Bool {
        var found = false, changed = false
        for tag in LiveChartPieces.tags {
            guard let data = try await storage.get(LiveChartPieces.manifestKey(key, tag: tag)),
                  let manifest = LiveChartPieces.Manifest(parsing: Array(data)) else {
                if charts.removeValue(forKey: tag) != nil { changed = true }
                continue
            }
            found = true
            var chart = charts[tag] ?? Chart(attempt: "")
            if chart.attempt != manifest.attempt {
                chart = Chart(attempt: manifest.attempt) // first seen, or a new attempt: start again from its pieces
                changed = true
            }
            for (file, size) in manifest.files.sorted(by: { $0.key < $1.key }) where LiveChartPieces.isChartFile(tag: tag, file: file) {
                var state = chart.files[file] ?? File()
                while !state.stopped, state.fetched < size {
                    let pieceKey = LiveChartPieces.pieceKey(key, tag: tag, attempt: manifest.attempt, file: file, offset: state.fetched)
                    guard let piece = try await storage.get(pieceKey), !piece.isEmpty else { break }
                    state.fetched += piece.count
                    state.pending.append(contentsOf: piece)
                    Self.parse(tag, file, &state)
                    changed = true
                }
                chart.files[file] = state
            }
            charts[tag] = chart
        }
        if changed { merge() }
        return found
    }

    private static func parse(_ tag: String, _ file: String, _ state: inout File) {
        let consumed: Int
        if tag == "_metrics" {
            let read = ResourceSamples.read(state.pending, into: &state.scalars, firstStep: state.nextStep, wholeLinesOnly: true)
            consumed = read.consumed
            state.nextStep = read.nextStep
        } else {
            state.scalars.incomplete = []
            let run = file.lastIndex(of: "/").map { String(file[..<$0]) }
            consumed = state.scalars.read(state.pending, name: file, run: run)
            state.stopped = !state.scalars.malformed.isEmpty
        }
        state.pending.removeFirst(min(consumed, state.pending.count))
    }

    private mutating func merge() {
        var merged = TensorBoardScalars()
        for tag in LiveChartPieces.tags {
            guard let chart = charts[tag] else { continue }
            for file in chart.files.keys.sorted() { merged.merge(chart.files[file]!.scalars) }
        }
        scalars = merged
    }
}
