#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioModel
import StudioStorage

/// An experiment's artifacts on this worker: immutable ones fetched and unpacked before the run,
/// mutable ones packed and uploaded at every checkpoint, and the tag → local path map.
struct ArtifactSet: Sendable {
    let experiment: Experiment
    let layout: RunLayout
    let storage: any ObjectStore
    let compression: String?

    /// The object key artifact `tag` is stored under.
    private func storeKey(_ tag: String, _ artifact: Artifact) -> String {
        artifact.key ?? "experiments/\(experiment.key)/\(tag).tar"
    }

    /// Downloads (once per blob) and unpacks every immutable artifact into its fresh local path.
    func fetchImmutable(log: WorkerLog) async throws {
        for (tag, artifact) in experiment.orderedArtifacts where !artifact.mutable {
            guard let key = artifact.key else {
                if artifact.url != nil { log.warning("artifact \(tag) is an http(s) URL, which this worker cannot fetch: it is skipped (upload it as a --capture-once path instead)") }
                continue
            }
            let cached = layout.blobCache + "/" + safeFileName(key.split(separator: "/").last.map(String.init) ?? key)
            if !FileManager.default.fileExists(atPath: cached) {
                let partial = cached + ".part-\(getpid())"
                guard try await storage.download(key, toFile: partial) else {
                    throw WorkerError("artifact \(tag) is missing from storage (key \(key)); was the submission's upload interrupted? Submit the experiment again")
                }
                try ArtifactPacking.verifyBlob(partial, key: key)
                // rename(2), not moveItem: another worker may have cached the same blob meanwhile,
                // and moveItem then fails with "file exists", failing the experiment.
                if rename(partial, cached) != 0 {
                    let reason = String(cString: strerror(errno))
                    try? FileManager.default.removeItem(atPath: partial)
                    throw WorkerError("cannot put the downloaded blob \(key) into the cache at \(cached): \(reason)")
                }
            }
            try ArtifactPacking.unpack(tar: cached, into: layout.path(for: tag))
            log.debug("unpacked artifact \(tag)", ["key": key])
        }
        try FileManager.default.createDirectory(atPath: layout.workspace, withIntermediateDirectories: true)
    }

    /// Writes `artifacts.json`: every artifact's tag and its path on this worker.
    func writeMapping() throws {
        var mapping: [(String, JSONValue)] = []
        for (tag, _) in experiment.orderedArtifacts { mapping.append((tag, .string(layout.path(for: tag)))) }
        let data = JSONValue.object(JSONObject(mapping)).jsonData()
        try data.write(to: URL(fileURLWithPath: layout.artifactMapping), options: .atomic)
    }

    /// Packs and uploads every mutable artifact whose local path exists.
    func uploadMutable(log: WorkerLog) async throws {
        for (tag, artifact) in experiment.orderedArtifacts where artifact.mutable {
            let local = layout.path(for: tag)
            guard FileManager.default.fileExists(atPath: local) else { continue }
            let tar = layout.root + "/.upload-" + safeFileName(tag) + ".tar"
            defer { try? FileManager.default.removeItem(atPath: tar) }
            try ArtifactPacking.pack(local, toTar: tar, compression: compression)
            try await storage.upload(storeKey(tag, artifact), fromFile: tar)
        }
    }
}
