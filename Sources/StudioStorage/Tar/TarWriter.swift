import Glibc

/// The result of writing an archive: the SHA-256 of the stored bytes (the blobstore key) and their count.
public struct TarDigest: Sendable, Equatable {
    /// Lowercase hex SHA-256 of exactly the bytes written (after compression, if any).
    public var sha256: String
    /// Bytes written to the descriptor.
    public var byteCount: Int64
    /// Members written (PAX extension records not counted).
    public var memberCount: Int
    /// What packing for a worker left out (see `TarWriter.pack(…portableOnly:)`), in archive order.
    public var leftOut: [LeftOut] = []
}

/// Something `TarWriter.pack` left out of an archive meant for a worker, because no worker would unpack it.
public struct LeftOut: Sendable, Equatable {
    /// Why it was left out.
    public enum Reason: Sendable, Equatable {
        /// A virtualenv (a directory holding `pyvenv.cfg`): its links and scripts name the submitter's own paths.
        case virtualenv
        /// A symbolic link the extractor refuses (`ExtractableLink`), with its target.
        case link(target: String, ExtractableLink.Verdict)
    }

    /// The path below the packed directory.
    public var path: String
    public var reason: Reason

    /// A public memberwise initialiser.
    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }
}

/// A file's modification time with nanoseconds, as `stat` reports it.
public struct TarTime: Sendable, Equatable {
    /// Whole seconds since the epoch, and the nanoseconds past them.
    public var seconds: Int64
    public var nanoseconds: Int64
    /// A time from `stat`-style seconds and nanoseconds.
    public init(seconds: Int64, nanoseconds: Int64 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }
}

/// Writes a PAX tar archive the way Python 3.8+'s tarfile does (a `././@PaxHeader` record before members that
/// need one: long or non-ASCII names, fractional mtimes, big numbers; padding to 10240 bytes), streaming
/// to a descriptor and hashing the written bytes in the same pass.
public final class TarWriter {
    private let output: ArchiveOutput
    private var memberCount = 0
    private var finished = false

    /// Writes to `fileDescriptor` (not closed by the writer). `interrupted` is asked before every 2 MiB of archive;
    /// when it answers true the next write throws `TarError.interrupted`.
    public init(fileDescriptor: Int32, compression: TarCompression = .none, interrupted: (@Sendable () -> Bool)? = nil) throws {
        output = try ArchiveOutput(fd: fileDescriptor, compression: compression, interrupted: interrupted)
    }

    /// Adds a directory member; `name` should end with `/` (added when missing).
    public func addDirectory(name: [UInt8], mode: UInt32, mtime: TarTime, uid: Int64 = 0, gid: Int64 = 0) throws {
        let slashed = name.last == 0x2F ? name : name + [0x2F]
        try writeHeader(name: slashed, typeflag: UInt8(ascii: "5"), size: 0, mode: mode, mtime: mtime, uid: uid, gid: gid)
    }

    /// Adds a regular file whose `size` bytes are read from `source` (from its current position).
    public func addFile(name: [UInt8], contentsOf source: Int32, size: Int64, mode: UInt32, mtime: TarTime,
                        uid: Int64 = 0, gid: Int64 = 0) throws {
        try writeHeader(name: name, typeflag: UInt8(ascii: "0"), size: size, mode: mode, mtime: mtime, uid: uid, gid: gid)
        try output.appendFile(source, count: size, what: "'\(name.displayString)'")
        try padToBlock(size)
    }

    /// Adds a regular file with in-memory content.
    public func addFile(name: [UInt8], bytes: [UInt8], mode: UInt32 = 0o644, mtime: TarTime) throws {
        try writeHeader(name: name, typeflag: UInt8(ascii: "0"), size: Int64(bytes.count), mode: mode, mtime: mtime, uid: 0, gid: 0)
        try bytes.withUnsafeBytes { try output.append($0) }
        try padToBlock(Int64(bytes.count))
    }

    /// Adds a symbolic link (stored as a link, never followed).
    public func addSymlink(name: [UInt8], target: [UInt8], mode: UInt32 = 0o777, mtime: TarTime, uid: Int64 = 0, gid: Int64 = 0) throws {
        try writeHeader(name: name, typeflag: UInt8(ascii: "2"), size: 0, mode: mode, mtime: mtime, uid: uid, gid: gid, link: target)
    }

    /// Adds a hard link to an earlier member named `target`.
    public func addHardLink(name: [UInt8], target: [UInt8], mode: UInt32, mtime: TarTime, uid: Int64 = 0, gid: Int64 = 0) throws {
        try writeHeader(name: name, typeflag: UInt8(ascii: "1"), size: 0, mode: mode, mtime: mtime, uid: uid, gid: gid, link: target)
    }

    /// Writes the end-of-archive marker and the record padding, flushes, and returns the digest.
    public func finish() throws -> TarDigest {
        precondition(!finished, "TarWriter.finish called twice")
        finished = true
        try output.appendZeros(2 * TarHeader.blockSize)
        let record = Int64(TarHeader.recordSize)
        let remainder = output.tarBytes % record
        if remainder != 0 { try output.appendZeros(Int(record - remainder)) }
        let sha = try output.finish()
        return TarDigest(sha256: sha, byteCount: output.storedBytes, memberCount: memberCount)
    }

    private func padToBlock(_ size: Int64) throws {
        let padding = TarHeader.padded(size) - size
        if padding > 0 { try output.appendZeros(Int(padding)) }
    }

    private func writeHeader(name: [UInt8], typeflag: UInt8, size: Int64, mode: UInt32, mtime: TarTime,
                             uid: Int64, gid: Int64, link: [UInt8] = []) throws {
        var records: [UInt8] = []
        let nameFits = name.count <= TarHeader.nameField.count && name.allSatisfy { $0 < 0x80 }
        if !nameFits { records += PaxRecords.record("path", name) }
        let linkFits = link.count <= TarHeader.linknameField.count && link.allSatisfy { $0 < 0x80 }
        if !linkFits { records += PaxRecords.record("linkpath", link) }
        let idLimit: Int64 = 1 << 21  // 8^7: seven octal digits
        if uid < 0 || uid >= idLimit { records += PaxRecords.record("uid", Array(String(uid).utf8)) }
        if gid < 0 || gid >= idLimit { records += PaxRecords.record("gid", Array(String(gid).utf8)) }
        let bigLimit: Int64 = 1 << 33  // 8^11: eleven octal digits
        if size >= bigLimit { records += PaxRecords.record("size", Array(String(size).utf8)) }
        if mtime.nanoseconds != 0 || mtime.seconds < 0 || mtime.seconds >= bigLimit {
            records += PaxRecords.record("mtime", Array(PaxRecords.time(seconds: mtime.seconds, nanoseconds: mtime.nanoseconds).utf8))
        }
        if !records.isEmpty {
            try appendHeaderBlock { block in
                TarHeader.putText(block, TarHeader.nameField, Array("././@PaxHeader".utf8))
                Self.putCommonFields(block, typeflag: UInt8(ascii: "x"), size: Int64(records.count), mode: 0, mtime: 0, uid: 0, gid: 0)
            }
            try records.withUnsafeBytes { try output.append($0) }
            try padToBlock(Int64(records.count))
        }
        try appendHeaderBlock { block in
            TarHeader.putText(block, TarHeader.nameField, Self.asciiFallback(name))
            TarHeader.putText(block, TarHeader.linknameField, Self.asciiFallback(link))
            Self.putCommonFields(block, typeflag: typeflag, size: size < bigLimit ? size : 0, mode: mode & 0o7777,
                                 mtime: mtime.seconds >= 0 && mtime.seconds < bigLimit ? mtime.seconds : 0,
                                 uid: uid >= 0 && uid < idLimit ? uid : 0, gid: gid >= 0 && gid < idLimit ? gid : 0)
        }
        memberCount += 1
    }

    private func appendHeaderBlock(_ fill: (UnsafeMutableRawBufferPointer) -> Void) throws {
        var block = [UInt8](repeating: 0, count: TarHeader.blockSize)
        block.withUnsafeMutableBytes { raw in
            fill(raw)
            TarHeader.sealChecksum(raw)
        }
        try block.withUnsafeBytes { try output.append($0) }
    }

    private static func putCommonFields(_ block: UnsafeMutableRawBufferPointer, typeflag: UInt8, size: Int64, mode: UInt32,
                                        mtime: Int64, uid: Int64, gid: Int64) {
        TarHeader.putOctal(block, TarHeader.modeField, Int64(mode))
        TarHeader.putOctal(block, TarHeader.uidField, uid)
        TarHeader.putOctal(block, TarHeader.gidField, gid)
        TarHeader.putOctal(block, TarHeader.sizeField, size)
        TarHeader.putOctal(block, TarHeader.mtimeField, mtime)
        block[TarHeader.typeflagOffset] = typeflag
        TarHeader.putText(block, TarHeader.magicField, Array("ustar\u{0}".utf8))
        TarHeader.putText(block, TarHeader.versionField, Array("00".utf8))
    }

    /// What goes in a fixed-size field when the real value is in a PAX record: ASCII only, truncated.
    private static func asciiFallback(_ bytes: [UInt8]) -> [UInt8] {
        bytes.prefix(100).map { $0 < 0x80 ? $0 : UInt8(ascii: "?") }
    }
}
