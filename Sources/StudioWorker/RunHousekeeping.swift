#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Synchronization

/// Keeps a long-running worker's disk use flat: the run directories of settled experiments
/// (`experiments/<key>/`, `artifact_mappings/<key>/`) beyond the newest `keepRuns` are removed,
/// and the blob cache is trimmed to `cacheBytes`, least recently used first.
final class RunHousekeeping: Sendable {
    let keepRuns: Int
    let cacheBytes: Int64
    private let finished = Mutex<[RunLayout]>([])

    init(keepRuns: Int, cacheBytes: Int64) {
        self.keepRuns = max(0, keepRuns)
        self.cacheBytes = max(0, cacheBytes)
    }

    /// Called once a run's outcome is settled: its directories are now only for debugging.
    func settled(_ layout: RunLayout, log: WorkerLog) {
        let expired = finished.withLock { runs -> [RunLayout] in
            runs.removeAll { $0.root == layout.root }
            runs.append(layout)
            let excess = runs.count - keepRuns
            guard excess > 0 else { return [] }
            defer { runs.removeFirst(excess) }
            return Array(runs.prefix(excess))
        }
        for run in expired {
            for path in [run.root, run.artifactMappingDirectory] where !Self.removeTree(path) {
                log.warning("cannot remove the finished run's directory \(path); remove it by hand")
            }
        }
        BlobCache(directory: layout.blobCache).trim(to: cacheBytes)
    }

    /// Removes `path` and everything under it, making directories writable first (an experiment
    /// may leave read-only ones behind). True when nothing is left.
    static func removeTree(_ path: String) -> Bool {
        var status = stat()
        guard lstat(path, &status) == 0 else { return errno == ENOENT }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            chmod(path, 0o700)
            if let names = try? FileManager.default.contentsOfDirectory(atPath: path) {
                for name in names { _ = removeTree(path + "/" + name) }
            }
            return rmdir(path) == 0
        }
        return unlink(path) == 0
    }
}

/// The blob cache (`$STUDIOML_HOME/blobcache`): downloaded immutable tars, kept for the next
/// experiment with the same workspace. A use refreshes a file's time; trimming removes the
/// least recently used files until the total fits, never one that an experiment is unpacking
/// (with `--parallel`, one slot trims while another unpacks).
struct BlobCache: Sendable {
    let directory: String

    /// Files in use, with how many users each has.
    private static let pinned = Mutex<[String: Int]>([:])

    /// Runs `body` with `path` kept out of every trim until it returns.
    static func whilePinned<T>(_ path: String, _ body: () async throws -> T) async rethrows -> T {
        pinned.withLock { $0[path, default: 0] += 1 }
        defer {
            pinned.withLock { users in
                if let count = users[path], count > 1 { users[path] = count - 1 } else { users[path] = nil }
            }
        }
        return try await body()
    }

    /// Marks `path` as just used.
    static func touch(_ path: String) {
        _ = utimensat(AT_FDCWD, path, nil, 0)
    }

    /// Removes the least recently used files until the cache holds at most `limit` bytes.
    func trim(to limit: Int64) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        var files: [(path: String, size: Int64, used: Int64)] = []
        var total: Int64 = 0
        let inUse = Self.pinned.withLock { Set($0.keys) }
        for name in names where !name.contains(".part-") {
            let path = directory + "/" + name
            guard !inUse.contains(path) else { continue }
            var status = stat()
            guard lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { continue }
            let used = Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec)
            files.append((path, Int64(status.st_size), used))
            total += Int64(status.st_size)
        }
        guard total > limit else { return }
        for file in files.sorted(by: { $0.used < $1.used }) where total > limit {
            if unlink(file.path) == 0 { total -= file.size }
        }
    }
}
