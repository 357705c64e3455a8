import AMQP091
import XCTest

/// The frame, method, field-table and content-header codecs against the 0-9-1 grammar: round trips,
/// byte layouts the spec fixes, and refusals of malformed input.
final class AMQPCodecTests: XCTestCase {
    func testFrameLayoutAndRoundTrip() throws {
        let frame = try AMQPFrame.method(.basicAck(deliveryTag: 7, multiple: true), channel: 3)
        let bytes = frame.encoded()
        // type 1, channel 3, size 13 (class 60, method 80, longlong 7, one bit octet), payload, 0xCE.
        XCTAssertEqual(Array(bytes.prefix(7)), [1, 0, 3, 0, 0, 0, 13])
        XCTAssertEqual(Array(bytes[7..<11]), [0, 60, 0, 80])
        XCTAssertEqual(bytes.last, 0xCE)
        var decoder = AMQPFrameDecoder(maximumFrameSize: 4096)
        decoder.append(Array(bytes.prefix(5)))
        XCTAssertNil(try decoder.next())
        decoder.append(Array(bytes.dropFirst(5)) + AMQPFrame.heartbeat.encoded())
        XCTAssertEqual(try decoder.next(), frame)
        XCTAssertEqual(try decoder.next(), AMQPFrame.heartbeat)
        XCTAssertNil(try decoder.next())
    }

    func testFrameDecoderRefusesOversizeUnknownAndUnterminatedFrames() {
        var oversize = AMQPFrameDecoder(maximumFrameSize: 4096)
        oversize.append([1, 0, 1, 0, 0, 0x10, 0x00])
        XCTAssertThrowsError(try oversize.next())
        var unknown = AMQPFrameDecoder(maximumFrameSize: 4096)
        unknown.append([9, 0, 0, 0, 0, 0, 0, 0xCE])
        XCTAssertThrowsError(try unknown.next())
        var unterminated = AMQPFrameDecoder(maximumFrameSize: 4096)
        unterminated.append([8, 0, 0, 0, 0, 0, 0, 0x00])
        XCTAssertThrowsError(try unterminated.next())
        var otherVersion = AMQPFrameDecoder(maximumFrameSize: 4096)
        otherVersion.append(Array("AMQP".utf8) + [0, 0, 9, 1])
        XCTAssertThrowsError(try otherVersion.next())
    }

    func testEveryMethodRoundTrips() throws {
        let table: AMQPTable = ["x-message-ttl": .int32(30000), "x-dead-letter-exchange": .string("")]
        let reason = AMQPCloseReason(replyCode: 406, replyText: "PRECONDITION_FAILED - inequivalent arg", classID: 40, methodID: 10)
        let methods: [AMQPMethod] = [
            .connectionStart(versionMajor: 0, versionMinor: 9, serverProperties: ["product": .string("RabbitMQ")], mechanisms: "PLAIN AMQPLAIN", locales: "en_US"),
            .connectionStartOk(clientProperties: ["capabilities": .table(["basic.nack": .bool(true)])], mechanism: "PLAIN", response: [0, 103, 0, 103], locale: "en_US"),
            .connectionSecure(challenge: [1, 2]), .connectionSecureOk(response: [3]),
            .connectionTune(channelMax: 2047, frameMax: 131072, heartbeat: 60), .connectionTuneOk(channelMax: 2047, frameMax: 131072, heartbeat: 30),
            .connectionOpen(virtualHost: "/"), .connectionOpenOk, .connectionClose(reason), .connectionCloseOk,
            .connectionBlocked(reason: "low on memory"), .connectionUnblocked,
            .channelOpen, .channelOpenOk, .channelFlow(active: true), .channelFlowOk(active: false), .channelClose(reason), .channelCloseOk,
            .exchangeDeclare(AMQPExchangeDeclaration(name: "StudioML.topic", type: "topic", durable: true, autoDelete: true)), .exchangeDeclareOk,
            .queueDeclare(AMQPQueueDeclaration(name: "rmq_x", durable: true, arguments: table)),
            .queueDeclareOk(queue: "rmq_x", messageCount: 5, consumerCount: 1),
            .queueBind(queue: "rmq_x", exchange: "StudioML.topic", routingKey: "StudioML.rmq_x", arguments: AMQPTable()), .queueBindOk,
            .queuePurge(queue: "q"), .queuePurgeOk(messageCount: 2), .queueDelete(queue: "q", ifUnused: true, ifEmpty: false), .queueDeleteOk(messageCount: 1),
            .basicQos(prefetchSize: 0, prefetchCount: 1, global: false), .basicQosOk,
            .basicConsume(queue: "rmq_x", consumerTag: "c1", noAck: false, exclusive: true, arguments: table), .basicConsumeOk(consumerTag: "c1"),
            .basicCancel(consumerTag: "c1", noWait: false), .basicCancelOk(consumerTag: "c1"),
            .basicPublish(exchange: "StudioML.topic", routingKey: "StudioML.rmq_x", mandatory: true, immediate: false),
            .basicReturn(replyCode: 312, replyText: "NO_ROUTE", exchange: "e", routingKey: "k"),
            .basicDeliver(consumerTag: "c1", deliveryTag: UInt64.max, redelivered: true, exchange: "e", routingKey: "k"),
            .basicGet(queue: "q", noAck: false), .basicGetOk(deliveryTag: 9, redelivered: false, exchange: "", routingKey: "q", messageCount: 3), .basicGetEmpty,
            .basicAck(deliveryTag: 1, multiple: false), .basicReject(deliveryTag: 2, requeue: true), .basicRecover(requeue: true), .basicRecoverOk,
            .basicNack(deliveryTag: 3, multiple: true, requeue: false), .confirmSelect(noWait: false), .confirmSelectOk,
            .txSelect, .txSelectOk, .txCommit, .txCommitOk, .txRollback, .txRollbackOk,
        ]
        for method in methods {
            XCTAssertEqual(try AMQPMethod(decoding: try method.encoded()), method, "\(method)")
        }
    }

    func testBitFieldsPackIntoOneOctetLeastSignificantFirst() throws {
        // queue.declare: reserved short, shortstr "q", then passive durable exclusive auto-delete no-wait in one octet.
        let bytes = try AMQPMethod.queueDeclare(AMQPQueueDeclaration(name: "q", durable: true, autoDelete: true)).encoded()
        XCTAssertEqual(Array(bytes), [0, 50, 0, 10, 0, 0, 1, UInt8(ascii: "q"), 0b0000_1010, 0, 0, 0, 0])
    }

    func testFieldTableRoundTripsEveryType() throws {
        let table: AMQPTable = [
            "t": .bool(true), "b": .int8(-3), "B": .uint8(250), "s": .int16(-300), "u": .uint16(60000), "I": .int32(-70000),
            "i": .uint32(4_000_000_000), "l": .int64(-5), "f": .float(1.5), "d": .double(-2.25), "D": .decimal(scale: 2, value: 12345),
            "S": .string("héllo"), "x": .bytes([0, 255]), "T": .timestamp(1_700_000_000), "V": .void,
            "F": .table(["inner": .array([.int32(1), .string("two"), .table([:])])]),
        ]
        var writer = AMQPWriter()
        try writer.table(table)
        var reader = AMQPReader(writer.bytes)
        XCTAssertEqual(try reader.table(), table)
        XCTAssertTrue(reader.isAtEnd)
    }

    func testTablesRefuseLengthsPastTheInputAndDeepNesting() {
        var short = AMQPReader([0, 0, 0, 9, 1, UInt8(ascii: "a"), UInt8(ascii: "t")])
        XCTAssertThrowsError(try short.table())
        var unknownType = AMQPReader([0, 0, 0, 3, 1, UInt8(ascii: "a"), UInt8(ascii: "?")])
        XCTAssertThrowsError(try unknownType.table())
        // 40 nested tables, each `F` inside the previous: refused before the stack grows.
        var nested: [UInt8] = [0, 0, 0, 0]
        for _ in 0..<40 {
            let inner = [1, UInt8(ascii: "n"), UInt8(ascii: "F")] + nested
            nested = [0, 0, UInt8(inner.count >> 8), UInt8(inner.count & 0xff)] + inner
        }
        var deep = AMQPReader(nested)
        XCTAssertThrowsError(try deep.table())
    }

    func testShortStringsOver255BytesAreRefusedNotCut() {
        var writer = AMQPWriter()
        XCTAssertThrowsError(try writer.shortString(String(repeating: "q", count: 256)))
    }

    func testContentHeaderRoundTripsAndFlagLayout() throws {
        let properties = AMQPProperties(contentType: "application/json", headers: ["x-death": .array([])], deliveryMode: 2,
                                        expiration: "30000", appID: "studioml")
        let header = AMQPContentHeader(bodySize: 42, properties: properties)
        let bytes = try header.encoded()
        // class 60, weight 0, size 42, flags: content-type(15) headers(13) delivery-mode(12) expiration(8) app-id(3).
        XCTAssertEqual(Array(bytes.prefix(14)), [0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 42, 0b1011_0001, 0b0000_1000])
        XCTAssertEqual(try AMQPContentHeader(decoding: bytes), header)
    }

    func testAssemblerJoinsMethodHeaderAndBodyFrames() throws {
        var assembler = AMQPContentAssembler(maximumBodySize: 100)
        let deliver = AMQPMethod.basicDeliver(consumerTag: "c", deliveryTag: 1, redelivered: false, exchange: "e", routingKey: "k")
        XCTAssertNil(try assembler.take(try AMQPFrame.method(deliver, channel: 1)))
        let header = AMQPContentHeader(bodySize: 5, properties: AMQPProperties(appID: "studioml"))
        XCTAssertNil(try assembler.take(AMQPFrame(kind: .header, channel: 1, payload: try header.encoded())))
        XCTAssertNil(try assembler.take(AMQPFrame(kind: .body, channel: 1, payload: Array("he".utf8))))
        let command = try assembler.take(AMQPFrame(kind: .body, channel: 1, payload: Array("llo".utf8)))
        XCTAssertEqual(command, .content(deliver, AMQPMessage(properties: AMQPProperties(appID: "studioml"), body: Array("hello".utf8))))
        // An empty body completes with the header alone.
        XCTAssertNil(try assembler.take(try AMQPFrame.method(deliver, channel: 1)))
        let empty = try assembler.take(AMQPFrame(kind: .header, channel: 1, payload: try AMQPContentHeader(bodySize: 0, properties: AMQPProperties()).encoded()))
        XCTAssertEqual(empty, .content(deliver, AMQPMessage(properties: AMQPProperties(), body: [])))
    }

    func testAssemblerRefusesOutOfOrderAndOversizeContent() throws {
        var bodyFirst = AMQPContentAssembler(maximumBodySize: 100)
        XCTAssertThrowsError(try bodyFirst.take(AMQPFrame(kind: .body, channel: 1, payload: [1])))
        var tooLarge = AMQPContentAssembler(maximumBodySize: 4)
        _ = try tooLarge.take(try AMQPFrame.method(.basicGetOk(deliveryTag: 1, redelivered: false, exchange: "", routingKey: "q", messageCount: 0), channel: 1))
        XCTAssertThrowsError(try tooLarge.take(AMQPFrame(kind: .header, channel: 1, payload: try AMQPContentHeader(bodySize: 5, properties: AMQPProperties()).encoded())))
        var overrun = AMQPContentAssembler(maximumBodySize: 100)
        _ = try overrun.take(try AMQPFrame.method(.basicGetOk(deliveryTag: 1, redelivered: false, exchange: "", routingKey: "q", messageCount: 0), channel: 1))
        _ = try overrun.take(AMQPFrame(kind: .header, channel: 1, payload: try AMQPContentHeader(bodySize: 2, properties: AMQPProperties()).encoded()))
        XCTAssertThrowsError(try overrun.take(AMQPFrame(kind: .body, channel: 1, payload: [1, 2, 3])))
    }

    func testTruncatedMethodsAreRefused() throws {
        let full = try AMQPMethod.basicDeliver(consumerTag: "c", deliveryTag: 1, redelivered: false, exchange: "e", routingKey: "k").encoded()
        for length in 0..<full.count {
            XCTAssertThrowsError(try AMQPMethod(decoding: Array(full.prefix(length))), "prefix \(length)")
        }
        XCTAssertThrowsError(try AMQPMethod(decoding: full + [0]))
        XCTAssertThrowsError(try AMQPMethod(decoding: [0, 99, 0, 1]))
    }
}
