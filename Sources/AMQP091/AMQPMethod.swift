/// The AMQP 0-9-1 methods this client sends or understands (spec §1.4: connection, channel, exchange,
/// queue, basic, confirm and tx classes). Reserved fields are written as the spec fixes them and
/// skipped on reading.
public enum AMQPMethod: Sendable, Equatable {
    case connectionStart(versionMajor: UInt8, versionMinor: UInt8, serverProperties: AMQPTable, mechanisms: String, locales: String)
    case connectionStartOk(clientProperties: AMQPTable, mechanism: String, response: [UInt8], locale: String)
    case connectionSecure(challenge: [UInt8])
    case connectionSecureOk(response: [UInt8])
    case connectionTune(channelMax: UInt16, frameMax: UInt32, heartbeat: UInt16)
    case connectionTuneOk(channelMax: UInt16, frameMax: UInt32, heartbeat: UInt16)
    case connectionOpen(virtualHost: String)
    case connectionOpenOk
    case connectionClose(AMQPCloseReason)
    case connectionCloseOk
    case connectionBlocked(reason: String)
    case connectionUnblocked

    case channelOpen
    case channelOpenOk
    case channelFlow(active: Bool)
    case channelFlowOk(active: Bool)
    case channelClose(AMQPCloseReason)
    case channelCloseOk

    case exchangeDeclare(AMQPExchangeDeclaration)
    case exchangeDeclareOk

    case queueDeclare(AMQPQueueDeclaration)
    case queueDeclareOk(queue: String, messageCount: UInt32, consumerCount: UInt32)
    case queueBind(queue: String, exchange: String, routingKey: String, arguments: AMQPTable)
    case queueBindOk
    case queuePurge(queue: String)
    case queuePurgeOk(messageCount: UInt32)
    case queueDelete(queue: String, ifUnused: Bool, ifEmpty: Bool)
    case queueDeleteOk(messageCount: UInt32)

    case basicQos(prefetchSize: UInt32, prefetchCount: UInt16, global: Bool)
    case basicQosOk
    case basicConsume(queue: String, consumerTag: String, noAck: Bool, exclusive: Bool, arguments: AMQPTable)
    case basicConsumeOk(consumerTag: String)
    case basicCancel(consumerTag: String, noWait: Bool)
    case basicCancelOk(consumerTag: String)
    case basicPublish(exchange: String, routingKey: String, mandatory: Bool, immediate: Bool)
    case basicReturn(replyCode: UInt16, replyText: String, exchange: String, routingKey: String)
    case basicDeliver(consumerTag: String, deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String)
    case basicGet(queue: String, noAck: Bool)
    case basicGetOk(deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String, messageCount: UInt32)
    case basicGetEmpty
    case basicAck(deliveryTag: UInt64, multiple: Bool)
    case basicReject(deliveryTag: UInt64, requeue: Bool)
    case basicRecover(requeue: Bool)
    case basicRecoverOk
    case basicNack(deliveryTag: UInt64, multiple: Bool, requeue: Bool)

    case confirmSelect(noWait: Bool)
    case confirmSelectOk

    case txSelect, txSelectOk, txCommit, txCommitOk, txRollback, txRollbackOk

    /// Whether a content header and body follow this method (spec §4.2.6).
    public var carriesContent: Bool {
        switch self {
        case .basicPublish, .basicReturn, .basicDeliver, .basicGetOk: true
        default: false
        }
    }
}

/// Why a connection or channel is being closed: a reply code (spec §1.2), its text, and the method
/// that caused it (class and method ids, 0 when none).
public struct AMQPCloseReason: Sendable, Equatable {
    public var replyCode: UInt16
    public var replyText: String
    public var classID: UInt16
    public var methodID: UInt16

    public init(replyCode: UInt16, replyText: String, classID: UInt16 = 0, methodID: UInt16 = 0) {
        self.replyCode = replyCode
        self.replyText = replyText
        self.classID = classID
        self.methodID = methodID
    }
}

/// The fields of exchange.declare.
public struct AMQPExchangeDeclaration: Sendable, Equatable {
    public var name: String
    public var type: String
    public var passive = false
    public var durable = false
    public var autoDelete = false
    public var `internal` = false
    public var arguments = AMQPTable()

    public init(name: String, type: String, passive: Bool = false, durable: Bool = false, autoDelete: Bool = false,
                internal: Bool = false, arguments: AMQPTable = AMQPTable()) {
        self.name = name
        self.type = type
        self.passive = passive
        self.durable = durable
        self.autoDelete = autoDelete
        self.internal = `internal`
        self.arguments = arguments
    }
}

/// The fields of queue.declare.
public struct AMQPQueueDeclaration: Sendable, Equatable {
    public var name: String
    public var passive = false
    public var durable = false
    public var exclusive = false
    public var autoDelete = false
    public var arguments = AMQPTable()

    public init(name: String, passive: Bool = false, durable: Bool = false, exclusive: Bool = false,
                autoDelete: Bool = false, arguments: AMQPTable = AMQPTable()) {
        self.name = name
        self.passive = passive
        self.durable = durable
        self.exclusive = exclusive
        self.autoDelete = autoDelete
        self.arguments = arguments
    }
}
