/// Frames bytes as one TFRecord with correct CRCs (for the tensorboard fuzz target and its seeds).
enum TensorBoardFuzzing {
    static func framed(_ data: [UInt8]) -> [UInt8] {
        var length: [UInt8] = []
        for shift in stride(from: 0, to: 64, by: 8) { length.append(UInt8(truncatingIfNeeded: UInt64(data.count) >> UInt64(shift))) }
        func little(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) } }
        return length + little(CRC32C.masked(length[...])) + data + little(CRC32C.masked(data[...]))
    }
}
