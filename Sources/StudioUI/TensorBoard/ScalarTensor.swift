/// The value of a `TensorProto` that holds one number: dtype 1, shape 2, tensor_content 4, and the typed
/// fields float_val 5, double_val 6, int_val 7, int64_val 10, bool_val 11, half_val 13, uint32_val 16,
/// uint64_val 17. nil for strings, complex numbers and tensors of more than one element.
enum ScalarTensor {
    /// TensorFlow's `DataType` numbers for what can be a chart's value.
    enum DType: UInt64 {
        case float = 1, double = 2, int32 = 3, uint8 = 4, int16 = 5, int8 = 6, int64 = 9, bool = 10
        case bfloat16 = 14, uint16 = 17, half = 19, uint32 = 22, uint64 = 23

        var size: Int {
            switch self {
            case .double, .int64, .uint64: 8
            case .float, .int32, .uint32: 4
            case .int16, .uint16, .half, .bfloat16: 2
            case .uint8, .int8, .bool: 1
            }
        }
    }

    static func value(_ data: ArraySlice<UInt8>) throws(ProtobufError) -> Double? {
        var reader = ProtobufReader(data)
        var dtypeNumber: UInt64 = 0
        var elements: UInt64 = 1
        var content: ArraySlice<UInt8>?
        var typed: [Double] = []
        while let (number, field) = try reader.next() {
            switch (number, field) {
            case (1, .varint(let value)): dtypeNumber = value
            case (2, .bytes(let shape)): elements = try elementCount(shape)
            case (4, .bytes(let bytes)): content = bytes
            case (5...17, _): if typed.count < 2 { typed += try typedValues(number, field) }
            default: continue
            }
        }
        guard elements == 1, let dtype = DType(rawValue: dtypeNumber) else { return nil }
        if let content {
            guard content.count == dtype.size else { return nil }
            return decode(ProtobufReader.littleEndian(content, dtype.size), dtype)
        }
        guard typed.count == 1 else { return nil }
        // half_val holds the raw 16 bits of a half or bfloat16.
        if dtype == .half || dtype == .bfloat16 { return decode(UInt64(typed[0]), dtype) }
        return typed[0]
    }

    /// `TensorShapeProto`: dim 2 (`size` 1), unknown_rank 3. The product of the sizes, capped.
    private static func elementCount(_ data: ArraySlice<UInt8>) throws(ProtobufError) -> UInt64 {
        var reader = ProtobufReader(data)
        var count: UInt64 = 1
        while let (number, field) = try reader.next() {
            if number == 3, case .varint(let unknown) = field, unknown != 0 { return 0 }
            guard number == 2, case .bytes(let dim) = field else { continue }
            var inner = ProtobufReader(dim)
            var size: UInt64 = 1
            while let (innerNumber, innerField) = try inner.next() {
                if innerNumber == 1, case .varint(let value) = innerField { size = value }
            }
            count = size > 1_000_000 ? 1_000_000 : min(count * size, 1_000_000)
        }
        return count
    }

    /// The numbers of one typed field, packed or not (at most a few: a scalar has one).
    private static func typedValues(_ number: UInt64, _ field: ProtobufReader.Field) throws(ProtobufError) -> [Double] {
        switch (number, field) {
        case (5, .fixed32(let bits)): return [Double(Float(bitPattern: bits))]
        case (6, .fixed64(let bits)): return [Double(bitPattern: bits)]
        case (5, .bytes(let packed)):
            return stride(from: packed.startIndex, to: packed.endIndex - 3, by: 4).prefix(2).map {
                Double(Float(bitPattern: UInt32(truncatingIfNeeded: ProtobufReader.littleEndian(packed[$0...], 4))))
            }
        case (6, .bytes(let packed)):
            return stride(from: packed.startIndex, to: packed.endIndex - 7, by: 8).prefix(2).map {
                Double(bitPattern: ProtobufReader.littleEndian(packed[$0...], 8))
            }
        case (7, .varint(let raw)), (13, .varint(let raw)): return [Double(Int32(truncatingIfNeeded: raw))]
        case (10, .varint(let raw)): return [Double(Int64(bitPattern: raw))]
        case (11, .varint(let raw)), (16, .varint(let raw)), (17, .varint(let raw)): return [Double(raw)]
        case (7, .bytes(let packed)), (10, .bytes(let packed)), (11, .bytes(let packed)), (13, .bytes(let packed)),
             (16, .bytes(let packed)), (17, .bytes(let packed)):
            var reader = ProtobufReader(packed)
            var values: [Double] = []
            while !reader.isAtEnd, values.count < 2 {
                let raw = try reader.varint()
                values.append(number == 10 ? Double(Int64(bitPattern: raw))
                              : number == 7 || number == 13 ? Double(Int32(truncatingIfNeeded: raw)) : Double(raw))
            }
            return values
        default: return [] // string_val, complex values, handles
        }
    }

    /// The number in the low `dtype.size` bytes of `bits`.
    private static func decode(_ bits: UInt64, _ dtype: DType) -> Double {
        switch dtype {
        case .float: Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
        case .double: Double(bitPattern: bits)
        case .int32: Double(Int32(truncatingIfNeeded: bits))
        case .int16: Double(Int16(truncatingIfNeeded: bits))
        case .int8: Double(Int8(truncatingIfNeeded: bits))
        case .int64: Double(Int64(bitPattern: bits))
        case .uint8, .uint16, .uint32, .uint64, .bool: Double(bits)
        case .half: Double(Float16(bitPattern: UInt16(truncatingIfNeeded: bits)))
        case .bfloat16: Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits & 0xFFFF) << 16))
        }
    }
}
