#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CZlib
import Glibc

/// An object store that can enumerate its keys (`studio status` lists recent experiments).
public protocol ListableObjectStore: ObjectStore {
    /// Every key that starts with `prefix` (plain string prefix, as S3's ListObjects), in ascending byte order.
    func list(prefix: String) async throws -> [String]
    /// The listing with each object's size and version, so a reader can skip objects that did not change.
    /// Not `recursive`: only keys with no `/` after the prefix (records, not the artifacts under them).
    /// With `startAfter`, only keys that sort after it (byte order, as S3's `start-after`): a reader that keeps
    /// its place in a series of keys that only grows (log segments, change marks) lists only what is new.
    func listObjects(prefix: String, recursive: Bool, startAfter: String?) async throws -> [ListedObject]
}

/// Whether `key` sorts after `start` in byte order (always, when there is no `start`).
func sortsAfter(_ key: String, _ start: String?) -> Bool {
    guard let start else { return true }
    return start.precedesInKeyOrder(key)
}

/// One object of a listing, with what tells a reader whether it changed since it last looked.
public struct ListedObject: Sendable, Equatable {
    /// The object's key.
    public var key: String
    /// Its size in bytes, when the store says.
    public var size: Int64?
    /// A value that changes whenever the object is rewritten (an ETag; mtime, inode and size); nil when unknown.
    public var version: String?

    public init(key: String, size: Int64? = nil, version: String? = nil) {
        self.key = key
        self.size = size
        self.version = version
    }
}

extension ListableObjectStore {
    /// Keys only: a reader must re-read every object to see changes. Stores that know better override it.
    public func listObjects(prefix: String, recursive: Bool, startAfter: String?) async throws -> [ListedObject] {
        try await list(prefix: prefix)
            .filter { (recursive || !$0.dropFirst(prefix.count).contains("/")) && sortsAfter($0, startAfter) }
            .map { ListedObject(key: $0) }
    }

    /// The whole listing under `prefix`.
    public func listObjects(prefix: String, recursive: Bool) async throws -> [ListedObject] {
        try await listObjects(prefix: prefix, recursive: recursive, startAfter: nil)
    }

    /// Every object under `prefix`, with sizes and versions.
    public func listObjects(prefix: String) async throws -> [ListedObject] {
        try await listObjects(prefix: prefix, recursive: true)
    }
}

/// An object store in a local directory, laid out like the S3 buckets it stands in for.
///
/// Key mapping: S3 lets `experiments/<key>` (the record) and `experiments/<key>/<tag>.tar` coexist; a filesystem
/// cannot have a file and a directory of the same name. So the last segment of a key (the object) is stored with
/// the suffix `%obj`, and every `%` inside any segment is written `%25`. Directory names then never contain a `%`
/// that is not followed by `25`, and object names always end in a bare `%obj`, so no object can collide with a
/// directory or with another object: `experiments/K` → `root/experiments/K%obj`,
/// `experiments/K/output.tar` → `root/experiments/K/output.tar%obj`. Keys must be relative, with no empty, `.`
/// or `..` segments and no NUL. Writes go to a `%tmp-XXXXXX` file in the same directory (a name no key maps to),
/// are fsynced, then renamed over the object, so readers see the old object or the new one, never a part.
/// Empty directories left behind by `delete` are harmless and are not pruned (pruning would race with `put`).
public struct LocalObjectStore: ListableObjectStore {
    /// The directory holding the objects.
    public let root: String

    private static let objectSuffix = "%obj"
    private static let temporaryPrefix = "%tmp-"
    private static let copyBufferSize = 1 << 20

    /// A store rooted at `root` (created on first write).
    public init(root: String) {
        self.root = root
    }

    /// The whole object, read into a buffer its size (records are a few hundred bytes: zero-filling 1 MiB per
    /// record was most of the web UI's start-up read of 10,000 records). Objects are replaced by rename, so
    /// the size the open file has is the object's.
    public func get(_ key: String) async throws -> Data? {
        try await get(key, range: 0..<Int.max)
    }

    public func get(_ key: String, range: Range<Int>) async throws -> Data? {
        let path = try objectPath(key)
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw StorageError("cannot read object '\(key)' from '\(path)': \(Posix.message(errno))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StorageError("cannot read object '\(key)' from '\(path)': \(Posix.message(errno))") }
        let offsets = range.clamped(toCount: Int(st.st_size))
        var bytes = [UInt8](repeating: 0, count: offsets.count)
        var filled = 0
        while filled < bytes.count {
            let got = try bytes.withUnsafeMutableBytes {
                try Posix.pread(fd, $0.baseAddress! + filled, $0.count - filled, at: offsets.lowerBound + filled, what: "object '\(key)'")
            }
            if got == 0 { break }
            filled += got
        }
        return Data(bytes.prefix(filled))
    }

    public func put(_ key: String, _ data: Data) async throws {
        let path = try objectPath(key)
        try writeAtomically(to: path, what: "object '\(key)'") { fd in
            try data.withUnsafeBytes { bytes in
                if bytes.count > 0 { try Posix.writeAll(fd, bytes.baseAddress!, bytes.count, what: "object '\(key)'") }
            }
        }
    }

    /// Creates the empty file in place: no temporary file, no `fsync` (a marker lost to a power cut costs a
    /// reader one full listing, while three `fsync`s per experiment cost the worker milliseconds).
    public func putMarker(_ key: String) async throws {
        let path = try objectPath(key)
        var fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 && errno == ENOENT {
            try FileTree.makeDirectories(FileTree.parentPath(path))
            fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        guard fd >= 0 else { throw StorageError("cannot write marker '\(key)' at '\(path)': \(Posix.message(errno))") }
        close(fd)
    }

    public func exists(_ key: String) async throws -> Bool {
        let path = try objectPath(key)
        var st = stat()
        if stat(path, &st) == 0 { return Posix.isRegular(st.st_mode) }
        if errno == ENOENT || errno == ENOTDIR { return false }
        throw StorageError("cannot check object '\(key)' at '\(path)': \(Posix.message(errno))")
    }

    public func delete(_ key: String) async throws {
        let path = try objectPath(key)
        guard unlink(path) == 0 || errno == ENOENT || errno == ENOTDIR else {
            throw StorageError("cannot delete object '\(key)' at '\(path)': \(Posix.message(errno))")
        }
    }

    public func upload(_ key: String, fromFile path: String) async throws {
        let objectPath = try objectPath(key)
        let source = try Posix.open(path, O_RDONLY, what: "'\(path)' for upload")
        defer { close(source) }
        try writeAtomically(to: objectPath, what: "object '\(key)'") { fd in
            try Self.copy(from: source, to: fd, what: "object '\(key)'")
        }
    }

    public func download(_ key: String, toFile path: String) async throws -> Bool {
        let objectPath = try objectPath(key)
        let source = Glibc.open(objectPath, O_RDONLY | O_CLOEXEC)
        if source < 0 {
            if errno == ENOENT || errno == ENOTDIR { return false }
            throw StorageError("cannot read object '\(key)' from '\(objectPath)': \(Posix.message(errno))")
        }
        defer { close(source) }
        try FileTree.makeDirectories(FileTree.parentPath(path))
        try writeAtomically(to: path, what: "'\(path)'") { fd in
            try Self.copy(from: source, to: fd, what: "'\(path)'")
        }
        return true
    }

    /// The directory that holds the keys starting with `prefix` (only the directory named by the
    /// prefix's complete segments can hold matches) and the key prefix of its entries; nil when
    /// the prefix names no valid directory.
    private func directory(holding prefix: String) -> (path: String, keyPrefix: String)? {
        let directoryPart = prefix.lastIndex(of: "/").map { String(prefix[..<$0]) } ?? ""
        guard !directoryPart.isEmpty else { return (root, "") }
        let segments = directoryPart.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.allSatisfy({ Self.isValidSegment($0) }) else { return nil }
        return (root + "/" + segments.map { Self.escape($0) }.joined(separator: "/"), directoryPart + "/")
    }

    public func list(prefix: String) async throws -> [String] {
        guard let (directory, keyPrefix) = directory(holding: prefix) else { return [] }
        var keys: [String] = []
        try collect(directory: directory, keyPrefix: keyPrefix, into: &keys)
        return keys.filter { $0.hasPrefix(prefix) }.sorted { $0.precedesInKeyOrder($1) }
    }

    /// The listing with sizes and versions from `stat`: a rename over the object gives it a new inode and mtime.
    /// Not `recursive`, it reads one directory and never opens the artifact directories beside the records.
    public func listObjects(prefix: String, recursive: Bool, startAfter: String?) async throws -> [ListedObject] {
        guard let (directory, keyPrefix) = directory(holding: prefix) else { return [] }
        let keys: [String]
        if recursive {
            keys = try await list(prefix: prefix).filter { sortsAfter($0, startAfter) }
        } else {
            let fd = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd < 0 {
                if errno == ENOENT || errno == ENOTDIR { return [] }
                throw StorageError("cannot list '\(directory)': \(Posix.message(errno))")
            }
            defer { close(fd) }
            var objects: [ListedObject] = []
            for entry in try FileTree.list(fd, display: directory) where !entry.isDirectory {
                let name = entry.name.displayString
                guard name.hasSuffix(Self.objectSuffix), !name.hasPrefix(Self.temporaryPrefix) else { continue }
                let key = keyPrefix + Self.unescape(String(name.dropLast(Self.objectSuffix.count)))
                guard key.hasPrefix(prefix), sortsAfter(key, startAfter) else { continue }
                var st = stat()
                guard Posix.withCString(entry.name, { fstatat(fd, $0, &st, 0) }) == 0 else { continue } // deleted since
                objects.append(ListedObject(key: key, size: Int64(st.st_size), version: Self.version(st)))
            }
            return objects.sorted { $0.key.precedesInKeyOrder($1.key) }
        }
        return try keys.compactMap { key in
            var st = stat()
            guard stat(try objectPath(key), &st) == 0 else { return nil } // deleted since the listing
            return ListedObject(key: key, size: Int64(st.st_size), version: Self.version(st))
        }
    }

    private static func version(_ st: stat) -> String {
        "\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)-\(st.st_ino)-\(st.st_size)"
    }

    /// The file that holds `key`, after checking the key is safe to map.
    public func objectPath(_ key: String) throws -> String {
        guard !key.isEmpty else { throw StorageError("object key is empty") }
        guard !key.hasPrefix("/") else { throw StorageError("object key '\(key)' is absolute; keys are relative like 'experiments/<key>'") }
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        for segment in segments where !Self.isValidSegment(segment) {
            throw StorageError("object key '\(key)' has an empty, '.', '..' or NUL-containing segment; such keys are refused")
        }
        let escaped = segments.map { Self.escape($0) }
        return root + "/" + escaped.joined(separator: "/") + Self.objectSuffix
    }

    private static func isValidSegment(_ segment: Substring) -> Bool {
        !segment.isEmpty && segment != "." && segment != ".." && !segment.utf8.contains(0)
    }

    private static func escape(_ segment: Substring) -> String {
        segment.contains("%") ? String(segment.replacing("%", with: "%25")) : String(segment)
    }

    private static func unescape(_ name: String) -> String {
        name.contains("%25") ? name.replacing("%25", with: "%") : name
    }

    private func collect(directory: String, keyPrefix: String, into keys: inout [String]) throws {
        let fd = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT || errno == ENOTDIR { return }
            throw StorageError("cannot list '\(directory)': \(Posix.message(errno))")
        }
        defer { close(fd) }
        for entry in try FileTree.list(fd, display: directory) {
            let name = entry.name.displayString
            if name.hasPrefix(Self.temporaryPrefix) { continue }
            if entry.isDirectory {
                try collect(directory: directory + "/" + name, keyPrefix: keyPrefix + Self.unescape(name) + "/", into: &keys)
            } else if name.hasSuffix(Self.objectSuffix) {
                keys.append(keyPrefix + Self.unescape(String(name.dropLast(Self.objectSuffix.count))))
            }
        }
    }

    /// Writes through a temporary file in the destination's directory, fsyncs it, renames it into place and
    /// fsyncs the directory, so the destination is always either absent, the old content or the new content.
    private func writeAtomically(to path: String, what: String, _ write: (Int32) throws -> Void) throws {
        let directory = FileTree.parentPath(path)
        try FileTree.makeDirectories(directory)
        var template = Array("\(directory)/\(Self.temporaryPrefix)XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { czlib_mkostemp($0.baseAddress!, O_CLOEXEC) }
        guard fd >= 0 else { throw StorageError("cannot create a temporary file in '\(directory)' for \(what): \(Posix.message(errno))") }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        do {
            try write(fd)
            fchmod(fd, 0o644)
            guard fsync(fd) == 0 else { throw StorageError("cannot flush \(what) to disk: \(Posix.message(errno))") }
            guard close(fd) == 0 else { throw StorageError("cannot write \(what): \(Posix.message(errno))") }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw StorageError("cannot move \(what) into place at '\(path)': \(Posix.message(code))")
        }
        let directoryFD = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// Copies a whole file in constant memory, in the kernel when it can.
    private static func copy(from source: Int32, to destination: Int32, what: String) throws {
        while true {
            let copied = czlib_copy_file_range(source, destination, 1 << 30)
            if copied > 0 { continue }
            if copied == 0 { return }
            if errno == EINTR { continue }
            if errno == ENOSPC || errno == EIO || errno == EDQUOT { throw StorageError("cannot write \(what): \(Posix.message(errno))") }
            break  // not supported between these files: read/write below, from where the kernel stopped
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: copyBufferSize, alignment: 4096)
        defer { buffer.deallocate() }
        while true {
            let got = try Posix.read(source, buffer.baseAddress!, buffer.count, what: what)
            if got == 0 { return }
            try Posix.writeAll(destination, buffer.baseAddress!, got, what: what)
        }
    }
}
