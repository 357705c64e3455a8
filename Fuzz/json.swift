// libFuzzer target: the JSON reader, and writing what it read (float repr, escapes) and reading that back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONValue(parsing: bytes) else { return 0 }
    FuzzWalk.visit(value)
    let written = value.serialized(.compact)
    // NaN and Infinity are written as Python does, and the reader accepts them: a round trip must parse.
    guard (try? JSONValue(parsing: written)) != nil else { fatalError("JSON written by JSONWriter does not parse: \(written)") }
    _ = value.jsonData(.pythonDefault)
    return 0
}
