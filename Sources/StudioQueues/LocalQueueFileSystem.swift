#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// The few POSIX file operations the local queue needs, with errors a user can act on.
enum QueueFiles {
    /// The text of an errno value (`No such file or directory`).
    static func describe(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }

    /// A queue error for a failed system call on `path`.
    static func failure(_ action: String, _ path: String, _ code: Int32) -> QueueError {
        let reason = describe(code)
        switch code {
        case EACCES, EPERM, EROFS:
            return QueueError(.unusable, "cannot \(action) \(path): \(reason); give this user write access to the queue directory or set STUDIOML_HOME elsewhere")
        case ENOSPC, EDQUOT:
            return QueueError(.unusable, "cannot \(action) \(path): \(reason); free some disk space")
        default:
            return QueueError(.transient, "cannot \(action) \(path): \(reason)")
        }
    }

    /// `mkdir -p`: creates the directory and its missing parents.
    static func makeDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 {
                let code = errno
                guard code == EEXIST else { throw failure("create directory", current, code) }
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw QueueError(.unusable, "\(path) is not a directory; remove it or set STUDIOML_HOME elsewhere")
        }
    }

    /// The names in a directory, without `.` and `..`.
    static func list(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else { throw failure("list", path, errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Creates `path` (which must not exist), writes `data` and flushes it to disk.
    static func writeNewFile(_ path: String, _ data: Data) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("create", path, errno) }
        var closed = false
        defer { if !closed { close(descriptor) } }
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure("write", path, errno)
                }
                offset += written
            }
        }
        guard fsync(descriptor) == 0 else { throw failure("flush", path, errno) }
        closed = true
        guard close(descriptor) == 0 else { throw failure("close", path, errno) }
    }

    /// The whole content of a file; throws with the errno when it cannot be read.
    static func read(_ path: String) throws(ReadFailure) -> Data {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ReadFailure(code: errno) }
        defer { close(descriptor) }
        var result = Data()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ReadFailure(code: errno)
            }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    /// An errno from `read`.
    struct ReadFailure: Error { var code: Int32 }

    /// `rename(2)`: 0 on success, else the errno (ENOENT when another worker moved the file first).
    static func rename(_ from: String, _ to: String) -> Int32 {
        Glibc.rename(from, to) == 0 ? 0 : errno
    }

    /// `unlink(2)`: 0 on success, else the errno.
    static func unlink(_ path: String) -> Int32 {
        Glibc.unlink(path) == 0 ? 0 : errno
    }

    /// Flushes a directory's entries, so a rename into it survives a power cut.
    static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    /// The status of the file `path` points to, or nil when it is gone.
    static func status(_ path: String) -> stat? {
        var info = stat()
        return stat(path, &info) == 0 ? info : nil
    }
}

/// Wall-clock and monotonic time in the units the queue stores.
enum QueueClock {
    /// Wall-clock milliseconds since the epoch: lease deadlines, shared between processes.
    static func nowMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// Wall-clock nanoseconds since the epoch: the order of sent messages.
    static func nowNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// Monotonic nanoseconds: how long a receive has waited, immune to clock changes.
    static func monotonicNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// A file's modification time in milliseconds since the epoch.
    static func milliseconds(_ time: timespec) -> Int64 {
        Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}
