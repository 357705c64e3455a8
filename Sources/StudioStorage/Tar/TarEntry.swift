/// The kind of an archive member, from its typeflag.
public enum TarEntryKind: Sendable, Equatable {
    case regular, directory, symlink, hardLink, characterDevice, blockDevice, fifo
}

/// One member of a tar archive, after PAX and GNU extensions have been applied.
public struct TarEntry: Sendable, Equatable {
    /// The member name as stored (bytes: names need not be UTF-8).
    public var pathBytes: [UInt8]
    /// The link target of a symlink or hard link, as stored.
    public var linkTargetBytes: [UInt8]
    /// Regular file, directory, link, device or FIFO.
    public var kind: TarEntryKind
    /// Content size in bytes (0 for everything but regular files).
    public var size: Int64
    /// Permission bits including setuid/setgid/sticky (`mode & 0o7777`).
    public var mode: UInt32
    /// Modification time in seconds since the epoch (fractional with PAX).
    public var mtime: Double
    /// Numeric owner and group ids as stored (not applied on extraction).
    public var uid: Int64
    public var gid: Int64
    /// Owner and group names as stored (may be empty).
    public var uname: String
    public var gname: String

    /// The member name as text.
    public var path: String { pathBytes.displayString }
    /// The link target as text.
    public var linkTarget: String { linkTargetBytes.displayString }

    /// A member with the given name and kind and default metadata.
    public init(pathBytes: [UInt8], kind: TarEntryKind, size: Int64 = 0, mode: UInt32 = 0o644, mtime: Double = 0,
                linkTargetBytes: [UInt8] = [], uid: Int64 = 0, gid: Int64 = 0, uname: String = "", gname: String = "") {
        self.pathBytes = pathBytes
        self.kind = kind
        self.size = size
        self.mode = mode
        self.mtime = mtime
        self.linkTargetBytes = linkTargetBytes
        self.uid = uid
        self.gid = gid
        self.uname = uname
        self.gname = gname
    }
}
