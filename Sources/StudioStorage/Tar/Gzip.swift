import CZlib
import Glibc

/// Streaming gunzip over a file descriptor (multi-member gzip files included).
final class Inflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    private var inputEnded = false
    private var memberEnded = false

    init(bufferSize: Int) throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(byteCount: bufferSize, alignment: 16)
        // 47 = 32 (detect gzip or zlib header) + 15 (32 KiB window).
        guard czlib_inflate_init(stream, 47) == Z_OK else {
            stream.deallocate()
            input.deallocate()
            throw TarError("cannot start gzip decompression (zlib init failed)")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }

    /// Hands the inflater bytes already read from the source.
    func feed(_ bytes: UnsafeRawBufferPointer) {
        input.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(bytes.count)
    }

    private func refill(from fd: Int32) throws {
        let got = try Posix.read(fd, input.baseAddress!, input.count, what: "the gzip archive")
        if got == 0 { inputEnded = true }
        stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(got)
    }

    /// Decompresses up to `count` bytes into `destination`; 0 at the end of the data.
    func inflate(into destination: UnsafeMutableRawPointer, count: Int, source fd: Int32) throws -> Int {
        stream.pointee.next_out = destination.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(count)
        while Int(stream.pointee.avail_out) == count {
            if memberEnded {
                if stream.pointee.avail_in == 0 && !inputEnded { try refill(from: fd) }
                // Another gzip member follows (concatenated .gz); anything else after the end is ignored.
                guard stream.pointee.avail_in > 0, stream.pointee.next_in[0] == 0x1f else { return 0 }
                inflateReset(stream)
                memberEnded = false
            }
            if stream.pointee.avail_in == 0 && !inputEnded { try refill(from: fd) }
            let result = CZlib.inflate(stream, Z_NO_FLUSH)
            switch result {
            case Z_STREAM_END:
                memberEnded = true
            case Z_OK:
                break
            case Z_BUF_ERROR:
                if inputEnded && stream.pointee.avail_in == 0 {
                    throw TarError("the gzip archive is truncated: it ends in the middle of compressed data")
                }
            default:
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(result)"
                throw TarError("the gzip archive is corrupt: \(reason)")
            }
            if !memberEnded && inputEnded && stream.pointee.avail_in == 0 && Int(stream.pointee.avail_out) == count {
                throw TarError("the gzip archive is truncated: it ends in the middle of compressed data")
            }
        }
        return count - Int(stream.pointee.avail_out)
    }
}

/// Streaming gzip compression into a file descriptor.
final class Deflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private let output: UnsafeMutableRawBufferPointer

    init(level: Int32, bufferSize: Int) throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        output = .allocate(byteCount: bufferSize, alignment: 16)
        // 31 = 16 (gzip wrapper) + 15 (32 KiB window).
        guard czlib_deflate_init(stream, level, 31) == Z_OK else {
            stream.deallocate()
            output.deallocate()
            throw TarError("cannot start gzip compression (zlib init failed)")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
        output.deallocate()
    }

    /// Compresses `bytes` (or, with `finish`, flushes the end of the stream), passing each compressed chunk on.
    func deflate(_ bytes: UnsafeRawBufferPointer, finish: Bool, emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        stream.pointee.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(bytes.count)
        while true {
            stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(output.count)
            let result = CZlib.deflate(stream, finish ? Z_FINISH : Z_NO_FLUSH)
            guard result == Z_OK || result == Z_STREAM_END || result == Z_BUF_ERROR else {
                throw TarError("gzip compression failed (zlib error \(result))")
            }
            let produced = output.count - Int(stream.pointee.avail_out)
            if produced > 0 { try emit(UnsafeRawBufferPointer(rebasing: output[0..<produced])) }
            if finish ? result == Z_STREAM_END : (stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0) { return }
        }
    }
}
