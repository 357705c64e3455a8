/// Puts a channel's frames back together into commands (spec §4.2.6): a method alone, or a
/// content-carrying method followed by one header frame and body frames adding up to the header's
/// size. Frames out of that order, or a body over `maximumBodySize`, are errors (505 UNEXPECTED_FRAME
/// or a refusal to buffer more), never a crash.
public struct AMQPContentAssembler: Sendable {
    public enum Command: Sendable, Equatable {
        case method(AMQPMethod)
        case content(AMQPMethod, AMQPMessage)
    }

    public var maximumBodySize: UInt64
    private var method: AMQPMethod?
    private var header: AMQPContentHeader?
    private var body: [UInt8] = []

    public init(maximumBodySize: UInt64) { self.maximumBodySize = maximumBodySize }

    /// Takes one method, header or body frame; returns a command when one is complete.
    public mutating func take(_ frame: AMQPFrame) throws -> Command? {
        switch frame.kind {
        case .method:
            guard method == nil else { throw AMQPDecodingError("a method frame arrived while a message's content was expected") }
            let decoded = try AMQPMethod(decoding: frame.payload)
            guard decoded.carriesContent else { return .method(decoded) }
            method = decoded
            return nil
        case .header:
            guard method != nil, header == nil else { throw AMQPDecodingError("a content header arrived without a method before it") }
            let decoded = try AMQPContentHeader(decoding: frame.payload)
            guard decoded.bodySize <= maximumBodySize else {
                throw AMQPDecodingError("a message body of \(decoded.bodySize) bytes, over the limit of \(maximumBodySize)")
            }
            header = decoded
            return try completed()
        case .body:
            guard let header else { throw AMQPDecodingError("a body frame arrived without a content header") }
            guard UInt64(body.count) + UInt64(frame.payload.count) <= header.bodySize else {
                throw AMQPDecodingError("body frames longer than the content header's \(header.bodySize) bytes")
            }
            body += frame.payload
            return try completed()
        case .heartbeat:
            throw AMQPDecodingError("a heartbeat frame on channel \(frame.channel)")
        }
    }

    private mutating func completed() throws -> Command? {
        guard let method, let header, UInt64(body.count) == header.bodySize else { return nil }
        defer { self.method = nil; self.header = nil; body = [] }
        return .content(method, AMQPMessage(properties: header.properties, body: body))
    }
}
