import Glibc

/// Something that shows how far a long step of a submission (packing, uploading) has come.
public protocol SubmissionProgress: Sendable {
    /// Starts showing `label`; `done` tells the bytes handled so far, of `total` when known.
    /// Returns the call that ends the display.
    func begin(_ label: String, total: Int64?, done: @escaping @Sendable () -> Int64) -> @Sendable () -> Void
}

/// The bytes of regular files below `path` (or of the file itself), symlinks not followed.
func treeSize(_ path: String) -> Int64 {
    var info = stat()
    guard lstat(path, &info) == 0 else { return 0 }
    if (info.st_mode & S_IFMT) == S_IFREG { return Int64(info.st_size) }
    guard (info.st_mode & S_IFMT) == S_IFDIR, let directory = opendir(path) else { return 0 }
    defer { closedir(directory) }
    var total: Int64 = 0
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name == "." || name == ".." { continue }
        total += treeSize(path + "/" + name)
    }
    return total
}

/// The current size of a file, 0 when it is not there (yet).
func fileSize(_ path: String) -> Int64 {
    var info = stat()
    return stat(path, &info) == 0 ? Int64(info.st_size) : 0
}
