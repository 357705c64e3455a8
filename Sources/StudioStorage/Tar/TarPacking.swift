import Glibc

/// Packing artifacts the way StudioML names their members: a directory's children relative to it (no `./`,
/// no entry for the directory itself, subdirectories as `name/`), a single file as `./<basename>`.
extension TarWriter {
    /// Packs a directory or a single file at `path` into a new archive file at `outputPath`. With `portableOnly`
    /// (what `studio run` packs for workers) virtualenvs and links no worker would unpack are left out and listed in
    /// the digest's `leftOut`; `interrupted` answering true stops packing with `TarError.interrupted`.
    @discardableResult
    public static func pack(_ path: String, to outputPath: String, compression: TarCompression = .none,
                            honourIgnoreFile: Bool = true, portableOnly: Bool = false,
                            interrupted: (@Sendable () -> Bool)? = nil) throws -> TarDigest {
        guard let st = try Posix.lstat(path) else { throw StorageError("cannot pack '\(path)': no such file or directory") }
        return try withOutputFile(outputPath) { fd in
            if Posix.isDirectory(st.st_mode) {
                return try packDirectory(path, toFileDescriptor: fd, compression: compression, honourIgnoreFile: honourIgnoreFile,
                                         portableOnly: portableOnly, interrupted: interrupted)
            }
            return try packFile(path, toFileDescriptor: fd, compression: compression, interrupted: interrupted)
        }
    }

    /// Packs the contents of `directory` into a new archive file at `outputPath`.
    @discardableResult
    public static func packDirectory(_ directory: String, to outputPath: String, compression: TarCompression = .none,
                                     honourIgnoreFile: Bool = true) throws -> TarDigest {
        try withOutputFile(outputPath) { fd in
            try packDirectory(directory, toFileDescriptor: fd, compression: compression, honourIgnoreFile: honourIgnoreFile)
        }
    }

    /// Packs the contents of `directory` into `fd`, honouring its `.studioml_ignore` unless told not to
    /// (`portableOnly` and `interrupted` as for `pack`).
    @discardableResult
    public static func packDirectory(_ directory: String, toFileDescriptor fd: Int32, compression: TarCompression = .none,
                                     honourIgnoreFile: Bool = true, portableOnly: Bool = false,
                                     interrupted: (@Sendable () -> Bool)? = nil) throws -> TarDigest {
        let root = try Posix.open(directory, O_RDONLY | O_DIRECTORY, what: "directory '\(directory)'")
        defer { close(root) }
        let rules = honourIgnoreFile ? try IgnoreRules.load(directory: directory) : nil
        let writer = try TarWriter(fileDescriptor: fd, compression: compression, interrupted: interrupted)
        var walk = DirectoryWalk(writer: writer, rules: rules, display: directory, portableOnly: portableOnly, interrupted: interrupted)
        try walk.addChildren(of: root, prefix: [])
        var digest = try writer.finish()
        digest.leftOut = walk.leftOut
        return digest
    }

    /// Packs one file as the single member `./<basename>` into `fd`.
    @discardableResult
    public static func packFile(_ file: String, toFileDescriptor fd: Int32, compression: TarCompression = .none,
                                interrupted: (@Sendable () -> Bool)? = nil) throws -> TarDigest {
        let source = try Posix.open(file, O_RDONLY, what: "file '\(file)'")
        defer { close(source) }
        var st = stat()
        guard fstat(source, &st) == 0, Posix.isRegular(st.st_mode) else {
            throw StorageError("cannot pack '\(file)': not a regular file or directory")
        }
        let baseName = Array(file.utf8).split(separator: 0x2F).last.map(Array.init) ?? Array(file.utf8)
        let writer = try TarWriter(fileDescriptor: fd, compression: compression, interrupted: interrupted)
        try writer.addFile(name: [0x2E, 0x2F] + baseName, contentsOf: source, size: Int64(st.st_size), mode: UInt32(st.st_mode),
                           mtime: TarTime(seconds: Int64(st.st_mtim.tv_sec), nanoseconds: Int64(st.st_mtim.tv_nsec)),
                           uid: Int64(st.st_uid), gid: Int64(st.st_gid))
        return try writer.finish()
    }

    private static func withOutputFile(_ path: String, _ body: (Int32) throws -> TarDigest) throws -> TarDigest {
        let fd = try Posix.open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644, what: "archive '\(path)' for writing")
        do {
            let digest = try body(fd)
            guard close(fd) == 0 else { throw StorageError("cannot write archive '\(path)': \(Posix.message(errno))") }
            return digest
        } catch {
            close(fd)
            throw error
        }
    }
}

/// The recursive part of `packDirectory`: sorted names (reproducible archives), symlinks stored as links,
/// repeated inodes as hard links (as Python's tarfile does), sockets, devices and FIFOs skipped.
private struct DirectoryWalk {
    let writer: TarWriter
    let rules: IgnoreRules?
    let display: String
    /// Leave out what no worker would unpack: links `ExtractableLink` refuses, and virtualenvs.
    let portableOnly: Bool
    let interrupted: (@Sendable () -> Bool)?
    /// Member names of files with several links, by device and inode.
    var seenInodes: [InodeKey: [UInt8]] = [:]
    /// What `portableOnly` left out.
    var leftOut: [LeftOut] = []

    struct InodeKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    init(writer: TarWriter, rules: IgnoreRules?, display: String, portableOnly: Bool, interrupted: (@Sendable () -> Bool)?) {
        self.writer = writer
        self.rules = rules
        self.display = display
        self.portableOnly = portableOnly
        self.interrupted = interrupted
    }

    mutating func addChildren(of directory: Int32, prefix: [UInt8]) throws {
        let entries = try FileTree.list(directory, display: display).map(\.name).sorted { $0.lexicographicallyPrecedes($1) }
        for name in entries {
            if let interrupted, interrupted() { throw TarError.interrupted }
            let relative = prefix + name
            var st = stat()
            guard Posix.withCString(name, { fstatat(directory, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 else {
                if errno == ENOENT { continue }  // deleted while we walk
                throw StorageError("cannot stat '\(display)/\(relative.displayString)': \(Posix.message(errno))")
            }
            let kind = st.st_mode & S_IFMT
            if let rules, rules.isIgnored(relative, isDirectory: kind == S_IFDIR) { continue }
            let mtime = TarTime(seconds: Int64(st.st_mtim.tv_sec), nanoseconds: Int64(st.st_mtim.tv_nsec))
            let mode = UInt32(st.st_mode) & 0o7777
            let uid = Int64(st.st_uid), gid = Int64(st.st_gid)
            switch kind {
            case S_IFDIR:
                let child = Posix.withCString(name) { openat(directory, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
                guard child >= 0 else {
                    throw StorageError("cannot open directory '\(display)/\(relative.displayString)': \(Posix.message(errno))")
                }
                defer { close(child) }
                // A virtualenv never works elsewhere (its python links and script shebangs name this machine's
                // paths); the worker installs requirements.txt into its own Python instead.
                if portableOnly, Self.isVirtualenv(child) {
                    leftOut.append(LeftOut(path: relative.displayString, reason: .virtualenv))
                    continue
                }
                try writer.addDirectory(name: relative + [0x2F], mode: mode, mtime: mtime, uid: uid, gid: gid)
                try addChildren(of: child, prefix: relative + [0x2F])
            case S_IFREG:
                if st.st_nlink > 1 {
                    let key = InodeKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
                    if let first = seenInodes[key] {
                        try writer.addHardLink(name: relative, target: first, mode: mode, mtime: mtime, uid: uid, gid: gid)
                        continue
                    }
                    seenInodes[key] = relative
                }
                let file = Posix.withCString(name) { openat(directory, $0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
                guard file >= 0 else { throw StorageError("cannot open '\(display)/\(relative.displayString)': \(Posix.message(errno))") }
                defer { close(file) }
                // The size of the file we opened, not of whatever the name pointed to a moment ago.
                var opened = stat()
                guard fstat(file, &opened) == 0 else { throw StorageError("cannot stat '\(display)/\(relative.displayString)': \(Posix.message(errno))") }
                posix_fadvise(file, 0, 0, POSIX_FADV_SEQUENTIAL)
                try writer.addFile(name: relative, contentsOf: file, size: Int64(opened.st_size), mode: mode, mtime: mtime, uid: uid, gid: gid)
            case S_IFLNK:
                var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
                let count = Posix.withCString(name) { path in
                    buffer.withUnsafeMutableBytes { readlinkat(directory, path, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
                }
                guard count >= 0 else { throw StorageError("cannot read link '\(display)/\(relative.displayString)': \(Posix.message(errno))") }
                let target = Array(buffer[0..<count])
                if portableOnly {
                    // Exactly the extractor's rule: a link it would refuse would fail the whole experiment.
                    let verdict = ExtractableLink.verdict(member: FileTree.components(relative), target: target)
                    if verdict != .extractable {
                        leftOut.append(LeftOut(path: relative.displayString, reason: .link(target: target.displayString, verdict)))
                        continue
                    }
                }
                try writer.addSymlink(name: relative, target: target, mode: mode, mtime: mtime, uid: uid, gid: gid)
            default:
                continue  // sockets, FIFOs, devices: not artifact content
            }
        }
    }

    /// Whether the directory open at `fd` is a virtualenv: it holds a regular `pyvenv.cfg` (what Python's
    /// `site` module itself looks for).
    private static func isVirtualenv(_ fd: Int32) -> Bool {
        var st = stat()
        return fstatat(fd, "pyvenv.cfg", &st, AT_SYMLINK_NOFOLLOW) == 0 && Posix.isRegular(st.st_mode)
    }
}
