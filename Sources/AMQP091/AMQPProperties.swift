/// The basic class's content properties (spec §1.8: basic properties), each optional.
public struct AMQPProperties: Sendable, Equatable {
    public var contentType: String?
    public var contentEncoding: String?
    public var headers: AMQPTable?
    /// 1 transient, 2 persistent.
    public var deliveryMode: UInt8?
    public var priority: UInt8?
    public var correlationID: String?
    public var replyTo: String?
    /// A per-message TTL in milliseconds, as decimal text (RabbitMQ's use of the field).
    public var expiration: String?
    public var messageID: String?
    public var timestamp: UInt64?
    public var type: String?
    public var userID: String?
    public var appID: String?
    public var clusterID: String?

    public init(contentType: String? = nil, headers: AMQPTable? = nil, deliveryMode: UInt8? = nil, expiration: String? = nil,
                messageID: String? = nil, appID: String? = nil) {
        self.contentType = contentType
        self.headers = headers
        self.deliveryMode = deliveryMode
        self.expiration = expiration
        self.messageID = messageID
        self.appID = appID
    }
}

/// A content header frame's payload (spec §4.2.6.1): class, weight, body size, property flags and list.
public struct AMQPContentHeader: Sendable, Equatable {
    public var classID: UInt16
    public var bodySize: UInt64
    public var properties: AMQPProperties

    public init(classID: UInt16 = 60, bodySize: UInt64, properties: AMQPProperties) {
        self.classID = classID
        self.bodySize = bodySize
        self.properties = properties
    }

    public func encoded() throws -> [UInt8] {
        var w = AMQPWriter()
        w.short(classID)
        w.short(0)
        w.longlong(bodySize)
        let p = properties
        let present: [Bool] = [p.contentType != nil, p.contentEncoding != nil, p.headers != nil, p.deliveryMode != nil,
                               p.priority != nil, p.correlationID != nil, p.replyTo != nil, p.expiration != nil,
                               p.messageID != nil, p.timestamp != nil, p.type != nil, p.userID != nil, p.appID != nil,
                               p.clusterID != nil]
        var flags: UInt16 = 0
        for (position, isPresent) in present.enumerated() where isPresent { flags |= 1 << UInt16(15 - position) }
        w.short(flags)
        if let v = p.contentType { try w.shortString(v) }
        if let v = p.contentEncoding { try w.shortString(v) }
        if let v = p.headers { try w.table(v) }
        if let v = p.deliveryMode { w.octet(v) }
        if let v = p.priority { w.octet(v) }
        if let v = p.correlationID { try w.shortString(v) }
        if let v = p.replyTo { try w.shortString(v) }
        if let v = p.expiration { try w.shortString(v) }
        if let v = p.messageID { try w.shortString(v) }
        if let v = p.timestamp { w.longlong(v) }
        if let v = p.type { try w.shortString(v) }
        if let v = p.userID { try w.shortString(v) }
        if let v = p.appID { try w.shortString(v) }
        if let v = p.clusterID { try w.shortString(v) }
        return w.bytes
    }

    public init(decoding payload: [UInt8]) throws {
        var r = AMQPReader(payload)
        classID = try r.short()
        _ = try r.short()
        bodySize = try r.longlong()
        var flagWords: [UInt16] = []
        repeat {
            flagWords.append(try r.short())
            // Bit 0 of a flag word says another follows; the basic class needs only the first.
        } while flagWords.last! & 1 == 1 && flagWords.count < 8
        guard flagWords.count == 1 else { throw AMQPDecodingError("property flags continue past the basic class's 14 properties") }
        let flags = flagWords[0]
        func has(_ position: Int) -> Bool { flags & (1 << UInt16(15 - position)) != 0 }
        var p = AMQPProperties()
        if has(0) { p.contentType = try r.shortString() }
        if has(1) { p.contentEncoding = try r.shortString() }
        if has(2) { p.headers = try r.table() }
        if has(3) { p.deliveryMode = try r.octet() }
        if has(4) { p.priority = try r.octet() }
        if has(5) { p.correlationID = try r.shortString() }
        if has(6) { p.replyTo = try r.shortString() }
        if has(7) { p.expiration = try r.shortString() }
        if has(8) { p.messageID = try r.shortString() }
        if has(9) { p.timestamp = try r.longlong() }
        if has(10) { p.type = try r.shortString() }
        if has(11) { p.userID = try r.shortString() }
        if has(12) { p.appID = try r.shortString() }
        if has(13) { p.clusterID = try r.shortString() }
        guard r.isAtEnd else { throw AMQPDecodingError("\(r.remaining) bytes after the content header's properties") }
        properties = p
    }
}

/// A message as delivered: the method that announced it, its properties and body.
public struct AMQPMessage: Sendable, Equatable {
    public var properties: AMQPProperties
    public var body: [UInt8]
    public init(properties: AMQPProperties, body: [UInt8]) {
        self.properties = properties
        self.body = body
    }
}
