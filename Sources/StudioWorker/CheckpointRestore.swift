#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioModel

extension ArtifactSet {
    /// Mutable artifacts each attempt writes afresh rather than resumes.
    static let notRestored: Set<String> = ["output", "_metrics"]

    /// An experiment that an earlier attempt checkpointed (a preempted or interrupted one, its record
    /// saying `time_last_checkpoint`) resumes from that checkpoint: each mutable artifact it uploaded
    /// (`modeldir`, captures; not `output` and `_metrics`) is unpacked into its local path before
    /// the run. An artifact the earlier attempt never uploaded is skipped.
    func restoreCheckpoint(log: WorkerLog) async throws {
        for (tag, artifact) in experiment.orderedArtifacts where artifact.mutable && !Self.notRestored.contains(tag) {
            guard let resolved = try stores.resolve(tag, artifact) else { continue }
            let tar = layout.root + "/.restore-" + safeFileName(tag) + ".tar"
            defer { unlink(tar) }
            guard try await resolved.store.download(resolved.key, toFile: tar) else { continue }
            try ArtifactPacking.unpack(tar: tar, into: layout.path(for: tag))
            log.info("restored artifact \(tag) from the last checkpoint")
        }
    }
}
