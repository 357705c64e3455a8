/// A protobuf wire-format reader over a byte slice: just what reading TensorBoard events needs. Every read
/// is bounds-checked and throws `ProtobufError` on bad input; nothing here traps or recurses.
struct ProtobufReader {
    enum Field {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case bytes(ArraySlice<UInt8>)
    }

    private let bytes: ArraySlice<UInt8>
    private var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    var isAtEnd: Bool { position >= bytes.endIndex }

    /// The next field's number and value; nil at the end.
    mutating func next() throws(ProtobufError) -> (number: UInt64, field: Field)? {
        guard !isAtEnd else { return nil }
        let key = try varint()
        let number = key >> 3
        guard number > 0 else { throw ProtobufError("field number 0") }
        switch key & 7 {
        case 0: return (number, .varint(try varint()))
        case 1: return (number, .fixed64(try little(8)))
        case 5: return (number, .fixed32(UInt32(truncatingIfNeeded: try little(4))))
        case 2:
            let length = try varint()
            guard length <= UInt64(bytes.endIndex - position) else { throw ProtobufError("length \(length) past the end") }
            let start = position
            position += Int(length)
            return (number, .bytes(bytes[start..<position]))
        default: throw ProtobufError("unsupported wire type \(key & 7)") // groups (3, 4) and 6, 7
        }
    }

    mutating func varint() throws(ProtobufError) -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: UInt64(0), to: 70, by: 7) {
            guard position < bytes.endIndex else { throw ProtobufError("varint past the end") }
            let byte = bytes[position]
            position += 1
            guard shift < 63 || byte <= 1 else { throw ProtobufError("varint longer than 64 bits") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
        }
        throw ProtobufError("varint longer than 10 bytes")
    }

    private mutating func little(_ count: Int) throws(ProtobufError) -> UInt64 {
        guard bytes.endIndex - position >= count else { throw ProtobufError("fixed field past the end") }
        var value: UInt64 = 0
        for index in 0..<count { value |= UInt64(bytes[position + index]) << (8 * UInt64(index)) }
        position += count
        return value
    }

    /// The little-endian unsigned integer in `count` bytes (≤ 8) at the start of `slice`.
    static func littleEndian(_ slice: ArraySlice<UInt8>, _ count: Int) -> UInt64 {
        var value: UInt64 = 0
        for (index, byte) in slice.prefix(count).enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
        return value
    }
}

struct ProtobufError: Error, Equatable, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
