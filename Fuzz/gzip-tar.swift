// libFuzzer target: gzip-compressed tars as stored (.tar.gz): headers, trailers, concatenated members, garbage.
// Inputs that do not start with the gzip magic are compressed first, so the tar behind the gzip layer is
// mutated too, not only the compressed bytes (which mostly fail the CRC).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if size >= 2 && data[0] == 0x1f && data[1] == 0x8b {
        TarHarness.run(data, size)
        return 0
    }
    let sealed = TarHarness.sealingChecksums(data, size)
    var compressed: [UInt8] = []
    do {
        let deflater = try Deflater(level: 1, bufferSize: 1 << 16)
        try sealed.withUnsafeBytes { try deflater.deflate($0, finish: true) { compressed.append(contentsOf: $0) } }
    } catch {
        fatalError("gzip compression of a fuzz input failed: \(error)")
    }
    compressed.withUnsafeBufferPointer { TarHarness.run($0.baseAddress!, $0.count) }
    return 0
}
