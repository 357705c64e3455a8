import AMQP091

/// Turns the broker's refusals into `QueueError`s: what no retry can fix (a refused login, a missing vhost,
/// a missing permission, a queue or exchange declared with other flags) is `.unusable` (the worker exits 42);
/// the rest (a restart, a lost connection, a timeout) is `.transient`.
enum RabbitMQErrors {
    static func classify(_ error: AMQPError, doing what: String, queue: String, url: AMQPURL) -> QueueError {
        let prefix = "cannot \(what) RabbitMQ queue \(queue) at \(url)"
        switch (error.kind, error.replyCode) {
        case (.connectionClosed, 403?):
            return QueueError(.unusable, "\(prefix): the broker refused the login of user \(url.user) (\(reply(error))); check the user and password in cloud.queue.rmq or AMQP_URL")
        case (.connectionClosed, 530?):
            return QueueError(.unusable, "\(prefix): the broker refused vhost \(url.virtualHost) (\(reply(error))); create it or grant user \(url.user) access")
        case (.channelClosed, 403?):
            return QueueError(.unusable, "\(prefix): permission refused (\(reply(error))); see docs/rabbitmq.md for the permissions a worker needs")
        case (.channelClosed, 406?):
            return QueueError(.unusable, "\(prefix): \(reply(error)); an exchange or queue of that name exists with other flags "
                              + "(StudioML's exchange is topic, durable, auto-delete; the queue is durable only with cloud.queue.persistent: true)")
        case (.configuration, _):
            return QueueError(.unusable, "\(prefix): \(error)")
        case (.unroutable, _):
            return QueueError(.transient, "\(prefix): no queue took the message (\(reply(error))); the queue may have been deleted")
        default:
            return QueueError(.transient, "\(prefix): \(error)")
        }
    }

    private static func reply(_ error: AMQPError) -> String {
        switch error.kind {
        case .connectionClosed(let reason), .channelClosed(let reason), .unroutable(let reason):
            reason.replyText.isEmpty ? "\(reason.replyCode) \(AMQPError.name(ofReplyCode: reason.replyCode))" : "\(reason.replyCode) \(reason.replyText)"
        default:
            error.description
        }
    }
}
