extension AMQPMethod {
    /// The class and method ids (spec §1.4).
    public var ids: (UInt16, UInt16) {
        switch self {
        case .connectionStart: (10, 10)
        case .connectionStartOk: (10, 11)
        case .connectionSecure: (10, 20)
        case .connectionSecureOk: (10, 21)
        case .connectionTune: (10, 30)
        case .connectionTuneOk: (10, 31)
        case .connectionOpen: (10, 40)
        case .connectionOpenOk: (10, 41)
        case .connectionClose: (10, 50)
        case .connectionCloseOk: (10, 51)
        case .connectionBlocked: (10, 60)
        case .connectionUnblocked: (10, 61)
        case .channelOpen: (20, 10)
        case .channelOpenOk: (20, 11)
        case .channelFlow: (20, 20)
        case .channelFlowOk: (20, 21)
        case .channelClose: (20, 40)
        case .channelCloseOk: (20, 41)
        case .exchangeDeclare: (40, 10)
        case .exchangeDeclareOk: (40, 11)
        case .queueDeclare: (50, 10)
        case .queueDeclareOk: (50, 11)
        case .queueBind: (50, 20)
        case .queueBindOk: (50, 21)
        case .queuePurge: (50, 30)
        case .queuePurgeOk: (50, 31)
        case .queueDelete: (50, 40)
        case .queueDeleteOk: (50, 41)
        case .basicQos: (60, 10)
        case .basicQosOk: (60, 11)
        case .basicConsume: (60, 20)
        case .basicConsumeOk: (60, 21)
        case .basicCancel: (60, 30)
        case .basicCancelOk: (60, 31)
        case .basicPublish: (60, 40)
        case .basicReturn: (60, 50)
        case .basicDeliver: (60, 60)
        case .basicGet: (60, 70)
        case .basicGetOk: (60, 71)
        case .basicGetEmpty: (60, 72)
        case .basicAck: (60, 80)
        case .basicReject: (60, 90)
        case .basicRecover: (60, 110)
        case .basicRecoverOk: (60, 111)
        case .basicNack: (60, 120)
        case .confirmSelect: (85, 10)
        case .confirmSelectOk: (85, 11)
        case .txSelect: (90, 10)
        case .txSelectOk: (90, 11)
        case .txCommit: (90, 20)
        case .txCommitOk: (90, 21)
        case .txRollback: (90, 30)
        case .txRollbackOk: (90, 31)
        }
    }

    /// The method frame's payload: class id, method id, arguments.
    public func encoded() throws -> [UInt8] {
        var w = AMQPWriter()
        let (classID, methodID) = ids
        w.short(classID)
        w.short(methodID)
        try encodeArguments(into: &w)
        return w.bytes
    }

    private func encodeArguments(into w: inout AMQPWriter) throws {
        switch self {
        case let .connectionStart(major, minor, properties, mechanisms, locales):
            w.octet(major); w.octet(minor); try w.table(properties); try w.longString(mechanisms); try w.longString(locales)
        case let .connectionStartOk(properties, mechanism, response, locale):
            try w.table(properties); try w.shortString(mechanism); try w.longBytes(response); try w.shortString(locale)
        case let .connectionSecure(bytes), let .connectionSecureOk(bytes):
            try w.longBytes(bytes)
        case let .connectionTune(channelMax, frameMax, heartbeat), let .connectionTuneOk(channelMax, frameMax, heartbeat):
            w.short(channelMax); w.long(frameMax); w.short(heartbeat)
        case let .connectionOpen(vhost):
            try w.shortString(vhost); try w.shortString(""); w.bit(false)
        case .connectionOpenOk, .channelOpen:
            try w.shortString("")
        case let .connectionClose(reason), let .channelClose(reason):
            w.short(reason.replyCode); try w.shortString(String(reason.replyText.utf8.prefix(255)) ?? ""); w.short(reason.classID); w.short(reason.methodID)
        case let .connectionBlocked(reason):
            try w.shortString(reason)
        case .channelOpenOk:
            try w.longString("")
        case let .channelFlow(active), let .channelFlowOk(active):
            w.bit(active)
        case let .exchangeDeclare(d):
            w.short(0); try w.shortString(d.name); try w.shortString(d.type)
            w.bit(d.passive); w.bit(d.durable); w.bit(d.autoDelete); w.bit(d.internal); w.bit(false)
            try w.table(d.arguments)
        case let .queueDeclare(d):
            w.short(0); try w.shortString(d.name)
            w.bit(d.passive); w.bit(d.durable); w.bit(d.exclusive); w.bit(d.autoDelete); w.bit(false)
            try w.table(d.arguments)
        case let .queueDeclareOk(queue, messages, consumers):
            try w.shortString(queue); w.long(messages); w.long(consumers)
        case let .queueBind(queue, exchange, routingKey, arguments):
            w.short(0); try w.shortString(queue); try w.shortString(exchange); try w.shortString(routingKey); w.bit(false); try w.table(arguments)
        case let .queuePurge(queue):
            w.short(0); try w.shortString(queue); w.bit(false)
        case let .queuePurgeOk(count), let .queueDeleteOk(count):
            w.long(count)
        case let .queueDelete(queue, ifUnused, ifEmpty):
            w.short(0); try w.shortString(queue); w.bit(ifUnused); w.bit(ifEmpty); w.bit(false)
        case let .basicQos(size, count, global):
            w.long(size); w.short(count); w.bit(global)
        case let .basicConsume(queue, tag, noAck, exclusive, arguments):
            w.short(0); try w.shortString(queue); try w.shortString(tag)
            w.bit(false); w.bit(noAck); w.bit(exclusive); w.bit(false); try w.table(arguments)
        case let .basicConsumeOk(tag), let .basicCancelOk(tag):
            try w.shortString(tag)
        case let .basicCancel(tag, noWait):
            try w.shortString(tag); w.bit(noWait)
        case let .basicPublish(exchange, routingKey, mandatory, immediate):
            w.short(0); try w.shortString(exchange); try w.shortString(routingKey); w.bit(mandatory); w.bit(immediate)
        case let .basicReturn(code, text, exchange, routingKey):
            w.short(code); try w.shortString(text); try w.shortString(exchange); try w.shortString(routingKey)
        case let .basicDeliver(tag, deliveryTag, redelivered, exchange, routingKey):
            try w.shortString(tag); w.longlong(deliveryTag); w.bit(redelivered); try w.shortString(exchange); try w.shortString(routingKey)
        case let .basicGet(queue, noAck):
            w.short(0); try w.shortString(queue); w.bit(noAck)
        case let .basicGetOk(deliveryTag, redelivered, exchange, routingKey, count):
            w.longlong(deliveryTag); w.bit(redelivered); try w.shortString(exchange); try w.shortString(routingKey); w.long(count)
        case .basicGetEmpty:
            try w.shortString("")
        case let .basicAck(tag, multiple):
            w.longlong(tag); w.bit(multiple)
        case let .basicReject(tag, requeue):
            w.longlong(tag); w.bit(requeue)
        case let .basicRecover(requeue):
            w.bit(requeue)
        case let .basicNack(tag, multiple, requeue):
            w.longlong(tag); w.bit(multiple); w.bit(requeue)
        case let .confirmSelect(noWait):
            w.bit(noWait)
        case .connectionCloseOk, .connectionUnblocked, .channelCloseOk, .exchangeDeclareOk, .queueBindOk, .basicQosOk,
             .basicRecoverOk, .confirmSelectOk, .txSelect, .txSelectOk, .txCommit, .txCommitOk, .txRollback, .txRollbackOk:
            break
        }
    }

    /// Decodes a method frame's payload. Unknown classes or methods, short or overlong payloads throw.
    public init(decoding payload: [UInt8]) throws {
        var r = AMQPReader(payload)
        let classID = try r.short()
        let methodID = try r.short()
        self = try Self.decode(classID, methodID, &r)
        guard r.isAtEnd else { throw AMQPDecodingError("\(r.remaining) bytes after method \(classID).\(methodID)") }
    }

    private static func decode(_ classID: UInt16, _ methodID: UInt16, _ r: inout AMQPReader) throws -> AMQPMethod {
        switch classID {
        case 10: return try decodeConnection(methodID, &r)
        case 20: return try decodeChannel(methodID, &r)
        case 40: return try decodeExchange(methodID, &r)
        case 50: return try decodeQueue(methodID, &r)
        case 60: return try decodeBasic(methodID, &r)
        case 85:
            switch methodID {
            case 10: return .confirmSelect(noWait: try r.bits(1)[0])
            case 11: return .confirmSelectOk
            default: break
            }
        case 90:
            switch methodID {
            case 10: return .txSelect
            case 11: return .txSelectOk
            case 20: return .txCommit
            case 21: return .txCommitOk
            case 30: return .txRollback
            case 31: return .txRollbackOk
            default: break
            }
        default: break
        }
        throw AMQPDecodingError("unknown method \(classID).\(methodID)")
    }

    private static func closeReason(_ r: inout AMQPReader) throws -> AMQPCloseReason {
        AMQPCloseReason(replyCode: try r.short(), replyText: try r.shortString(), classID: try r.short(), methodID: try r.short())
    }

    private static func decodeConnection(_ methodID: UInt16, _ r: inout AMQPReader) throws -> AMQPMethod {
        switch methodID {
        case 10: return .connectionStart(versionMajor: try r.octet(), versionMinor: try r.octet(), serverProperties: try r.table(),
                                         mechanisms: try r.longString(), locales: try r.longString())
        case 11: return .connectionStartOk(clientProperties: try r.table(), mechanism: try r.shortString(),
                                           response: try r.longBytes(), locale: try r.shortString())
        case 20: return .connectionSecure(challenge: try r.longBytes())
        case 21: return .connectionSecureOk(response: try r.longBytes())
        case 30: return .connectionTune(channelMax: try r.short(), frameMax: try r.long(), heartbeat: try r.short())
        case 31: return .connectionTuneOk(channelMax: try r.short(), frameMax: try r.long(), heartbeat: try r.short())
        case 40:
            let vhost = try r.shortString()
            _ = try r.shortString(); _ = try r.bits(1)
            return .connectionOpen(virtualHost: vhost)
        case 41: _ = try r.shortString(); return .connectionOpenOk
        case 50: return .connectionClose(try closeReason(&r))
        case 51: return .connectionCloseOk
        case 60: return .connectionBlocked(reason: try r.shortString())
        case 61: return .connectionUnblocked
        default: throw AMQPDecodingError("unknown method 10.\(methodID)")
        }
    }

    private static func decodeChannel(_ methodID: UInt16, _ r: inout AMQPReader) throws -> AMQPMethod {
        switch methodID {
        case 10: _ = try r.shortString(); return .channelOpen
        case 11: _ = try r.longBytes(); return .channelOpenOk
        case 20: return .channelFlow(active: try r.bits(1)[0])
        case 21: return .channelFlowOk(active: try r.bits(1)[0])
        case 40: return .channelClose(try closeReason(&r))
        case 41: return .channelCloseOk
        default: throw AMQPDecodingError("unknown method 20.\(methodID)")
        }
    }

    private static func decodeExchange(_ methodID: UInt16, _ r: inout AMQPReader) throws -> AMQPMethod {
        switch methodID {
        case 10:
            _ = try r.short()
            let name = try r.shortString(), type = try r.shortString()
            let flags = try r.bits(5)
            return .exchangeDeclare(AMQPExchangeDeclaration(name: name, type: type, passive: flags[0], durable: flags[1],
                                                            autoDelete: flags[2], internal: flags[3], arguments: try r.table()))
        case 11: return .exchangeDeclareOk
        default: throw AMQPDecodingError("unknown method 40.\(methodID)")
        }
    }

    private static func decodeQueue(_ methodID: UInt16, _ r: inout AMQPReader) throws -> AMQPMethod {
        switch methodID {
        case 10:
            _ = try r.short()
            let name = try r.shortString()
            let flags = try r.bits(5)
            return .queueDeclare(AMQPQueueDeclaration(name: name, passive: flags[0], durable: flags[1], exclusive: flags[2],
                                                      autoDelete: flags[3], arguments: try r.table()))
        case 11: return .queueDeclareOk(queue: try r.shortString(), messageCount: try r.long(), consumerCount: try r.long())
        case 20:
            _ = try r.short()
            let queue = try r.shortString(), exchange = try r.shortString(), key = try r.shortString()
            _ = try r.bits(1)
            return .queueBind(queue: queue, exchange: exchange, routingKey: key, arguments: try r.table())
        case 21: return .queueBindOk
        case 30:
            _ = try r.short()
            let queue = try r.shortString()
            _ = try r.bits(1)
            return .queuePurge(queue: queue)
        case 31: return .queuePurgeOk(messageCount: try r.long())
        case 40:
            _ = try r.short()
            let queue = try r.shortString()
            let flags = try r.bits(3)
            return .queueDelete(queue: queue, ifUnused: flags[0], ifEmpty: flags[1])
        case 41: return .queueDeleteOk(messageCount: try r.long())
        default: throw AMQPDecodingError("unknown method 50.\(methodID)")
        }
    }

    private static func decodeBasic(_ methodID: UInt16, _ r: inout AMQPReader) throws -> AMQPMethod {
        switch methodID {
        case 10:
            let size = try r.long(), count = try r.short()
            return .basicQos(prefetchSize: size, prefetchCount: count, global: try r.bits(1)[0])
        case 11: return .basicQosOk
        case 20:
            _ = try r.short()
            let queue = try r.shortString(), tag = try r.shortString()
            let flags = try r.bits(4)
            return .basicConsume(queue: queue, consumerTag: tag, noAck: flags[1], exclusive: flags[2], arguments: try r.table())
        case 21: return .basicConsumeOk(consumerTag: try r.shortString())
        case 30: return .basicCancel(consumerTag: try r.shortString(), noWait: try r.bits(1)[0])
        case 31: return .basicCancelOk(consumerTag: try r.shortString())
        case 40:
            _ = try r.short()
            let exchange = try r.shortString(), key = try r.shortString()
            let flags = try r.bits(2)
            return .basicPublish(exchange: exchange, routingKey: key, mandatory: flags[0], immediate: flags[1])
        case 50: return .basicReturn(replyCode: try r.short(), replyText: try r.shortString(), exchange: try r.shortString(),
                                     routingKey: try r.shortString())
        case 60:
            let tag = try r.shortString(), deliveryTag = try r.longlong(), redelivered = try r.bits(1)[0]
            return .basicDeliver(consumerTag: tag, deliveryTag: deliveryTag, redelivered: redelivered,
                                 exchange: try r.shortString(), routingKey: try r.shortString())
        case 70:
            _ = try r.short()
            let queue = try r.shortString()
            return .basicGet(queue: queue, noAck: try r.bits(1)[0])
        case 71:
            let deliveryTag = try r.longlong(), redelivered = try r.bits(1)[0]
            return .basicGetOk(deliveryTag: deliveryTag, redelivered: redelivered, exchange: try r.shortString(),
                               routingKey: try r.shortString(), messageCount: try r.long())
        case 72: _ = try r.shortString(); return .basicGetEmpty
        case 80: return .basicAck(deliveryTag: try r.longlong(), multiple: try r.bits(1)[0])
        case 90: return .basicReject(deliveryTag: try r.longlong(), requeue: try r.bits(1)[0])
        case 110: return .basicRecover(requeue: try r.bits(1)[0])
        case 111: return .basicRecoverOk
        case 120:
            let tag = try r.longlong()
            let flags = try r.bits(2)
            return .basicNack(deliveryTag: tag, multiple: flags[0], requeue: flags[1])
        default: throw AMQPDecodingError("unknown method 60.\(methodID)")
        }
    }
}
