import Glibc

/// Thin wrappers over the syscalls the tar code and the local store use: EINTR retries, full writes,
/// and errors that name the file and the reason.
enum Posix {
    /// The text of an errno value, e.g. "No such file or directory".
    static func message(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// Reads up to `count` bytes; 0 means end of file.
    static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, what: @autoclosure () -> String) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer, count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw StorageError("cannot read \(what()): \(message(errno))")
        }
    }

    /// Reads up to `count` bytes at `offset`; 0 means end of file.
    static func pread(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, at offset: Int, what: @autoclosure () -> String) throws -> Int {
        while true {
            let n = Glibc.pread(fd, buffer, count, off_t(offset))
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw StorageError("cannot read \(what()): \(message(errno))")
        }
    }

    /// Writes all `count` bytes, retrying short writes.
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int, what: @autoclosure () -> String) throws {
        var done = 0
        while done < count {
            let n = Glibc.write(fd, buffer + done, count - done)
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            let code = n < 0 ? errno : ENOSPC
            throw StorageError("cannot write \(what()): \(message(code))")
        }
    }

    /// Opens a path, retrying EINTR; throws with the path named.
    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0, what: String? = nil) throws -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw StorageError("cannot open \(what ?? "'\(path)'"): \(message(errno))")
        }
    }

    /// `lstat`, or nil when the path does not exist.
    static func lstat(_ path: String) throws -> stat? {
        var st = stat()
        if Glibc.lstat(path, &st) == 0 { return st }
        if errno == ENOENT || errno == ENOTDIR { return nil }
        throw StorageError("cannot stat '\(path)': \(message(errno))")
    }

    /// Whether the mode bits describe a directory.
    static func isDirectory(_ mode: mode_t) -> Bool { (mode & S_IFMT) == S_IFDIR }
    /// Whether the mode bits describe a regular file.
    static func isRegular(_ mode: mode_t) -> Bool { (mode & S_IFMT) == S_IFREG }
    /// Whether the mode bits describe a symbolic link.
    static func isSymlink(_ mode: mode_t) -> Bool { (mode & S_IFMT) == S_IFLNK }

    /// Runs `body` with a NUL-terminated copy of the bytes (file names are bytes, not always UTF-8).
    static func withCString<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        var copy = bytes
        copy.append(0)
        return try copy.withUnsafeBufferPointer { buffer in
            try buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { try body($0) }
        }
    }

    /// The name bytes of a directory entry.
    static func direntName(_ entry: UnsafeMutablePointer<dirent>) -> [UInt8] {
        withUnsafePointer(to: &entry.pointee.d_name) { tuple in
            tuple.withMemoryRebound(to: UInt8.self, capacity: 256) { name in
                Array(UnsafeBufferPointer(start: name, count: strlen(UnsafeRawPointer(name).assumingMemoryBound(to: CChar.self))))
            }
        }
    }
}

extension Array where Element == UInt8 {
    /// The bytes as text for messages (invalid UTF-8 is replaced, never trusted for paths).
    var displayString: String { String(decoding: self, as: UTF8.self) }
}
