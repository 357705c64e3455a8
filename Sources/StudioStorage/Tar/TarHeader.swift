/// The 512-byte ustar header block: field offsets, numeric encodings and the checksum.
enum TarHeader {
    static let blockSize = 512
    /// Python's tarfile and GNU tar pad archives to a multiple of 20 blocks.
    static let recordSize = 10240

    static let nameField = 0..<100
    static let modeField = 100..<108
    static let uidField = 108..<116
    static let gidField = 116..<124
    static let sizeField = 124..<136
    static let mtimeField = 136..<148
    static let checksumField = 148..<156
    static let typeflagOffset = 156
    static let linknameField = 157..<257
    static let magicField = 257..<263
    static let versionField = 263..<265
    static let unameField = 265..<297
    static let gnameField = 297..<329
    static let devmajorField = 329..<337
    static let devminorField = 337..<345
    static let prefixField = 345..<500

    /// The largest member size accepted: the biggest multiple of 512 in Int64, so padding it cannot overflow.
    static let maximumSize = Int64.max & ~511

    /// Rounds a content size (0...maximumSize) up to whole blocks.
    static func padded(_ size: Int64) -> Int64 { (size + 511) & ~511 }

    /// Whether the block is all zeros (the end-of-archive marker).
    static func isZeroBlock(_ block: UnsafeRawBufferPointer) -> Bool {
        // Word-wise: this runs once per member.
        let words = block.bindMemory(to: UInt64.self)
        for word in words where word != 0 { return false }
        return true
    }

    /// The bytes of a text field up to its first NUL.
    static func text(_ block: UnsafeRawBufferPointer, _ field: Range<Int>) -> [UInt8] {
        var end = field.lowerBound
        while end < field.upperBound && block[end] != 0 { end += 1 }
        return Array(block[field.lowerBound..<end])
    }

    /// A numeric field: octal text, or GNU base-256 when the high bit of the first byte is set.
    static func number(_ block: UnsafeRawBufferPointer, _ field: Range<Int>, name: String) throws -> Int64 {
        let first = block[field.lowerBound]
        if first == 0o200 || first == 0o377 {
            // Two's complement, big-endian; 0o377 starts with all sign bits set. A 12-byte field holds 88 bits:
            // before each shift the top byte must still be pure sign, or the value does not fit in Int64.
            let sign: Int64 = first == 0o377 ? -1 : 0
            var value = sign
            for index in (field.lowerBound + 1)..<field.upperBound {
                guard value >> 55 == sign else { throw TarError("tar header field '\(name)' is out of range (corrupt archive)") }
                value = (value << 8) | Int64(block[index])
            }
            return value
        }
        var index = field.lowerBound
        while index < field.upperBound && (block[index] == 0x20 || block[index] == 0) {
            if block[index] == 0 && index == field.lowerBound { return 0 }
            index += 1
        }
        var value: Int64 = 0
        while index < field.upperBound {
            let byte = block[index]
            if byte == 0 || byte == 0x20 { break }
            guard byte >= 0x30 && byte <= 0x37 else {
                throw TarError("tar header field '\(name)' is not an octal number (corrupt archive)")
            }
            value = value * 8 + Int64(byte - 0x30)
            index += 1
        }
        return value
    }

    /// The unsigned header checksum (the checksum field counted as spaces) and the signed one old tars wrote.
    static func checksums(_ block: UnsafeRawBufferPointer) -> (unsigned: Int64, signed: Int64) {
        var unsigned: Int64 = 0
        var signed: Int64 = 0
        for index in 0..<blockSize {
            let byte = checksumField.contains(index) ? 0x20 : block[index]
            unsigned += Int64(byte)
            signed += Int64(Int8(bitPattern: byte))
        }
        return (unsigned, signed)
    }

    /// Writes `value` as zero-padded octal with a trailing NUL, like Python's `itn`; false when it does not fit.
    @discardableResult
    static func putOctal(_ block: UnsafeMutableRawBufferPointer, _ field: Range<Int>, _ value: Int64) -> Bool {
        let digits = field.count - 1
        guard value >= 0 && (digits >= 21 || value < (Int64(1) << (3 * Int64(digits)))) else { return false }
        var remaining = value
        for index in stride(from: field.lowerBound + digits - 1, through: field.lowerBound, by: -1) {
            block[index] = UInt8(0x30 + (remaining & 7))
            remaining >>= 3
        }
        block[field.upperBound - 1] = 0
        return true
    }

    /// Copies up to the field's length of bytes into a text field (the rest stays NUL).
    static func putText(_ block: UnsafeMutableRawBufferPointer, _ field: Range<Int>, _ bytes: [UInt8]) {
        let count = min(bytes.count, field.count)
        for index in 0..<count { block[field.lowerBound + index] = bytes[index] }
    }

    /// Fills in the checksum the way Python's tarfile does: six octal digits, NUL, space.
    static func sealChecksum(_ block: UnsafeMutableRawBufferPointer) {
        for index in checksumField { block[index] = 0x20 }
        let sum = checksums(UnsafeRawBufferPointer(block)).unsigned
        putOctal(block, 148..<155, sum)
    }
}
