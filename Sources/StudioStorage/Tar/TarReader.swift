import Glibc

/// Reads a tar archive member by member in constant memory: PAX (`x`, `g`), ustar, GNU (`L`, `K`, base-256),
/// optionally gzip-compressed. Call `next()`, then optionally `copyContents(to:)` before the next `next()`.
public final class TarReader {
    private let input: ArchiveInput
    private let ownedFD: Int32?
    private var pendingContent: Int64 = 0
    private var pendingPadding: Int64 = 0
    private var globalPax: [String: [UInt8]] = [:]
    private var finished = false
    private var current: TarEntry?
    /// Extension headers (PAX records, GNU long names) larger than this are refused rather than buffered.
    private static let maxExtensionSize: Int64 = 16 << 20

    /// Reads the archive at `path`.
    public convenience init(path: String) throws {
        let fd = try Posix.open(path, O_RDONLY, what: "tar archive '\(path)'")
        do { try self.init(fd: fd, owned: true) } catch { close(fd); throw error }
    }

    /// Reads from an open descriptor (a file or a pipe), which the caller keeps and closes.
    public convenience init(fileDescriptor: Int32) throws {
        try self.init(fd: fileDescriptor, owned: false)
    }

    private init(fd: Int32, owned: Bool) throws {
        input = try ArchiveInput(fd: fd)
        ownedFD = owned ? fd : nil
    }

    deinit {
        if let ownedFD { close(ownedFD) }
    }

    /// The next member, or nil at the end-of-archive marker; skips whatever content of the last one was not read.
    public func next() throws -> TarEntry? {
        if finished { return nil }
        if pendingContent + pendingPadding > 0 {
            guard try input.transfer(pendingContent + pendingPadding, to: nil, what: "") else {
                throw truncated(in: current)
            }
            pendingContent = 0
            pendingPadding = 0
        }
        var pax: [String: [UInt8]] = [:]
        var longName: [UInt8]?
        var longLink: [UInt8]?
        while true {
            let headerOffset = input.position
            guard try input.ensure(TarHeader.blockSize) else {
                if headerOffset == 0 && input.available == 0 { throw TarError("the tar archive is empty") }
                throw TarError("the tar archive is truncated: it ends at byte \(headerOffset + Int64(input.available)) "
                    + "without the end-of-archive marker")
            }
            let block = input.peek(TarHeader.blockSize)
            if TarHeader.isZeroBlock(block) {
                input.consume(TarHeader.blockSize)
                finished = true
                current = nil
                return nil
            }
            let header = try parseHeader(block, offset: headerOffset)
            input.consume(TarHeader.blockSize)
            switch header.typeflag {
            case UInt8(ascii: "x"):
                for record in try PaxRecords.parse(try readExtension(header)) { pax[record.key] = record.value }
            case UInt8(ascii: "g"):
                for record in try PaxRecords.parse(try readExtension(header)) { globalPax[record.key] = record.value }
            case UInt8(ascii: "L"):
                longName = Self.untilNUL(try readExtension(header))
            case UInt8(ascii: "K"):
                longLink = Self.untilNUL(try readExtension(header))
            case UInt8(ascii: "V"):
                _ = try readExtension(header)  // GNU volume label: not a member
            default:
                var entry = header.entry
                if let longName { entry.pathBytes = longName }
                if let longLink { entry.linkTargetBytes = longLink }
                try apply(globalPax, to: &entry)
                try apply(pax, to: &entry)
                if header.typeflag == UInt8(ascii: "S") || header.typeflag == UInt8(ascii: "M") {
                    throw TarError.member(entry.pathBytes, "GNU sparse and multi-volume members are not supported")
                }
                // Only regular files (and GNU dump directories) carry content, as in Python's tarfile.
                let contentSize = entry.kind == .regular || header.typeflag == UInt8(ascii: "D") ? entry.size : 0
                if entry.kind != .regular { entry.size = 0 }
                pendingContent = entry.kind == .regular ? contentSize : 0
                pendingPadding = TarHeader.padded(contentSize) - pendingContent
                current = entry
                return entry
            }
        }
    }

    /// Writes the current member's content to `fd` (the kernel copies when both sides are plain files).
    public func copyContents(to fd: Int32) throws {
        guard let current else { throw TarError("no current tar member to read") }
        let count = pendingContent
        pendingContent = 0
        guard try input.transfer(count, to: fd, what: "the contents of '\(current.path)'") else {
            throw truncated(in: current)
        }
    }

    /// The current member's content in memory; for small members only.
    public func readContents() throws -> [UInt8] {
        guard let current else { throw TarError("no current tar member to read") }
        var bytes: [UInt8] = []
        // The size is the header's claim: reserve no more than one buffer ahead, or a lying header exhausts memory.
        bytes.reserveCapacity(Int(min(pendingContent, 1 << 20)))
        while pendingContent > 0 {
            guard try input.ensure(1) else { throw truncated(in: current) }
            let chunk = Int(min(Int64(input.available), pendingContent))
            bytes.append(contentsOf: input.peek(chunk))
            input.consume(chunk)
            pendingContent -= Int64(chunk)
        }
        return bytes
    }

    private func truncated(in entry: TarEntry?) -> TarError {
        let name = entry.map { " in member '\($0.path)'" } ?? ""
        return TarError("the tar archive is truncated\(name): it ends at byte \(input.position)")
    }

    private struct Header {
        var entry: TarEntry
        var typeflag: UInt8
    }

    private func parseHeader(_ block: UnsafeRawBufferPointer, offset: Int64) throws -> Header {
        let stored = try? TarHeader.number(block, TarHeader.checksumField, name: "checksum")
        let sums = TarHeader.checksums(block)
        guard let stored, stored == sums.unsigned || stored == sums.signed else {
            throw TarError("the tar header at byte \(offset) has a bad checksum: the archive is corrupt or not a tar file")
        }
        var name = TarHeader.text(block, TarHeader.nameField)
        let magic = TarHeader.text(block, TarHeader.magicField)
        // POSIX ustar ("ustar\0" + "00") splits long names into prefix/name; GNU uses that area for other fields.
        if magic == Array("ustar".utf8) && block[TarHeader.versionField.lowerBound] == 0x30 {
            let prefix = TarHeader.text(block, TarHeader.prefixField)
            if !prefix.isEmpty { name = prefix + [0x2F] + name }
        }
        let typeflag = block[TarHeader.typeflagOffset]
        var kind: TarEntryKind
        switch typeflag {
        case UInt8(ascii: "1"): kind = .hardLink
        case UInt8(ascii: "2"): kind = .symlink
        case UInt8(ascii: "3"): kind = .characterDevice
        case UInt8(ascii: "4"): kind = .blockDevice
        case UInt8(ascii: "5"), UInt8(ascii: "D"): kind = .directory
        case UInt8(ascii: "6"): kind = .fifo
        default: kind = .regular  // '0', NUL, '7' and unknown types read as regular files (POSIX)
        }
        if kind == .regular && name.last == 0x2F { kind = .directory }  // pre-POSIX directories
        let size = try TarHeader.number(block, TarHeader.sizeField, name: "size")
        guard size >= 0 else { throw TarError("the tar header at byte \(offset) has a negative size (corrupt archive)") }
        guard size <= TarHeader.maximumSize else { throw TarError("the tar header at byte \(offset) has an impossible size \(size) (corrupt archive)") }
        let entry = TarEntry(
            pathBytes: name, kind: kind, size: size,
            mode: UInt32(truncatingIfNeeded: try TarHeader.number(block, TarHeader.modeField, name: "mode") & 0o7777),
            mtime: Double(try TarHeader.number(block, TarHeader.mtimeField, name: "mtime")),
            linkTargetBytes: TarHeader.text(block, TarHeader.linknameField),
            uid: try TarHeader.number(block, TarHeader.uidField, name: "uid"),
            gid: try TarHeader.number(block, TarHeader.gidField, name: "gid"),
            uname: TarHeader.text(block, TarHeader.unameField).displayString,
            gname: TarHeader.text(block, TarHeader.gnameField).displayString)
        return Header(entry: entry, typeflag: typeflag)
    }

    /// Reads the content of an extension header (PAX records or a GNU long name) and its padding.
    private func readExtension(_ header: Header) throws -> [UInt8] {
        let size = header.entry.size
        guard size <= Self.maxExtensionSize else {
            throw TarError("a tar extension header is \(size) bytes, over the \(Self.maxExtensionSize) byte limit (corrupt archive?)")
        }
        current = header.entry
        pendingContent = size
        let bytes = try readContents()
        guard try input.transfer(TarHeader.padded(size) - size, to: nil, what: "") else { throw truncated(in: nil) }
        current = nil
        return bytes
    }

    private func apply(_ records: [String: [UInt8]], to entry: inout TarEntry) throws {
        for (key, value) in records {
            switch key {
            case "path": entry.pathBytes = value
            case "linkpath": entry.linkTargetBytes = value
            case "size":
                let size = try PaxRecords.integer(value, key: key)
                guard size <= TarHeader.maximumSize else {
                    throw TarError.member(entry.pathBytes, "PAX header 'size' is an impossible size \(size) (corrupt archive)")
                }
                entry.size = size
            case "mtime": entry.mtime = try PaxRecords.time(value, key: key)
            case "uid": entry.uid = try PaxRecords.integer(value, key: key)
            case "gid": entry.gid = try PaxRecords.integer(value, key: key)
            case "uname": entry.uname = value.displayString
            case "gname": entry.gname = value.displayString
            default:
                if key.hasPrefix("GNU.sparse.") {
                    throw TarError.member(entry.pathBytes, "GNU sparse files are not supported")
                }
            }
        }
        if entry.kind == .regular && entry.pathBytes.last == 0x2F { entry.kind = .directory }
    }

    private static func untilNUL(_ bytes: [UInt8]) -> [UInt8] {
        if let nul = bytes.firstIndex(of: 0) { return Array(bytes[..<nul]) }
        return bytes
    }
}
