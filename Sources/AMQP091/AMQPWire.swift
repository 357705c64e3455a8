/// Reads AMQP 0-9-1 data types (spec §4.2.5) from bytes received from the network. Every read checks
/// what is left first and throws `AMQPDecodingError` instead of trapping: the bytes are a broker's,
/// or anyone's who can reach the socket.
public struct AMQPReader: Sendable {
    public let bytes: [UInt8]
    public private(set) var index: Int
    /// How deep tables and arrays may nest before the input is refused (keeps recursion bounded).
    static let maximumNesting = 16

    public init(_ bytes: [UInt8], index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    public var remaining: Int { bytes.count - index }
    public var isAtEnd: Bool { index >= bytes.count }

    mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else {
            throw AMQPDecodingError("needs \(count) bytes, \(remaining) left")
        }
        defer { index += count }
        return bytes[index..<index + count]
    }

    public mutating func octet() throws -> UInt8 { try take(1).first! }

    public mutating func short() throws -> UInt16 {
        let b = try take(2)
        return UInt16(b[b.startIndex]) << 8 | UInt16(b[b.startIndex + 1])
    }

    public mutating func long() throws -> UInt32 {
        let b = try take(4)
        return b.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    public mutating func longlong() throws -> UInt64 {
        let b = try take(8)
        return b.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// A short string: one length octet, then up to 255 bytes (kept as UTF-8, invalid bytes replaced).
    public mutating func shortString() throws -> String {
        let length = Int(try octet())
        return String(decoding: try take(length), as: UTF8.self)
    }

    /// A long string's raw bytes: a 32-bit length, then the bytes (bounded by what is left).
    public mutating func longBytes() throws -> [UInt8] {
        let length = try long()
        guard length <= UInt32(remaining) else { throw AMQPDecodingError("long string of \(length) bytes, \(remaining) left") }
        return Array(try take(Int(length)))
    }

    public mutating func longString() throws -> String { String(decoding: try longBytes(), as: UTF8.self) }

    /// Consecutive bit fields share octets, least significant bit first (spec §4.2.5.2).
    public mutating func bits(_ count: Int) throws -> [Bool] {
        var flags: [Bool] = []
        var octetValue: UInt8 = 0
        for position in 0..<count {
            if position % 8 == 0 { octetValue = try octet() }
            flags.append(octetValue & (1 << UInt8(position % 8)) != 0)
        }
        return flags
    }

    public mutating func table() throws -> AMQPTable { try table(depth: 0) }

    mutating func table(depth: Int) throws -> AMQPTable {
        guard depth < Self.maximumNesting else { throw AMQPDecodingError("field tables nested deeper than \(Self.maximumNesting)") }
        let length = try long()
        guard length <= UInt32(remaining) else { throw AMQPDecodingError("field table of \(length) bytes, \(remaining) left") }
        var inner = AMQPReader(Array(try take(Int(length))))
        var entries: [(String, AMQPFieldValue)] = []
        while !inner.isAtEnd {
            let name = try inner.shortString()
            entries.append((name, try inner.fieldValue(depth: depth + 1)))
        }
        return AMQPTable(entries)
    }

    mutating func fieldValue(depth: Int) throws -> AMQPFieldValue {
        let type = try octet()
        switch Character(Unicode.Scalar(type)) {
        case "t": return .bool(try octet() != 0)
        case "b": return .int8(Int8(bitPattern: try octet()))
        case "B": return .uint8(try octet())
        case "s": return .int16(Int16(bitPattern: try short()))
        case "u": return .uint16(try short())
        case "I": return .int32(Int32(bitPattern: try long()))
        case "i": return .uint32(try long())
        case "l": return .int64(Int64(bitPattern: try longlong()))
        case "f": return .float(Float(bitPattern: try long()))
        case "d": return .double(Double(bitPattern: try longlong()))
        case "D": return .decimal(scale: try octet(), value: try long())
        case "S": return .longString(try longBytes())
        case "x": return .bytes(try longBytes())
        case "T": return .timestamp(try longlong())
        case "V": return .void
        case "F": return .table(try table(depth: depth))
        case "A":
            guard depth < Self.maximumNesting else { throw AMQPDecodingError("field arrays nested deeper than \(Self.maximumNesting)") }
            let length = try long()
            guard length <= UInt32(remaining) else { throw AMQPDecodingError("field array of \(length) bytes, \(remaining) left") }
            var inner = AMQPReader(Array(try take(Int(length))))
            var values: [AMQPFieldValue] = []
            while !inner.isAtEnd { values.append(try inner.fieldValue(depth: depth + 1)) }
            return .array(values)
        default:
            throw AMQPDecodingError("unknown field value type 0x\(String(type, radix: 16))")
        }
    }
}

/// Writes AMQP 0-9-1 data types. Strings too long for their type are refused, not cut.
public struct AMQPWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    private var bitOctetIndex: Int? = nil
    private var bitPosition = 0

    public init() {}

    /// Ends a run of bit fields: the next bit starts a new octet.
    private mutating func endBits() { bitOctetIndex = nil; bitPosition = 0 }

    public mutating func octet(_ value: UInt8) { endBits(); bytes.append(value) }
    public mutating func short(_ value: UInt16) { endBits(); bytes += [UInt8(value >> 8), UInt8(value & 0xff)] }
    public mutating func long(_ value: UInt32) {
        endBits()
        bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }
    public mutating func longlong(_ value: UInt64) {
        endBits()
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(value >> UInt64(shift) & 0xff)) }
    }

    public mutating func shortString(_ value: String) throws {
        let utf8 = Array(value.utf8)
        guard utf8.count <= 255 else { throw AMQPEncodingError("\"\(value.prefix(40))…\" is longer than a short string's 255 bytes") }
        octet(UInt8(utf8.count))
        bytes += utf8
    }

    public mutating func longBytes(_ value: [UInt8]) throws {
        guard value.count <= Int(UInt32.max) else { throw AMQPEncodingError("a long string of \(value.count) bytes") }
        long(UInt32(value.count))
        bytes += value
    }

    public mutating func longString(_ value: String) throws { try longBytes(Array(value.utf8)) }

    public mutating func bit(_ value: Bool) {
        if bitOctetIndex == nil || bitPosition == 8 {
            bytes.append(0)
            bitOctetIndex = bytes.count - 1
            bitPosition = 0
        }
        if value { bytes[bitOctetIndex!] |= 1 << UInt8(bitPosition) }
        bitPosition += 1
    }

    public mutating func raw(_ value: [UInt8]) { endBits(); bytes += value }

    public mutating func table(_ table: AMQPTable) throws {
        var inner = AMQPWriter()
        for (name, value) in table.entries {
            try inner.shortString(name)
            try inner.fieldValue(value)
        }
        try longBytes(inner.bytes)
    }

    mutating func fieldValue(_ value: AMQPFieldValue) throws {
        func tag(_ c: Character) { octet(c.asciiValue!) }
        switch value {
        case .bool(let v): tag("t"); octet(v ? 1 : 0)
        case .int8(let v): tag("b"); octet(UInt8(bitPattern: v))
        case .uint8(let v): tag("B"); octet(v)
        case .int16(let v): tag("s"); short(UInt16(bitPattern: v))
        case .uint16(let v): tag("u"); short(v)
        case .int32(let v): tag("I"); long(UInt32(bitPattern: v))
        case .uint32(let v): tag("i"); long(v)
        case .int64(let v): tag("l"); longlong(UInt64(bitPattern: v))
        case .float(let v): tag("f"); long(v.bitPattern)
        case .double(let v): tag("d"); longlong(v.bitPattern)
        case .decimal(let scale, let v): tag("D"); octet(scale); long(v)
        case .longString(let v): tag("S"); try longBytes(v)
        case .bytes(let v): tag("x"); try longBytes(v)
        case .timestamp(let v): tag("T"); longlong(v)
        case .void: tag("V")
        case .table(let v): tag("F"); try table(v)
        case .array(let values):
            tag("A")
            var inner = AMQPWriter()
            for element in values { try inner.fieldValue(element) }
            try longBytes(inner.bytes)
        }
    }
}

/// Bytes that do not follow the AMQP 0-9-1 grammar.
public struct AMQPDecodingError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    public init(_ description: String) { self.description = "malformed AMQP data: " + description }
}

/// A value that cannot be written in AMQP 0-9-1 (a short string over 255 bytes, say).
public struct AMQPEncodingError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    public init(_ description: String) { self.description = "cannot encode for AMQP: " + description }
}
