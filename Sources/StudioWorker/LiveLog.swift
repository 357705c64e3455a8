#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
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

/// The reader's side: the output from an offset, from the segments only.
enum LiveLogReader {
    /// The output's bytes from `offset` on, or nil when the store holds no segments for `key` (an experiment
    /// run by an older worker, or never started): then `output.tar` is the source. Stops at a gap.
    ///
    /// Segment keys sort by where they start, so only segments near `offset` are listed, never the whole
    /// series: first those starting at `offset` or later (a reader that read to the end of a segment needs
    /// nothing else); when none starts exactly there, `offset` lies inside or at the end of an earlier one,
    /// found by looking back 4 KiB, then 64 KiB, then 4 MiB (no segment is longer). Following a long run's
    /// log costs one or two short listings a poll, however many segments lie behind it.
    static func read(_ store: any ListableObjectStore, key: String, from offset: Int) async throws -> [UInt8]? {
        var segments: [(start: Int, size: Int64?)] = []
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
        // Segments of a rerun (after a redelivery) may overlap earlier ones: the file only grows, so each byte
        // is the same in every segment that holds it, and each is taken once.
        var bytes: [UInt8] = []
        var position = offset // what `bytes` holds: [offset, position)
        for segment in segments {
            if let size = segment.size, segment.start + Int(size) <= position { continue }
            guard segment.start <= position else { break } // a gap: stop before it
            guard let data = try await store.get(LiveLog.segmentKey(key, offset: segment.start)) else { break }
            let end = segment.start + data.count
            if end > position {
                bytes.append(contentsOf: data.dropFirst(position - segment.start))
                position = end
            }
        }
        return bytes
    }

    /// The segments of `key` that start at `offset` or later, in order.
    private static func segments(_ store: any ListableObjectStore, key: String, startingAt offset: Int) async throws
        -> [(start: Int, size: Int64?)] {
        let prefix = LiveLog.prefix(key)
        let listed = try await store.listObjects(prefix: prefix, recursive: true,
                                                 startAfter: offset > 0 ? LiveLog.segmentKey(key, offset: offset - 1) : nil)
        return listed.compactMap { object in Int(object.key.dropFirst(prefix.count)).map { (start: $0, size: object.size) } }
            .filter { $0.start >= offset }
            .sorted { $0.start < $1.start }
    }
}
