#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// One regular file found by `RegularFiles.under`.
public struct RegularFile: Sendable, Equatable {
    public var path: String
    /// Its path below the directory looked in (its own name when that path was the file itself).
    public var relative: String
    public var size: Int64
    /// Its modification time, in nanoseconds since 1970.
    public var modified: Int64
}

public enum RegularFiles {
    /// The regular files at `path` (the file itself, when it is one), sorted by path, at most `limit`;
    /// symbolic links are not followed below `path`. Nothing when `path` does not exist.
    public static func under(_ path: String, limit: Int) -> [RegularFile] {
        var st = stat()
        guard stat(path, &st) == 0 else { return [] }
        if st.st_mode & S_IFMT == S_IFREG {
            return [RegularFile(path: path, relative: String(path.split(separator: "/").last ?? ""), size: Int64(st.st_size), modified: nanoseconds(st.st_mtim))]
        }
        let subpaths = ((try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? []).sorted()
        var found: [RegularFile] = []
        for relative in subpaths where found.count < limit {
            let full = path + "/" + relative
            guard lstat(full, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
            found.append(RegularFile(path: full, relative: relative, size: Int64(st.st_size), modified: nanoseconds(st.st_mtim)))
        }
        return found
    }

    /// Up to `limit` bytes of the file at `path` from `offset`, and the file's size; nil when it cannot be
    /// opened.
    public static func read(_ path: String, from offset: Int, limit: Int) -> (bytes: [UInt8], size: Int)? {
        read(path) { _ in offset ..< offset + min(limit, Int.max - offset) }.map { ($0.bytes, $0.size) }
    }

    /// The bytes of the file at `path` in the range `part` picks from its size (clamped to it), with where
    /// they start and the size; nil when it cannot be opened. The buffer is the size of what is read, not of
    /// the range asked for. A symbolic link is not followed: these are files an experiment writes, read by a
    /// worker or a web UI that must not be led elsewhere.
    public static func read(_ path: String, part: (_ size: Int) -> Range<Int>) -> (bytes: [UInt8], start: Int, size: Int)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let size = Int(st.st_size)
        let offsets = part(size).clamped(toCount: size)
        var bytes = [UInt8](repeating: 0, count: offsets.count)
        var filled = 0
        while filled < bytes.count {
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, $0.count - filled, off_t(offsets.lowerBound + filled)) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            filled += got
        }
        return (Array(bytes.prefix(filled)), offsets.lowerBound, size)
    }

    private static func nanoseconds(_ time: timespec) -> Int64 { Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec) }
}
