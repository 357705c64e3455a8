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
/// `output.tar` stays as StudioML clients expect it, written at checkpoints and at the end.
enum LiveLog {
    static let interval: Duration = .seconds(2)
    static let maxSegment = 4 << 20

    static func prefix(_ key: String) -> String { "experiments/\(key)/output.live/" }

    static func segmentKey(_ key: String, offset: Int) -> String {
        let digits = String(offset)
        return prefix(key) + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }
}

/// The worker's side: uploads new output every `LiveLog.interval` while the experiment runs.
final class LiveLogUploader: Sendable {
    private let task: Task<Void, Never>
    private let flushed: Task<Void, Never>

    /// Starts uploading `path` (the experiment's output file) for `key` to `store`.
    static func start(store: any ObjectStore, key: String, path: String, log: WorkerLog) -> LiveLogUploader {
        LiveLogUploader(store: store, key: key, path: path, log: log)
    }

    private init(store: any ObjectStore, key: String, path: String, log: WorkerLog) {
        let uploaded = UploadedBytes()
        task = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: LiveLog.interval)
                await Self.upload(store: store, key: key, path: path, uploaded: uploaded, log: log)
            }
        }
        let task = self.task
        flushed = Task {
            _ = await task.value
            await Self.upload(store: store, key: key, path: path, uploaded: uploaded, log: log)
        }
    }

    /// Stops the timer and uploads what the output gained since the last tick.
    func finish() async {
        task.cancel()
        await flushed.value
    }

    private actor UploadedBytes {
        var count = 0
        func set(_ value: Int) { count = value }
    }

    private static func upload(store: any ObjectStore, key: String, path: String, uploaded: UploadedBytes, log: WorkerLog) async {
        var offset = await uploaded.count
        while let bytes = read(path, from: offset, limit: LiveLog.maxSegment), !bytes.isEmpty {
            do {
                try await store.put(LiveLog.segmentKey(key, offset: offset), Data(bytes))
            } catch {
                log.debug("live log upload failed (the next tick retries): \(error)")
                return
            }
            offset += bytes.count
            await uploaded.set(offset)
        }
    }

    /// Up to `limit` bytes of the file from `offset`; nil when it cannot be read.
    static func read(_ path: String, from offset: Int, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: limit)
        var filled = 0
        while filled < limit {
            let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, limit - filled, off_t(offset + filled)) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            filled += count
        }
        return Array(bytes.prefix(filled))
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
            var fetched = segment.data
            if fetched == nil { fetched = try await store.get(LiveLog.segmentKey(key, offset: segment.start)) }
            guard let data = fetched else { break }
            let upper = min(segment.start + data.count, end)
            if upper > position {
                bytes.append(contentsOf: data[data.startIndex + (position - segment.start) ..< data.startIndex + (upper - segment.start)])
                position = upper
            }
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
