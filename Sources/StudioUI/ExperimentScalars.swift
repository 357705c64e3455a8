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
/// worker's live files when it runs on this machine; else, while the experiment runs, from the live pieces
/// its worker uploads every 2 s (`LiveCharts`), and once it has ended from its last checkpoint in storage. A
/// stored result is kept until the artifacts' versions change, so a chart's poll of an ended experiment
/// costs one listing.
actor ExperimentScalars {
    struct Result: Sendable {
        var scalars: TensorBoardScalars
        var signature: String
    }

    private let storage: any ListableObjectStore
    private let control: any ExperimentControl
    private let scratch: String
    private var cache: [String: Result] = [:]
    private var live: [String: LiveCharts] = [:]
    private var order: [String] = []

    static let cached = 32

    init(storage: any ListableObjectStore, control: any ExperimentControl, scratch: String) {
        self.storage = storage
        self.control = control
        self.scratch = scratch
    }

    /// The scalars of `key` (whose parsed record is `record`).
    func scalars(_ key: String, record: Experiment) async throws -> TensorBoardScalars {
        let live = LiveChartPieces.tags.compactMap { tag in control.liveArtifactPath(key, tag: tag).map { (tag, $0) } }
        if live.isEmpty, !record.hasEnded {
            var charts = self.live[key] ?? LiveCharts()
            if try await charts.update(key, from: storage) {
                self.live[key] = charts
                remember(key)
                return charts.scalars
            }
        }
        self.live[key] = nil
        var signature: String?
        if !live.isEmpty {
            signature = "live " + live.map { Self.files(under: $0.1).map { "\($0.path):\($0.size):\($0.modified)" }.joined(separator: ",") }.joined(separator: ";")
        } else {
            let stored = (try? await storage.listObjects(prefix: "experiments/\(key)/")) ?? []
            let keys = Set(LiveChartPieces.tags.compactMap { record.artifact($0)?.key })
            let artifacts = stored.filter { keys.contains($0.key) }
            signature = "stored " + artifacts.map { "\($0.key):\($0.size ?? -1):\($0.version ?? "")" }.sorted().joined(separator: ",")
            // A tar's size moves in 10 KiB steps: without a version, a new checkpoint may look the same.
            if artifacts.contains(where: { $0.version == nil }) { signature = nil }
        }
        if let signature, let hit = cache[key], hit.signature == signature { return hit.scalars }
        let scalars = try await read(key, record: record, live: Dictionary(uniqueKeysWithValues: live))
        guard let signature else { return scalars }
        cache[key] = Result(scalars: scalars, signature: signature)
        remember(key)
        return scalars
    }

    /// Keeps what is known of the last `cached` experiments asked for.
    private func remember(_ key: String) {
        order.removeAll { $0 == key }
        order.append(key)
        guard order.count > Self.cached else { return }
        let oldest = order.removeFirst()
        cache[oldest] = nil
        live[oldest] = nil
    }

    private func read(_ key: String, record: Experiment, live: [String: String]) async throws -> TensorBoardScalars {
        var scalars = TensorBoardScalars()
        let directory = scratch + "/scalars-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for tag in LiveChartPieces.tags {
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
                for file in Self.files(under: path) where LiveChartPieces.isChartFile(tag: tag, file: file.relative) {
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

    static func files(under path: String) -> [RegularFile] { RegularFiles.under(path, limit: LiveChartPieces.maxFiles) }

    /// A file's bytes, at most `LiveChartPieces.maxFileBytes` (a longer event file shows its first records).
    static func contents(_ path: String) -> [UInt8] {
        RegularFiles.read(path, from: 0, limit: LiveChartPieces.maxFileBytes)?.bytes ?? []
    }
}
