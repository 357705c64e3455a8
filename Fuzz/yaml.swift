// libFuzzer target: the YAML reader (config files), then the config built from what it read.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let value = try? YAMLParser.parse(text) else { return 0 }
    FuzzWalk.visit(value)
    _ = value.serialized(.compact)
    if let config = try? StudioConfig(text: text, format: .yaml, environment: ["HOME": "/home/fuzz", "X": "$X"]) {
        FuzzWalk.visit(config)
    }
    return 0
}
