#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioModel
import StudioStorage

/// The live log in storage, beside StudioML's `output.tar`: while the experiment runs, the worker uploads
/// only the bytes its output gained since the last upload, as append-only segments
/// `experiments/<key>/output.live/<offset>` (the offset zero-padded to 16 digits; each object holds the
/// output's bytes from that offset on). A reader on another machine (`studio logs -f`, the web UI) lists the
/// segments and fetches only those after the offset it has: no whole-log re-uploads or re-downloads.
/// `output.tar` stays as StudioML clients expect it, written at checkpoints and at the end. The chart
/// artifacts are followed on the same ticks (`LiveChartPieces`).
enum LiveLog {
    static let interval: Duration = .seconds(2)
    static let maxSegment = 4 << 20

    static func prefix(_ key: String) -> String { "experiments/\(key)/output.live/" }

    static func segmentKey(_ key: String, offset: Int) -> String {
        let digits = String(offset)
        return prefix(key) + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }
}

/// The worker's side: every `LiveLog.interval` while the experiment runs, uploads what its output gained
/// (`LiveLog`) and what the files of its chart artifacts gained (`LiveChartPieces`), then once more at the end.
final class LiveUploader: Sendable {
    private let task: Task<Void, Never>
    private let flushed: Task<Void, Never>

    /// Starts uploading `outputPath` (the experiment's output file) and the `charts` artifacts (tag, local
    /// path: a file or a directory) of `key` to `store`.
    static func start(store: any ObjectStore, key: String, outputPath: String, charts: [(tag: String, path: String)] = [],
                      log: WorkerLog) -> LiveUploader {
        LiveUploader(files: LiveFiles(store: store, key: key, outputPath: outputPath, charts: charts, log: log))
    }

    private init(files: LiveFiles) {
        task = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: LiveLog.interval)
                await files.upload()
            }
        }
        let task = self.task
        flushed = Task {
            _ = await task.value
            await files.upload(charts: false)
        }
    }

    /// Stops the timer and uploads what the output gained since the last tick. Not the charts: once the
    /// experiment has ended their readers go to the final checkpoint, which the worker writes next.
    func finish() async {
        task.cancel()
        await flushed.value
    }
}

/// What has been uploaded of one experiment's live files, and the uploads themselves (one at a time).
private actor LiveFiles {
    private let store: any ObjectStore
    private let key: String
    private let outputPath: String
    private let charts: [(tag: String, path: String)]
    private let log: WorkerLog
    private var outputUploaded = 0
    private var manifests: [String: LiveChartPieces.Manifest] = [:]
    /// Tags whose manifest changed since it was last stored.
    private var unsaved: Set<String> = []

    init(store: any ObjectStore, key: String, outputPath: String, charts: [(tag: String, path: String)], log: WorkerLog) {
        self.store = store
        self.key = key
        self.outputPath = outputPath
        self.charts = charts
        self.log = log
        let attempt = String(ChangeMark.wallClockMilliseconds())
        for chart in charts { manifests[chart.tag] = LiveChartPieces.Manifest(attempt: attempt) }
    }

    func upload(charts uploadCharts: Bool = true) async {
        await uploadOutput()
        guard uploadCharts else { return }
        for chart in charts { await upload(chart.tag, at: chart.path) }
    }

    private func uploadOutput() async {
        while let bytes = RegularFiles.read(outputPath, from: outputUploaded, limit: LiveLog.maxSegment)?.bytes, !bytes.isEmpty {
            do {
                try await store.put(LiveLog.segmentKey(key, offset: outputUploaded), Data(bytes))
            } catch {
                log.debug("live log upload failed (the next tick retries): \(error)")
                return
            }
            outputUploaded += bytes.count
        }
    }

    /// Uploads the growth of each file of artifact `tag`, then its manifest. A file that shrank (rewritten,
    /// not appended to) is left as uploaded: its checkpoint tar carries it.
    private func upload(_ tag: String, at path: String) async {
        guard var manifest = manifests[tag] else { return }
        defer { manifests[tag] = manifest }
        files: for file in RegularFiles.under(path, limit: LiveChartPieces.maxFiles) {
            guard LiveChartPieces.isChartFile(tag: tag, file: file.relative), LiveChartPieces.Manifest.isSafe(file.relative),
                  manifest.files[file.relative] != nil || manifest.files.count < LiveChartPieces.maxFiles else { continue }
            let end = min(Int(file.size), LiveChartPieces.maxFileBytes)
            var done = manifest.files[file.relative] ?? 0
            while done < end {
                guard let bytes = RegularFiles.read(file.path, from: done, limit: min(LiveLog.maxSegment, end - done))?.bytes, !bytes.isEmpty else { break }
                do {
                    try await store.put(LiveChartPieces.pieceKey(key, tag: tag, attempt: manifest.attempt, file: file.relative, offset: done), Data(bytes))
                } catch {
                    log.debug("live \(tag) upload failed (the next tick retries): \(error)")
                    break files
                }
                done += bytes.count
                manifest.files[file.relative] = done
                unsaved.insert(tag)
            }
        }
        guard unsaved.contains(tag) else { return }
        do {
            try await store.put(LiveChartPieces.manifestKey(key, tag: tag), Data(manifest.encoded))
            unsaved.remove(tag)
        } catch {
            log.debug("live \(tag) manifest upload failed (the next tick retries): \(error)")
        }
    }
}

/// The reader's side: part of the output, from the segments only.
enum LiveLogReader {
    private typealias Segment = (start: Int, size: Int64?)

    /// The output's bytes from `offset` on (at most `limit` of them), or its last `limit` bytes when there is no
    /// offset; nil when the store holds no segments for `key` (an experiment run by an older worker, or never
    /// started): then `output.tar` is the source. Stops at a gap. Only the segments that hold the bytes asked
    /// for are fetched: opening a long log costs its last window, not the whole.
    static func read(_ store: any ListableObjectStore, key: String, from offset: Int?, limit: Int? = nil) async throws -> OutputSlice? {
        let listed: [Segment]
        if let offset {
            guard let near = try await segments(store, key: key, near: offset) else { return nil }
            listed = near
        } else {
            listed = try await segments(store, key: key, startingAt: 0)
            guard listed.first?.start == 0 else { return nil }
        }
        // Segments of a rerun (after a redelivery) may overlap earlier ones: the file only grows, so each byte
        // is the same in every segment that holds it. Sizes come with the listing; a store that gives none has
        // each segment fetched to learn it.
        var sized: [(start: Int, size: Int, data: Data?)] = []
        for segment in listed {
            if let size = segment.size { sized.append((segment.start, Int(size), nil)); continue }
            guard let data = try await store.get(LiveLog.segmentKey(key, offset: segment.start)) else { break }
            sized.append((segment.start, data.count, data))
        }
        let total = contiguousEnd(sized.map { ($0.start, $0.size) }, from: offset ?? 0)
        let start = OutputSlice.start(of: offset, limit: limit, total: total)
        let end = limit.map { min(total, start + $0) } ?? total
        var bytes: [UInt8] = []
        var position = start // what `bytes` holds: [start, position)
        for segment in sized where position < end {
            guard segment.start + segment.size > position, segment.start <= position else { continue }
            // Only the part of the segment the window needs (a ranged read: a window of a 4 MiB piece
            // costs the window), unless the segment was fetched whole to learn its size.
            let wanted = (position - segment.start) ..< (min(segment.start + segment.size, end) - segment.start)
            var part = segment.data?.part(wanted)
            if part == nil { part = try await store.get(LiveLog.segmentKey(key, offset: segment.start), range: wanted) }
            guard let part, !part.isEmpty else { break }
            bytes.append(contentsOf: part)
            position += part.count
        }
        return OutputSlice(start: start, bytes: bytes, total: total)
    }

    /// Where the output held by `segments` (sorted by start) ends, followed from `offset` up to a gap.
    private static func contiguousEnd(_ segments: [(start: Int, size: Int)], from offset: Int) -> Int {
        var end = offset
        for segment in segments where segment.start <= end { end = max(end, segment.start + segment.size) }
        return end
    }

    /// The segments that can hold bytes from `offset` on, or nil when there are none at all.
    ///
    /// Segment keys sort by where they start, so only segments near `offset` are listed, never the whole
    /// series: first those starting at `offset` or later (a reader that read to the end of a segment needs
    /// nothing else); when none starts exactly there, `offset` lies inside or at the end of an earlier one,
    /// found by looking back 4 KiB, then 64 KiB, then 4 MiB (no segment is longer). Following a long run's
    /// log costs one or two short listings a poll, however many segments lie behind it.
    private static func segments(_ store: any ListableObjectStore, key: String, near offset: Int) async throws -> [Segment]? {
        var segments: [Segment] = []
        var from = offset
        for reach in [0, 4 << 10, 64 << 10, LiveLog.maxSegment] {
            from = max(0, offset - reach)
            segments = try await Self.segments(store, key: key, startingAt: from)
            if from == 0 || segments.first.map({ $0.start <= offset }) == true { break }
        }
        if from == 0, segments.first?.start != 0 { return nil }
        if segments.isEmpty {
            // Nothing within reach: no segments at all (then output.tar is the source), or a gap.
            return try await store.exists(LiveLog.segmentKey(key, offset: 0)) ? [] : nil
        }
        return segments
    }

    /// The segments of `key` that start at `offset` or later, in order.
    private static func segments(_ store: any ListableObjectStore, key: String, startingAt offset: Int) async throws -> [Segment] {
        let prefix = LiveLog.prefix(key)
        let listed = try await store.listObjects(prefix: prefix, recursive: true,
                                                 startAfter: offset > 0 ? LiveLog.segmentKey(key, offset: offset - 1) : nil)
        return listed.compactMap { object in Int(object.key.dropFirst(prefix.count)).map { (start: $0, size: object.size) } }
            .filter { $0.start >= offset }
            .sorted { $0.start < $1.start }
    }
}
