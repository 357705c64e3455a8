#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto
import Glibc
import StudioModel
import StudioStorage

/// An experiment's artifacts on this worker: immutable ones fetched before the run (tars unpacked,
/// http(s) downloads kept as the file they are), mutable ones packed and uploaded at every checkpoint,
/// each to the store its location names, and the tag → local path map.
struct ArtifactSet: Sendable {
    let experiment: Experiment
    let layout: RunLayout
    let stores: ArtifactStores
    let compression: String?

    /// The artifacts of `experiment`, whose own artifact store is `storage` (configured by `storageConfig`).
    init(experiment: Experiment, layout: RunLayout, storage: any ObjectStore, storageConfig: StoreConfig, compression: String?) {
        self.experiment = experiment
        self.layout = layout
        self.compression = compression
        stores = ArtifactStores(storage: storage, storageConfig: storageConfig, experimentKey: experiment.key)
    }

    /// Resolves every artifact's location, so a bad one (an unknown scheme, a mutable http(s) URL) fails
    /// the experiment before anything is downloaded or run.
    func checkLocations() throws {
        for (tag, artifact) in experiment.orderedArtifacts { _ = try stores.resolve(tag, artifact) }
    }

    /// Downloads (once per blob) every immutable artifact, then unpacks each tar into its fresh local
    /// path, or copies an http(s) download there as the file it is (StudioML's rule for `url` artifacts).
    func fetchImmutable(log: WorkerLog) async throws {
        try checkLocations()
        for (tag, artifact) in experiment.orderedArtifacts where !artifact.mutable {
            guard let resolved = try stores.resolve(tag, artifact) else { continue }
            let cached = layout.blobCache + "/" + Self.cacheName(resolved)
            try await BlobCache.whilePinned(cached) {
                if FileManager.default.fileExists(atPath: cached) {
                    BlobCache.touch(cached)
                } else {
                    try await download(tag, resolved, into: cached)
                }
                if resolved.kind == .http {
                    try placeDownload(cached, in: layout.path(for: tag), at: localPath(tag, artifact))
                } else {
                    do { try ArtifactPacking.unpack(tar: cached, into: layout.path(for: tag)) } catch {
                        // A tar that cannot be unpacked is never kept for the next experiment to trip on.
                        unlink(cached)
                        throw error
                    }
                }
            }
            log.debug("fetched artifact \(tag)", ["from": SecretRedaction.redactURL(resolved.name)])
        }
        try FileManager.default.createDirectory(atPath: layout.workspace, withIntermediateDirectories: true)
    }

    /// Where artifact `tag` is on this worker: `$STUDIOML_HOME/experiments/<key>/<tag>`, and for an
    /// http(s) artifact the downloaded file inside it, named by the URL's last path segment.
    func localPath(_ tag: String, _ artifact: Artifact) -> String {
        // A keyed artifact is a tar in the experiment's storage, whatever its location says (see ArtifactStores).
        guard (artifact.key ?? "").isEmpty, case .http(let url)? = try? artifact.location() else { return layout.path(for: tag) }
        return layout.path(for: tag) + "/" + safeFileName(HTTPObjectSource.fileName(of: url) ?? "download")
    }

    /// Writes `artifacts.json`: every artifact's tag and its path on this worker.
    func writeMapping() throws {
        var mapping: [(String, JSONValue)] = []
        for (tag, artifact) in experiment.orderedArtifacts { mapping.append((tag, .string(localPath(tag, artifact)))) }
        let data = JSONValue.object(JSONObject(mapping)).jsonData()
        try data.write(to: URL(fileURLWithPath: layout.artifactMapping), options: .atomic)
    }

    /// Packs and uploads every mutable artifact whose local path exists, to the store its location
    /// names; all at once, since each one is a round trip to its store.
    func uploadMutable(log: WorkerLog) async throws {
        var uploads: [(tag: String, local: String, resolved: ResolvedArtifact)] = []
        for (tag, artifact) in experiment.orderedArtifacts where artifact.mutable {
            let local = layout.path(for: tag)
            guard FileManager.default.fileExists(atPath: local) else { continue }
            guard let resolved = try stores.resolve(tag, artifact) else { continue }
            uploads.append((tag, local, resolved))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for upload in uploads {
                group.addTask { [layout, compression] in
                    let tar = layout.root + "/.upload-" + safeFileName(upload.tag) + ".tar"
                    defer { try? FileManager.default.removeItem(atPath: tar) }
                    try ArtifactPacking.pack(upload.local, toTar: tar, compression: compression)
                    try await upload.resolved.store.upload(upload.resolved.key, fromFile: tar)
                }
            }
            try await group.waitForAll()
        }
    }

    /// Fetches one blob into the cache: into a neighbour first, checked when content-addressed, then
    /// renamed into place.
    private func download(_ tag: String, _ resolved: ResolvedArtifact, into cached: String) async throws {
        let partial = cached + ".part-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" // parallel experiments may fetch one blob at once
        defer { unlink(partial) }
        guard try await resolved.store.download(resolved.key, toFile: partial) else {
            switch resolved.kind {
            case .experimentStorage:
                throw WorkerError("artifact \(tag) is missing from storage (key \(resolved.key)); was the submission's upload interrupted? Submit the experiment again")
            case .http:
                throw WorkerError("artifact \(tag): \(SecretRedaction.redactURL(resolved.name)) answered 404 Not Found; check the artifact's URL")
            case .gcs, .s3:
                throw WorkerError("artifact \(tag) is missing: there is no object \(resolved.name); check the artifact's qualified name")
            }
        }
        if resolved.kind != .http { try ArtifactPacking.verifyBlob(partial, key: resolved.key) }
        // rename(2), not moveItem: another worker may have cached the same blob meanwhile,
        // and moveItem then fails with "file exists", failing the experiment.
        if rename(partial, cached) != 0 {
            throw WorkerError("cannot put the downloaded blob \(resolved.name) into the cache at \(cached): \(String(cString: strerror(errno)))")
        }
    }

    /// Copies a cached download to `target` (a fresh directory holding just that file), so the
    /// experiment can never change the cached copy.
    private func placeDownload(_ cached: String, in directory: String, at target: String) throws {
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        do { try FileManager.default.copyItem(atPath: cached, toPath: target) } catch {
            throw WorkerError("cannot copy the downloaded artifact to \(target): \(error)")
        }
    }

    /// The blob cache's file name for an artifact: content-addressed `blobstore/<sha256>.tar` keys by
    /// their own name (shared by every store holding them); anything else by a hash of where it came
    /// from, so two URLs or keys ending in the same name never share a cache entry.
    static func cacheName(_ resolved: ResolvedArtifact) -> String {
        if resolved.kind != .http, ArtifactPacking.isContentAddressed(resolved.key),
           let last = resolved.key.split(separator: "/").last {
            return safeFileName(String(last))
        }
        let origin = resolved.kind == .experimentStorage ? "storage:" + resolved.key : resolved.name
        let prefix = resolved.kind == .http ? "url-" : "obj-"
        return prefix + SHA256.hash(data: Array(origin.utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
