import Glibc

/// Filesystem helpers that never follow symbolic links: a path walker rooted at a directory descriptor
/// (so an archive member cannot write through a link an earlier member planted) and `rm -rf`.
enum FileTree {
    /// Splits a path into components, dropping empty ones and `.`.
    static func components(_ bytes: [UInt8]) -> [[UInt8]] {
        bytes.split(separator: 0x2F, omittingEmptySubsequences: true).map(Array.init).filter { $0 != [0x2E] }
    }

    /// Joins components with `/`.
    static func join(_ components: some Collection<[UInt8]>) -> [UInt8] {
        Array(components.joined(separator: [0x2F]))
    }

    /// Opens the directory at `components` below `base`, one component at a time with O_NOFOLLOW; creates
    /// missing ones when `create`. Returns an owned descriptor. `member` names the archive member for errors.
    static func openDirectory(below base: Int32, _ components: some Collection<[UInt8]>, create: Bool, member: [UInt8]) throws -> Int32 {
        var current = base
        var walked: [[UInt8]] = []
        defer { if current != base && current >= 0 { close(current) } }
        for component in components {
            walked.append(component)
            var next = Posix.withCString(component) { openat(current, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            if next < 0 && errno == ENOENT && create {
                let made = Posix.withCString(component) { mkdirat(current, $0, 0o755) }
                if made != 0 && errno != EEXIST {
                    throw TarError.member(member, "cannot create directory '\(join(walked).displayString)': \(Posix.message(errno))")
                }
                next = Posix.withCString(component) { openat(current, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            }
            if next < 0 {
                let code = errno
                var st = stat()
                let isLink = Posix.withCString(component) { fstatat(current, $0, &st, AT_SYMLINK_NOFOLLOW) } == 0 && Posix.isSymlink(st.st_mode)
                if isLink {
                    throw TarError.member(member, "refused: its path goes through the symlink '\(join(walked).displayString)'")
                }
                throw TarError.member(member, "cannot open directory '\(join(walked).displayString)': \(Posix.message(code))")
            }
            if current != base { close(current) }
            current = next
        }
        if current == base {
            let copy = fcntl(base, F_DUPFD_CLOEXEC, 0)
            guard copy >= 0 else { throw TarError.member(member, "cannot duplicate a descriptor: \(Posix.message(errno))") }
            return copy
        }
        let result = current
        current = base  // handed to the caller: keep the defer from closing it
        return result
    }

    /// Removes `name` in `directory` when it is not a directory, or when it is an empty one, so something else
    /// can take its place; a non-empty directory in the way is an error.
    static func clearPlace(_ directory: Int32, _ name: [UInt8], member: [UInt8]) throws {
        var st = stat()
        guard Posix.withCString(name, { fstatat(directory, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 else { return }
        let flags = Posix.isDirectory(st.st_mode) ? AT_REMOVEDIR : 0
        if Posix.withCString(name, { unlinkat(directory, $0, flags) }) != 0 && errno != ENOENT {
            throw TarError.member(member, "cannot replace the existing '\(name.displayString)': \(Posix.message(errno))")
        }
    }

    /// `rm -rf path`, without following symlinks; a missing path is fine.
    static func removeTree(_ path: String) throws {
        guard let st = try Posix.lstat(path) else { return }
        if !Posix.isDirectory(st.st_mode) {
            guard unlink(path) == 0 || errno == ENOENT else {
                throw StorageError("cannot remove '\(path)': \(Posix.message(errno))")
            }
            return
        }
        let fd = try Posix.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        defer { close(fd) }
        try removeContents(of: fd, display: path)
        guard rmdir(path) == 0 || errno == ENOENT else {
            throw StorageError("cannot remove directory '\(path)': \(Posix.message(errno))")
        }
    }

    /// Empties the directory open at `fd`, recursively.
    static func removeContents(of fd: Int32, display: String) throws {
        for (name, isDirectory) in try list(fd, display: display) {
            let shown = "\(display)/\(name.displayString)"
            if isDirectory {
                let child = Posix.withCString(name) { openat(fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
                guard child >= 0 else { throw StorageError("cannot open '\(shown)' to remove it: \(Posix.message(errno))") }
                defer { close(child) }
                try removeContents(of: child, display: shown)
            }
            var result = Posix.withCString(name) { unlinkat(fd, $0, isDirectory ? AT_REMOVEDIR : 0) }
            if result != 0 && errno == EACCES {
                // A read-only directory (extracted with mode 0555) must become writable to be emptied.
                fchmod(fd, 0o700)
                result = Posix.withCString(name) { unlinkat(fd, $0, isDirectory ? AT_REMOVEDIR : 0) }
            }
            guard result == 0 || errno == ENOENT else { throw StorageError("cannot remove '\(shown)': \(Posix.message(errno))") }
        }
    }

    /// The entries of the directory open at `fd` (not `.` or `..`), and whether each is a real directory.
    static func list(_ fd: Int32, display: String) throws -> [(name: [UInt8], isDirectory: Bool)] {
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0, let dir = fdopendir(copy) else {
            throw StorageError("cannot list '\(display)': \(Posix.message(errno))")
        }
        defer { closedir(dir) }
        rewinddir(dir)
        var entries: [(name: [UInt8], isDirectory: Bool)] = []
        while let entry = readdir(dir) {
            let name = Posix.direntName(entry)
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
            if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
                var st = stat()
                isDirectory = Posix.withCString(name) { fstatat(fd, $0, &st, AT_SYMLINK_NOFOLLOW) } == 0 && Posix.isDirectory(st.st_mode)
            }
            entries.append((name, isDirectory))
        }
        return entries
    }

    /// Creates `path` and its missing parents (`mkdir -p`).
    static func makeDirectories(_ path: String) throws {
        if let st = try Posix.lstat(path) {
            if Posix.isDirectory(st.st_mode) { return }
            if Posix.isSymlink(st.st_mode), (try? Posix.open(path, O_RDONLY | O_DIRECTORY)).map({ close($0) }) != nil { return }
            throw StorageError("cannot create directory '\(path)': a file is in the way")
        }
        let parent = parentPath(path)
        if parent != path { try makeDirectories(parent) }
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw StorageError("cannot create directory '\(path)': \(Posix.message(errno))")
        }
    }

    /// The parent of a path (`/a/b` → `/a`, `b` → `.`, `/` → `/`).
    static func parentPath(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        if slash == trimmed.startIndex { return "/" }
        return String(trimmed[..<slash])
    }
}
