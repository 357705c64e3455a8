/// One value of a field table, with RabbitMQ's type tags (its errata to the 0-9-1 grammar: `s` is a
/// signed 16-bit integer, `l` a signed 64-bit one, `x` a byte array).
public indirect enum AMQPFieldValue: Sendable, Equatable {
    case bool(Bool)
    case int8(Int8), uint8(UInt8), int16(Int16), uint16(UInt16)
    case int32(Int32), uint32(UInt32), int64(Int64)
    case float(Float), double(Double)
    case decimal(scale: UInt8, value: UInt32)
    case longString([UInt8])
    case bytes([UInt8])
    case timestamp(UInt64)
    case void
    case table(AMQPTable)
    case array([AMQPFieldValue])

    /// A long string from text.
    public static func string(_ text: String) -> AMQPFieldValue { .longString(Array(text.utf8)) }

    /// The value as an integer, whatever its integer type.
    public var integer: Int64? {
        switch self {
        case .int8(let v): Int64(v)
        case .uint8(let v): Int64(v)
        case .int16(let v): Int64(v)
        case .uint16(let v): Int64(v)
        case .int32(let v): Int64(v)
        case .uint32(let v): Int64(v)
        case .int64(let v): v
        case .timestamp(let v): Int64(clamping: v)
        default: nil
        }
    }

    /// The value as text, for long strings.
    public var text: String? {
        if case .longString(let bytes) = self { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }
}

/// A field table: named values in the order they were written (names may repeat on the wire; the
/// first wins on lookup).
public struct AMQPTable: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public var entries: [(String, AMQPFieldValue)]

    public init(_ entries: [(String, AMQPFieldValue)] = []) { self.entries = entries }
    public init(dictionaryLiteral elements: (String, AMQPFieldValue)...) { entries = elements }

    public subscript(name: String) -> AMQPFieldValue? {
        get { entries.first { $0.0 == name }?.1 }
        set {
            entries.removeAll { $0.0 == name }
            if let newValue { entries.append((name, newValue)) }
        }
    }

    public var isEmpty: Bool { entries.isEmpty }

    public static func == (lhs: AMQPTable, rhs: AMQPTable) -> Bool {
        lhs.entries.count == rhs.entries.count && zip(lhs.entries, rhs.entries).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}
