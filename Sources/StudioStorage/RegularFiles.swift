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

    private static func nanoseconds(_ time: timespec) -> Int64 { Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec) }
}
