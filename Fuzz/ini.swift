// libFuzzer target: the AWS shared credentials/config INI reader.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let file = try? INIFile.parse(text, path: "fuzz") {
        for (_, keys) in file.sections { for (key, value) in keys { _ = key.count + value.count } }
    }
    return 0
}
