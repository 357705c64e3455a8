/// TFRecord framing: `uint64 length, uint32 masked_crc32c(length), data[length], uint32 masked_crc32c(data)`,
/// all little-endian. A record cut short at the end is a file still being written, not an error.
struct TFRecordReader {
    /// Records longer than this are refused (an event with a huge graph is not a scalar).
    static let maxRecordLength = 64 << 20

    enum Outcome: Equatable {
        case record(ArraySlice<UInt8>)
        /// The bytes end inside a record: wait for the writer (`offset` is where that record starts).
        case incomplete
        case end
    }

    private let bytes: [UInt8]
    /// Where the next record starts: a later read of the grown file can resume here.
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = min(max(0, offset), bytes.count)
    }

    mutating func next() throws(ProtobufError) -> Outcome {
        let remaining = bytes.count - offset
        if remaining == 0 { return .end }
        if remaining < 12 { return .incomplete }
        let header = bytes[offset..<offset + 8]
        let length = ProtobufReader.littleEndian(header, 8)
        guard UInt32(truncatingIfNeeded: ProtobufReader.littleEndian(bytes[offset + 8..<offset + 12], 4)) == CRC32C.masked(header) else {
            throw ProtobufError("record at byte \(offset): the length's CRC does not match")
        }
        guard length <= UInt64(Self.maxRecordLength) else {
            throw ProtobufError("record at byte \(offset): length \(length) is over \(Self.maxRecordLength)")
        }
        let end = offset + 12 + Int(length)
        guard end + 4 <= bytes.count else { return .incomplete }
        let data = bytes[offset + 12..<end]
        guard UInt32(truncatingIfNeeded: ProtobufReader.littleEndian(bytes[end..<end + 4], 4)) == CRC32C.masked(data) else {
            throw ProtobufError("record at byte \(offset): the data's CRC does not match")
        }
        offset = end + 4
        return .record(data)
    }
}
