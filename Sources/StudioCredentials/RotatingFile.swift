#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto

#if canImport(Glibc)
private let systemRead = Glibc.read
#elseif canImport(Darwin)
private let systemRead = Darwin.read
#endif

/// What identifies one version of a file: device, inode, modification time and size (after following symlinks).
public struct FileIdentity: Sendable, Equatable {
    /// The device holding the file.
    public let device: UInt64
    /// The inode; a kubelet `..data` swap always yields a new one.
    public let inode: UInt64
    /// Modification time, whole seconds.
    public let modificationSeconds: Int64
    /// Modification time, nanoseconds part.
    public let modificationNanoseconds: Int64
    /// Size in bytes.
    public let size: Int64

    init(_ status: stat) {
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
        #if canImport(Darwin)
        modificationSeconds = Int64(status.st_mtimespec.tv_sec)
        modificationNanoseconds = Int64(status.st_mtimespec.tv_nsec)
        #else
        modificationSeconds = Int64(status.st_mtim.tv_sec)
        modificationNanoseconds = Int64(status.st_mtim.tv_nsec)
        #endif
        size = Int64(status.st_size)
    }
}

/// A file that may be replaced under us (mounted Secrets, projected tokens): always opened by path, so a
/// kubelet `..data` symlink swap is seen, and able to tell whether it changed since it was last read (docs/images-and-kubernetes.md#mounted-secrets-and-rotation).
public struct RotatingFile: Sendable {
    /// The path as configured (typically a symlink such as `/secrets/key.json -> ..data/key.json`).
    public let path: String
    private var lastIdentity: FileIdentity?
    private var lastDigest: [UInt8]?

    /// Tracks `path`; nothing is read yet.
    public init(path: String) {
        self.path = path
    }

    /// The identity of the file `path` currently resolves to.
    public static func identity(of path: String) throws -> FileIdentity {
        var status = stat()
        guard stat(path, &status) == 0 else { throw Self.error(errno, path) }
        return FileIdentity(status)
    }

    /// The path with every symlink resolved (for logs).
    public func resolvedPath() throws -> String {
        guard let resolved = realpath(path, nil) else { throw Self.error(errno, path) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Whether the file now differs in identity from the last `read()`; true before the first read.
    public func hasChanged() throws -> Bool {
        try Self.identity(of: path) != lastIdentity
    }

    /// Reads the file by path now; `changed` is true on the first read and whenever the content differs.
    public mutating func read() throws -> (contents: [UInt8], changed: Bool) {
        let (contents, identity) = try Self.readWithIdentity(path)
        let digest = Array(SHA256.hash(data: contents))
        let changed = digest != lastDigest
        lastIdentity = identity
        lastDigest = digest
        return (contents, changed)
    }

    /// The new content if the file changed since the last read (an identical rewrite counts as unchanged), else nil.
    public mutating func readIfChanged() throws -> [UInt8]? {
        guard try hasChanged() else { return nil }
        let (contents, changed) = try read()
        return changed ? contents : nil
    }

    /// Opens, `fstat`s and reads one descriptor, so identity and bytes belong to the same version of the file.
    private static func readWithIdentity(_ path: String) throws -> ([UInt8], FileIdentity) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw error(errno, path) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw error(errno, path) }
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw error(errno, path)
            }
            if count == 0 { break }
            contents.append(contentsOf: buffer[0..<count])
        }
        return (contents, FileIdentity(status))
    }

    private static func error(_ code: Int32, _ path: String) -> CredentialsError {
        CredentialsError(.unreadableFile, "cannot read \(path): \(String(cString: strerror(code)))")
    }
}
