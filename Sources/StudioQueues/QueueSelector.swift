/// Picks the queue backend a queue name selects, as StudioML does: `local…` is the embedded
/// directory queue, `sqs_…`/`ec2_…` are AWS SQS, `rmq_…` RabbitMQ, and any other name Google Pub/Sub.
public enum QueueSelector {
    /// Opens the queue `name` selects.
    public static func open(_ name: String, home: String) throws -> any JobQueue {
        if isLocalQueueName(name) {
            return try LocalQueue(name: name, home: home)
        }
        if name.hasPrefix("sqs_") || name.hasPrefix("ec2_") {
            return try SQSQueue(name: name)
        }
        if name.hasPrefix("rmq_") {
            return try RabbitMQQueue(name: name, config: nil)
        }
        return try PubSubQueue.fromProcessEnvironment(name: name)
    }
}
