// libFuzzer target: bytes from an AMQP 0-9-1 broker (or anyone who can reach the socket): the frame
// decoder with a small negotiated frame size, then every frame through the content assembler (methods,
// content headers, bodies), field tables on their own, and the same bytes as an AMQP URL. Whatever
// decodes must encode again to bytes that decode to the same encoding.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var decoder = AMQPFrameDecoder(maximumFrameSize: 4096)
    // Fed in two pieces, as a socket would, to cross frame boundaries.
    decoder.append(Array(bytes.prefix(size / 2)))
    _ = try? decoder.next()
    decoder.append(Array(bytes.dropFirst(size / 2)))
    var assemblers: [UInt16: AMQPContentAssembler] = [:]
    while let frame = try? decoder.next() {
        var assembler = assemblers[frame.channel] ?? AMQPContentAssembler(maximumBodySize: 1 << 16)
        if let command = try? assembler.take(frame), case .method(let method) = command { reencode(method) }
        assemblers[frame.channel] = assembler
        if frame.kind == .method, let method = try? AMQPMethod(decoding: frame.payload) { reencode(method) }
        if frame.kind == .header, let header = try? AMQPContentHeader(decoding: frame.payload),
           let encoded = try? header.encoded() {
            precondition((try? AMQPContentHeader(decoding: encoded).encoded()) == encoded, "content header encoding is not stable")
        }
    }
    if let method = try? AMQPMethod(decoding: bytes) { reencode(method) }
    var reader = AMQPReader(bytes)
    if let table = try? reader.table() {
        var writer = AMQPWriter()
        if (try? writer.table(table)) != nil {
            var again = AMQPReader(writer.bytes)
            var rewriter = AMQPWriter()
            if let decoded = try? again.table() { try? rewriter.table(decoded) }
            precondition(rewriter.bytes == writer.bytes, "field table encoding is not stable")
        }
    }
    if let url = try? AMQPURL(parsing: String(decoding: bytes, as: UTF8.self)) { _ = url.description }
    return 0
}

private func reencode(_ method: AMQPMethod) {
    guard let encoded = try? method.encoded() else { return }
    guard let decoded = try? AMQPMethod(decoding: encoded) else { preconditionFailure("an encoded method does not decode: \(method)") }
    precondition((try? decoded.encoded()) == encoded, "method encoding is not stable: \(method)")
}
