/// Why an AMQP operation failed, with the broker's reply code where it gave one.
public struct AMQPError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The broker closed the connection (connection.close) with this reason.
        case connectionClosed(AMQPCloseReason)
        /// The broker closed the channel (channel.close) with this reason.
        case channelClosed(AMQPCloseReason)
        /// The socket failed or closed without a close method (a restart, a network failure).
        case connectionLost
        /// The broker did not answer in time.
        case timeout
        /// The broker broke the protocol (malformed frames, unexpected methods).
        case protocolViolation
        /// A mandatory message could not be routed to any queue (basic.return).
        case unroutable(AMQPCloseReason)
        /// The broker refused a published message (basic.nack under publisher confirms).
        case negativelyAcknowledged
        /// The URL or settings given to the client are unusable.
        case configuration
    }

    public var kind: Kind
    public var description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    /// The broker's reply code, when it closed something.
    public var replyCode: UInt16? {
        switch kind {
        case .connectionClosed(let r), .channelClosed(let r), .unroutable(let r): r.replyCode
        default: nil
        }
    }

    /// A reply code's name (spec §1.2).
    public static func name(ofReplyCode code: UInt16) -> String {
        switch code {
        case 200: "REPLY_SUCCESS"
        case 311: "CONTENT_TOO_LARGE"
        case 312: "NO_ROUTE"
        case 313: "NO_CONSUMERS"
        case 320: "CONNECTION_FORCED"
        case 402: "INVALID_PATH"
        case 403: "ACCESS_REFUSED"
        case 404: "NOT_FOUND"
        case 405: "RESOURCE_LOCKED"
        case 406: "PRECONDITION_FAILED"
        case 501: "FRAME_ERROR"
        case 502: "SYNTAX_ERROR"
        case 503: "COMMAND_INVALID"
        case 504: "CHANNEL_ERROR"
        case 505: "UNEXPECTED_FRAME"
        case 506: "RESOURCE_ERROR"
        case 530: "NOT_ALLOWED"
        case 540: "NOT_IMPLEMENTED"
        case 541: "INTERNAL_ERROR"
        default: "reply code \(code)"
        }
    }

    static func closed(_ reason: AMQPCloseReason, connection: Bool) -> AMQPError {
        let what = connection ? "connection" : "channel"
        // RabbitMQ's reply texts start with the code's name ("NOT_FOUND - no queue 'x' in vhost '/'").
        let text = reason.replyText.isEmpty ? name(ofReplyCode: reason.replyCode) : reason.replyText
        return AMQPError(connection ? .connectionClosed(reason) : .channelClosed(reason),
                         "the broker closed the \(what): \(reason.replyCode) \(text)")
    }
}
