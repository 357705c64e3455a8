import Glibc

/// Feeds one fuzz input to TarReader through a scratch regular file (so the kernel-copy and seek paths
/// run too), reads every member and converts its mtime as extraction would. Errors are fine; traps are not.
enum TarHarness {
    private nonisolated(unsafe) static var scratch: Int32 = -1
    private nonisolated(unsafe) static var devNull: Int32 = -1

    /// Mutated headers nearly always fail the checksum, which hides every numeric field behind it: seal the
    /// checksum of each block whose checksum field looks like one (octal digits, spaces, NUL), so the fuzzer
    /// reaches the fields. Odd-sized inputs are left as they are, to keep the bad-checksum path covered.
    static func sealingChecksums(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
        var bytes = Array(UnsafeBufferPointer(start: data, count: size))
        guard size % 2 == 0 else { return bytes }
        bytes.withUnsafeMutableBytes { all in
            var offset = 0
            while offset + TarHeader.blockSize <= all.count {
                let block = UnsafeMutableRawBufferPointer(rebasing: all[offset..<(offset + TarHeader.blockSize)])
                if TarHeader.checksumField.allSatisfy({ (0x30...0x37).contains(block[$0]) || block[$0] == 0x20 || block[$0] == 0 }),
                   !TarHeader.isZeroBlock(UnsafeRawBufferPointer(block)) {
                    TarHeader.sealChecksum(block)
                }
                offset += TarHeader.blockSize
            }
        }
        return bytes
    }

    static func run(_ data: UnsafePointer<UInt8>, _ size: Int) {
        if scratch < 0 {
            var template = Array("/tmp/studio-fuzz-tar-XXXXXX".utf8CString)
            scratch = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
            devNull = open("/dev/null", O_WRONLY)
            precondition(scratch >= 0 && devNull >= 0, "cannot open the fuzz scratch files")
        }
        precondition(ftruncate(scratch, 0) == 0 && pwrite(scratch, data, size, 0) == size && lseek(scratch, 0, SEEK_SET) == 0)
        do {
            let reader = try TarReader(fileDescriptor: scratch)
            var index = 0
            while let entry = try reader.next() {
                _ = entry.path
                _ = entry.linkTarget
                _ = try? Extraction.fileTime(entry.mtime, member: entry.pathBytes)
                // Alternate the two ways content is read; readContents only where the header claims little.
                if index % 2 == 0 && entry.size < 1 << 16 { _ = try reader.readContents() } else { try reader.copyContents(to: devNull) }
                index += 1
            }
        } catch {}
    }
}
