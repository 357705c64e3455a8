/// One AMQP 0-9-1 frame (spec §4.2.3): a type, a channel, a payload, and the frame-end octet 0xCE.
public struct AMQPFrame: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        case method = 1, header = 2, body = 3, heartbeat = 8
    }

    public var kind: Kind
    public var channel: UInt16
    public var payload: [UInt8]

    public init(kind: Kind, channel: UInt16, payload: [UInt8]) {
        self.kind = kind
        self.channel = channel
        self.payload = payload
    }

    public static let frameEnd: UInt8 = 0xCE
    /// The 7 octets before the payload plus the frame-end octet.
    public static let overhead = 8
    /// The protocol header a client opens with (spec §4.2.2).
    public static let protocolHeader: [UInt8] = Array("AMQP".utf8) + [0, 0, 9, 1]
    /// The smallest frame size a peer may negotiate (spec §4.2.1: frame-min-size).
    public static let minimumFrameSize = 4096

    public static func method(_ method: AMQPMethod, channel: UInt16) throws -> AMQPFrame {
        AMQPFrame(kind: .method, channel: channel, payload: try method.encoded())
    }

    public static let heartbeat = AMQPFrame(kind: .heartbeat, channel: 0, payload: [])

    /// The frame's bytes on the wire.
    public func encoded() -> [UInt8] {
        var w = AMQPWriter()
        w.octet(kind.rawValue)
        w.short(channel)
        w.long(UInt32(payload.count))
        w.raw(payload)
        w.octet(Self.frameEnd)
        return w.bytes
    }
}

/// Cuts frames out of a byte stream. A frame larger than `maximumFrameSize` (the negotiated frame-max,
/// counting the 8 octets around the payload), an unknown type or a missing frame-end is an error: the
/// connection must then be closed with 501 FRAME_ERROR, never read on.
public struct AMQPFrameDecoder: Sendable {
    public var maximumFrameSize: Int
    private var buffer: [UInt8] = []
    private var start = 0

    public init(maximumFrameSize: Int) { self.maximumFrameSize = maximumFrameSize }

    public mutating func append(_ bytes: [UInt8]) {
        if start > 0 && start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 }
        buffer += bytes
    }

    /// The next complete frame, nil when more bytes are needed.
    public mutating func next() throws -> AMQPFrame? {
        let available = buffer.count - start
        if available >= 4, buffer[start] == UInt8(ascii: "A"), buffer[start + 1] == UInt8(ascii: "M") {
            // A broker that does not speak 0-9-1 answers with its own protocol header and closes.
            throw AMQPDecodingError("the peer answered with a protocol header (it speaks another AMQP version)")
        }
        guard available >= 7 else { return nil }
        var r = AMQPReader(Array(buffer[start..<start + 7]))
        let type = try r.octet(), channel = try r.short(), size = Int(try r.long())
        guard let kind = AMQPFrame.Kind(rawValue: type) else { throw AMQPDecodingError("unknown frame type \(type)") }
        guard size <= maximumFrameSize - AMQPFrame.overhead else {
            throw AMQPDecodingError("a frame of \(size + AMQPFrame.overhead) bytes, over the negotiated maximum of \(maximumFrameSize)")
        }
        guard available >= 7 + size + 1 else { return nil }
        guard buffer[start + 7 + size] == AMQPFrame.frameEnd else { throw AMQPDecodingError("frame does not end with 0xCE") }
        let payload = Array(buffer[start + 7..<start + 7 + size])
        start += 8 + size
        if start > 65536 { buffer.removeFirst(start); start = 0 }
        return AMQPFrame(kind: kind, channel: channel, payload: payload)
    }
}
