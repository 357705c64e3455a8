import Crypto
import Dispatch
import Glibc

/// A buffered sink for archive bytes: optionally gzips them, and hashes exactly the bytes that reach the
/// file descriptor with SHA-256 in the same pass (the blobstore key is the hash of the stored object).
///
/// Double-buffered: while the caller fills one buffer (reading source files into it), a helper thread
/// writes the other. Uncompressed, the caller hashes each buffer as it hands it over, so hashing and
/// writing (each about as slow as the reads) run on two threads at once; gzipped, the helper
/// compresses and hashes what it writes, since the hash is of the stored bytes.
/// `@unchecked Sendable` because a buffer is handed to the helper only between `idle.wait()` and its
/// `idle.signal()`, which order every access to the buffers, the hasher and `failure`.
final class ArchiveOutput: @unchecked Sendable {
    private let fd: Int32
    private let buffers: [UnsafeMutableRawBufferPointer]
    private var current = 0
    private var buffer: UnsafeMutableRawBufferPointer { buffers[current] }
    private var used = 0
    private var hasher = SHA256()
    private let deflater: Deflater?
    private let helper = DispatchQueue(label: "studio.tar.output")
    private let idle = DispatchSemaphore(value: 1)
    private var failure: Error?
    /// Uncompressed tar bytes accepted so far (for record padding).
    private(set) var tarBytes: Int64 = 0
    /// Bytes written to the descriptor so far.
    private(set) var storedBytes: Int64 = 0

    init(fd: Int32, compression: TarCompression, bufferSize: Int = 2 << 20) throws {
        self.fd = fd
        buffers = [.allocate(byteCount: bufferSize, alignment: 4096), .allocate(byteCount: bufferSize, alignment: 4096)]
        switch compression {
        case .none: deflater = nil
        case .gzip(let level): deflater = try Deflater(level: level, bufferSize: 1 << 20)
        }
    }

    deinit {
        // The helper may still hold a buffer when an error ended the archive early.
        idle.wait()
        idle.signal()  // libdispatch traps if a semaphore dies below its initial value
        buffers.forEach { $0.deallocate() }
    }

    /// Appends bytes (headers, padding).
    func append(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            if used == buffer.count { try flush() }
            let chunk = min(bytes.count - offset, buffer.count - used)
            (buffer.baseAddress! + used).copyMemory(from: bytes.baseAddress! + offset, byteCount: chunk)
            used += chunk
            offset += chunk
        }
        tarBytes += Int64(bytes.count)
    }

    /// Appends `count` zero bytes.
    func appendZeros(_ count: Int) throws {
        var remaining = count
        while remaining > 0 {
            if used == buffer.count { try flush() }
            let chunk = min(remaining, buffer.count - used)
            memset(buffer.baseAddress! + used, 0, chunk)
            used += chunk
            remaining -= chunk
        }
        tarBytes += Int64(count)
    }

    /// Appends exactly `count` bytes read from `source` straight into the buffer; a file that shrank while
    /// being read is padded with zeros (as GNU tar does) so the archive stays well-formed. Returns bytes read.
    @discardableResult
    func appendFile(_ source: Int32, count: Int64, what: @autoclosure () -> String) throws -> Int64 {
        var remaining = count
        while remaining > 0 {
            if used == buffer.count { try flush() }
            let want = Int(min(Int64(buffer.count - used), remaining))
            let got = try Posix.read(source, buffer.baseAddress! + used, want, what: what())
            if got == 0 { break }
            used += got
            remaining -= Int64(got)
            tarBytes += Int64(got)
        }
        if remaining > 0 { try appendZeros(Int(remaining)) }
        return count - remaining
    }

    /// Hands the filled buffer to the helper (gzip if asked, then hash and write) and switches to the other one.
    func flush() throws {
        guard used > 0 else { return }
        // The caller owns this buffer until the helper takes it below; the helper never touches the
        // hasher when nothing is compressed.
        if deflater == nil { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffers[current][0..<used])) }
        idle.wait()
        if let failure {
            idle.signal()
            throw failure
        }
        let index = current, count = used
        helper.async { [self] in
            let pending = UnsafeRawBufferPointer(rebasing: buffers[index][0..<count])
            do {
                if let deflater {
                    try deflater.deflate(pending, finish: false) { try hashAndWrite($0) }
                } else {
                    try write(pending)
                }
            } catch {
                failure = error
            }
            idle.signal()
        }
        current ^= 1
        used = 0
    }

    /// Flushes everything (and ends the gzip stream); returns the lowercase hex SHA-256 of the stored bytes.
    func finish() throws -> String {
        try flush()
        idle.wait()
        defer { idle.signal() }
        if let failure { throw failure }
        if let deflater { try deflater.deflate(UnsafeRawBufferPointer(start: nil, count: 0), finish: true) { try hashAndWrite($0) } }
        return hasher.finalize().map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
        }.joined()
    }

    private func hashAndWrite(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bufferPointer: bytes)
        try write(bytes)
    }

    private func write(_ bytes: UnsafeRawBufferPointer) throws {
        try Posix.writeAll(fd, bytes.baseAddress!, bytes.count, what: "the tar archive")
        storedBytes += Int64(bytes.count)
    }
}
