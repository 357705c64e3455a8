// libFuzzer target: plain tar archives (ustar, GNU, PAX, base-256 numbers, extension headers).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let sealed = TarHarness.sealingChecksums(data, size)
    sealed.withUnsafeBufferPointer { TarHarness.run($0.baseAddress!, $0.count) }
    return 0
}
