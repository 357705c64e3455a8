import Glibc

/// One extraction into an open target directory. Every member is created relative to descriptors walked from
/// the root with O_NOFOLLOW, so symlinks (planted by earlier members or already there) are never followed.
final class Extraction {
    private let root: Int32
    private let umaskBits: UInt32
    private var cachedParent: (components: ArraySlice<[UInt8]>, fd: Int32)?
    private var directories: [(components: [[UInt8]], mode: UInt32, mtime: Double)] = []
    private var symlinks: [(components: [[UInt8]], member: [UInt8])] = []
    private(set) var memberCount = 0
    private(set) var byteCount: Int64 = 0

    init(target: String) throws {
        root = try Posix.open(target, O_RDONLY | O_DIRECTORY, what: "extraction target '\(target)'")
        let mask = umask(0)
        umask(mask)
        umaskBits = UInt32(mask)
    }

    deinit {
        if let cachedParent { close(cachedParent.fd) }
        close(root)
    }

    /// Extracts one member; regular-file content is read from `reader`.
    func extract(_ entry: TarEntry, from reader: TarReader) throws {
        let member = entry.pathBytes
        let components = try Self.safeComponents(member, member: member, what: "name")
        if components.isEmpty {
            // `./` itself: the target directory already exists.
            guard entry.kind == .directory else { throw TarError.member(member, "refused: it names the target directory itself") }
            return
        }
        let name = components[components.count - 1]
        switch entry.kind {
        case .characterDevice, .blockDevice:
            throw TarError.member(member, "refused: device files are never extracted")
        case .fifo:
            throw TarError.member(member, "refused: FIFOs are never extracted")
        case .directory:
            let parent = try parentDirectory(components.dropLast(), member: member)
            if Posix.withCString(name, { mkdirat(parent, $0, 0o700) }) != 0 {
                guard errno == EEXIST else { throw TarError.member(member, "cannot create directory: \(Posix.message(errno))") }
                var st = stat()
                let isDirectory = Posix.withCString(name) { fstatat(parent, $0, &st, AT_SYMLINK_NOFOLLOW) } == 0 && Posix.isDirectory(st.st_mode)
                if !isDirectory {
                    try clearPlace(parent, name, member: member)
                    guard Posix.withCString(name, { mkdirat(parent, $0, 0o700) }) == 0 else {
                        throw TarError.member(member, "cannot create directory: \(Posix.message(errno))")
                    }
                }
            }
            directories.append((components, entry.mode & 0o1777, entry.mtime))
        case .regular:
            let parent = try parentDirectory(components.dropLast(), member: member)
            let mode = entry.mode & 0o777
            let fd = try createFile(parent, name, mode: mode, member: member)
            defer { close(fd) }
            try reader.copyContents(to: fd)
            // Created with the member's mode: chmod only when the umask took bits away.
            try Self.applyAttributes(fd, mode: mode & ~umaskBits == mode ? nil : mode, mtime: entry.mtime, member: member)
            byteCount += entry.size
        case .symlink:
            let target = entry.linkTargetBytes
            // The same rule `studio run` packs by (ExtractableLink), so a submitted workspace always unpacks.
            switch ExtractableLink.verdict(member: components, target: target) {
            case .extractable: break
            case .empty: throw TarError.member(member, "refused: symlink with an empty target")
            case .absolute: throw TarError.member(member, "refused: symlink to the absolute path '\(target.displayString)'")
            case .escapes:
                throw TarError.member(member, "refused: symlink target '\(target.displayString)' points outside the target directory")
            }
            let parent = try parentDirectory(components.dropLast(), member: member)
            try retryingOnce(parent, name, member: member, action: "create symlink") {
                Posix.withCString(target) { link in Posix.withCString(name) { symlinkat(link, parent, $0) } }
            }
            symlinks.append((components, member))
        case .hardLink:
            let source = try Self.safeComponents(entry.linkTargetBytes, member: member, what: "hard link target")
            guard let sourceName = source.last else { throw TarError.member(member, "refused: hard link to the target directory") }
            let sourceParent = try FileTree.openDirectory(below: root, source.dropLast(), create: false, member: member)
            defer { close(sourceParent) }
            var st = stat()
            guard Posix.withCString(sourceName, { fstatat(sourceParent, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 else {
                throw TarError.member(member, "refused: hard link target '\(entry.linkTarget)' is not an earlier member")
            }
            let parent = try parentDirectory(components.dropLast(), member: member)
            try retryingOnce(parent, name, member: member, action: "create hard link") {
                Posix.withCString(sourceName) { from in Posix.withCString(name) { linkat(sourceParent, from, parent, $0, 0) } }
            }
        }
        memberCount += 1
    }

    /// Moves a file already extracted beside the target (the single-file rule's first guess) in as `name`.
    func adoptFile(at path: String, named name: [UInt8], size: Int64) throws {
        let moved = Posix.withCString(name) { renameat(AT_FDCWD, path, root, $0) }
        guard moved == 0 else {
            throw TarError.member([0x2E, 0x2F] + name, "cannot move into the target directory: \(Posix.message(errno))")
        }
        memberCount += 1
        byteCount += size
    }

    /// Applies directory modes and times (deepest last-created first, after their contents are written) and
    /// checks that every symlink, resolved through the final tree, stays inside the target.
    func finish() throws {
        if let cachedParent { close(cachedParent.fd) }
        cachedParent = nil
        for directory in directories.reversed() {
            let fd = try FileTree.openDirectory(below: root, directory.components, create: false, member: FileTree.join(directory.components))
            defer { close(fd) }
            try Self.applyAttributes(fd, mode: directory.mode, mtime: directory.mtime, member: FileTree.join(directory.components))
        }
        for link in symlinks where !resolvesInside(link.components) {
            let path = FileTree.join(link.components)
            Posix.withCString(path) { _ = unlinkat(root, $0, 0) }
            throw TarError.member(link.member, "refused: symlink resolves outside the target directory through other links")
        }
    }

    /// Sets the permission bits (unless nil) and the access and modification times.
    static func applyAttributes(_ fd: Int32, mode: UInt32?, mtime: Double, member: [UInt8]) throws {
        if let mode, fchmod(fd, mode_t(mode)) != 0 {
            throw TarError.member(member, "cannot set its mode: \(Posix.message(errno))")
        }
        let time = try fileTime(mtime, member: member)
        var times = (time, time)
        let result = withUnsafePointer(to: &times) { $0.withMemoryRebound(to: timespec.self, capacity: 2) { futimens(fd, $0) } }
        guard result == 0 else { throw TarError.member(member, "cannot set its modification time: \(Posix.message(errno))") }
    }

    /// A member's modification time as a `timespec`; an error (never a trap) when it does not fit.
    static func fileTime(_ mtime: Double, member: [UInt8]) throws -> timespec {
        var seconds = mtime.rounded(.down)
        var nanoseconds = ((mtime - seconds) * 1e9).rounded()
        if nanoseconds >= 1e9 { seconds += 1; nanoseconds -= 1e9 }
        // Int(exactly:) is nil for NaN, infinities and anything beyond Int64, where Int(_:) would trap.
        guard let wholeSeconds = Int(exactly: seconds), let nanos = Int(exactly: nanoseconds) else {
            throw TarError.member(member, "its modification time \(mtime) is out of range")
        }
        return timespec(tv_sec: wholeSeconds, tv_nsec: nanos)
    }

    /// Validated path components of a member name or hard link target: relative, no `..`.
    private static func safeComponents(_ path: [UInt8], member: [UInt8], what: String) throws -> [[UInt8]] {
        let shown = path == member ? "" : " '\(path.displayString)'"
        guard !path.isEmpty else { throw TarError.member(member, "refused: empty \(what)") }
        guard path[0] != 0x2F else { throw TarError.member(member, "refused: absolute \(what)\(shown)") }
        let components = FileTree.components(path)
        if components.contains([0x2E, 0x2E]) { throw TarError.member(member, "refused: \(what)\(shown) contains a '..' component") }
        return components
    }

    /// The directory a member goes in, created as needed; cached because members arrive grouped by directory.
    private func parentDirectory(_ components: ArraySlice<[UInt8]>, member: [UInt8]) throws -> Int32 {
        if let cachedParent, cachedParent.components == components { return cachedParent.fd }
        let fd = try FileTree.openDirectory(below: root, components, create: true, member: member)
        if let cachedParent { close(cachedParent.fd) }
        cachedParent = (components, fd)
        return fd
    }

    private func clearPlace(_ parent: Int32, _ name: [UInt8], member: [UInt8]) throws {
        // What is removed may be the cached directory (or hold it): walk afresh next time.
        if let cachedParent, cachedParent.fd != parent {
            close(cachedParent.fd)
            self.cachedParent = nil
        }
        try FileTree.clearPlace(parent, name, member: member)
    }

    private func createFile(_ parent: Int32, _ name: [UInt8], mode: UInt32, member: [UInt8]) throws -> Int32 {
        var fd: Int32 = -1
        try retryingOnce(parent, name, member: member, action: "create file") {
            fd = Posix.withCString(name) { openat(parent, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(mode)) }
            return fd >= 0 ? 0 : -1
        }
        return fd
    }

    /// Runs a create-style call; when the name exists, clears it (never a non-empty directory) and tries again.
    private func retryingOnce(_ parent: Int32, _ name: [UInt8], member: [UInt8], action: String, _ call: () -> Int32) throws {
        if call() == 0 { return }
        guard errno == EEXIST else { throw TarError.member(member, "cannot \(action): \(Posix.message(errno))") }
        try clearPlace(parent, name, member: member)
        guard call() == 0 else { throw TarError.member(member, "cannot \(action): \(Posix.message(errno))") }
    }

    /// Resolves a symlink the way the kernel would (following links met on the way) and reports whether it
    /// stays below the root; a missing component ends resolution inside.
    private func resolvesInside(_ link: [[UInt8]]) -> Bool {
        var stack = Array(link)
        var pending: [[UInt8]] = []
        var hops = 0
        while true {
            // The top of the stack may be a link: replace it with its target.
            if !stack.isEmpty, let target = readLink(stack) {
                hops += 1
                if hops > 40 || target.first == 0x2F { return false }
                stack.removeLast()
                pending = FileTree.components(target) + pending
            }
            guard !pending.isEmpty else { return true }
            let part = pending.removeFirst()
            if part == [0x2E, 0x2E] {
                if stack.isEmpty { return false }
                stack.removeLast()
            } else {
                stack.append(part)
            }
        }
    }

    private func readLink(_ components: [[UInt8]]) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = Posix.withCString(FileTree.join(components)) { path in
            buffer.withUnsafeMutableBytes { readlinkat(root, path, $0.baseAddress!.assumingMemoryBound(to: CChar.self), 4096) }
        }
        return count > 0 ? Array(buffer[0..<count]) : nil
    }
}
