#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioModel
import StudioStorage

/// An experiment's chart data: the scalars of the TensorBoard event files in its `tb` artifact and the
/// worker's resource samples in `_metrics` (series `_metrics/cpu`, `_metrics/mem`, ...). Read from the
/// worker's live files when it runs on this machine, else from the last checkpoint in storage; a result is
/// kept until the files' sizes change, so a chart's poll of an idle experiment costs one listing.
actor ExperimentScalars {
    struct Result: Sendable {
        var scalars: TensorBoardScalars
        var signature: String
    }

    private let storage: any ListableObjectStore
    private let control: any ExperimentControl
    private let scratch: String
    private var cache: [String: Result] = [:]
    private var order: [String] = []

    static let tags = ["tb", "_metrics"]
    static let maxFileBytes = 64 << 20
    static let maxFiles = 256
    static let cached = 32

    init(storage: any ListableObjectStore, control: any ExperimentControl, scratch: String) {
        self.storage = storage
        self.control = control
        self.scratch = scratch
    }

    /// The scalars of `key` (whose parsed record is `record`).
    func scalars(_ key: String, record: Experiment) async throws -> TensorBoardScalars {
        let live = Self.tags.compactMap { tag in control.liveArtifactPath(key, tag: tag).map { (tag, $0) } }
        var signature: String?
        if !live.isEmpty {
            signature = "live " + live.map { Self.files(under: $0.1).map { "\($0.path):\($0.size):\($0.modified)" }.joined(separator: ",") }.joined(separator: ";")
        } else {
            let stored = (try? await storage.listObjects(prefix: "experiments/\(key)/")) ?? []
            let keys = Set(Self.tags.compactMap { record.artifact($0)?.key })
            let artifacts = stored.filter { keys.contains($0.key) }
            signature = "stored " + artifacts.map { "\($0.key):\($0.size ?? -1):\($0.version ?? "")" }.sorted().joined(separator: ",")
            // A tar's size moves in 10 KiB steps: without a version, a new checkpoint may look the same.
            if artifacts.contains(where: { $0.version == nil }) { signature = nil }
        }
        if let signature, let hit = cache[key], hit.signature == signature { return hit.scalars }
        let scalars = try await read(key, record: record, live: Dictionary(uniqueKeysWithValues: live))
        guard let signature else { return scalars }
        cache[key] = Result(scalars: scalars, signature: signature)
        order.removeAll { $0 == key }
        order.append(key)
        if order.count > Self.cached { cache[order.removeFirst()] = nil }
        return scalars
    }

    private func read(_ key: String, record: Experiment, live: [String: String]) async throws -> TensorBoardScalars {
        var scalars = TensorBoardScalars()
        let directory = scratch + "/scalars-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for tag in Self.tags {
            var path = live[tag]
            if path == nil, let objectKey = record.artifact(tag)?.key {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                let tar = directory + "/\(tag).tar"
                if try await storage.download(objectKey, toFile: tar) {
                    do {
                        _ = try TarExtractor.extract(archivePath: tar, to: directory + "/" + tag)
                        path = directory + "/" + tag
                    } catch {
                        scalars.malformed.append("\(tag): the stored artifact does not unpack: \(error)")
                    }
                }
            }
            guard let path else { continue }
            if tag == "_metrics" {
                for file in Self.files(under: path) { ResourceSamples.read(Self.contents(file.path), into: &scalars) }
            } else {
                for file in Self.files(under: path) where file.relative.split(separator: "/").last?.contains("tfevents") == true {
                    scalars.read(Self.contents(file.path), name: file.relative, run: Self.run(of: file.relative))
                }
            }
        }
        return scalars
    }

    /// An event file in a subdirectory is a TensorBoard "run": its tags are prefixed with the directory.
    private static func run(of relative: String) -> String? {
        guard let slash = relative.lastIndex(of: "/") else { return nil }
        return String(relative[..<slash])
    }

    /// The regular files at `path` (itself, when it is a file), sorted, at most `maxFiles`.
    static func files(under path: String) -> [(path: String, relative: String, size: Int64, modified: Int64)] {
        var st = stat()
        guard stat(path, &st) == 0 else { return [] }
        if st.st_mode & S_IFMT == S_IFREG { return [(path, String(path.split(separator: "/").last ?? ""), Int64(st.st_size), Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))] }
        let subpaths = ((try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? []).sorted()
        var found: [(String, String, Int64, Int64)] = []
        for relative in subpaths where found.count < maxFiles {
            let full = path + "/" + relative
            guard lstat(full, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
            found.append((full, relative, Int64(st.st_size), Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)))
        }
        return found
    }

    /// A file's bytes, at most `maxFileBytes` (a longer event file shows its first records).
    static func contents(_ path: String) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while bytes.count < maxFileBytes {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, min($0.count, maxFileBytes - bytes.count)) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return bytes
    }
}

/// The worker's `_metrics` lines, `time: <epoch> CPU: <pct> mem: <bytes> [name: <number> ...]`: each
/// `name: number` pair but time is a series `_metrics/<name lowercased>`, its step the line's number.
enum ResourceSamples {
    static func read(_ bytes: [UInt8], into scalars: inout TensorBoardScalars) {
        var step: Int64 = 0
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            let words = String(decoding: line, as: UTF8.self).split(separator: " ")
            var pairs: [(String, Double)] = []
            var index = 0
            while index + 1 < words.count {
                if words[index].hasSuffix(":"), let value = Double(words[index + 1]), value.isFinite {
                    pairs.append((words[index].dropLast().lowercased(), value))
                    index += 2
                } else {
                    index += 1
                }
            }
            guard let time = pairs.first(where: { $0.0 == "time" })?.1 else { continue }
            for (name, value) in pairs where name != "time" {
                scalars.append("_metrics/" + name, ScalarPoint(step: step, wallTime: time, value: value))
            }
            step += 1
        }
    }
}
