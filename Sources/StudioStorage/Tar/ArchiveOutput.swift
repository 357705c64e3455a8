import Crypto
import Dispatch
import Glibc
import Synchronization

/// A buffered sink for archive bytes: optionally gzips them, and hashes exactly the bytes that reach the
/// file descriptor with SHA-256 in the same pass (the blobstore key is the hash of the stored object).
///
/// A three-stage pipeline over three buffers: the caller fills one (reading source files into it),
/// one thread hashes the next and another writes the one before, in order, so reading, hashing and
/// writing (each about as slow as the others) overlap. Gzipped, the hashing stage compresses, hashes
/// and writes (the hash is of the stored bytes) and the writing stage has nothing to do.
/// `@unchecked Sendable` because a buffer belongs to exactly one stage at a time: the caller takes it
/// with `free[i].wait()`, and the writing stage gives it back with `free[i].signal()`; the hasher is
/// used by the hashing stage alone until `finish` has waited for every buffer.
final class ArchiveOutput: @unchecked Sendable {
    private let fd: Int32
    private let buffers: [UnsafeMutableRawBufferPointer]
    private let free: [DispatchSemaphore]
    private var current = 0
    private var buffer: UnsafeMutableRawBufferPointer { buffers[current] }
    private var used = 0
    private var hasher = SHA256()
    private let deflater: Deflater?
    private let hashing = DispatchQueue(label: "studio.tar.hash")
    private let writing = DispatchQueue(label: "studio.tar.write")
    private let failure = Mutex<Error?>(nil)
    /// Uncompressed tar bytes accepted so far (for record padding).
    private(set) var tarBytes: Int64 = 0
    /// Bytes written to the descriptor so far (by the stage that writes; read after `finish`).
    private(set) var storedBytes: Int64 = 0

    /// Asked before each buffer goes down the pipeline; true stops the archive with `TarError.interrupted`.
    private let interrupted: (@Sendable () -> Bool)?

    init(fd: Int32, compression: TarCompression, bufferSize: Int = 2 << 20, interrupted: (@Sendable () -> Bool)? = nil) throws {
        self.fd = fd
        self.interrupted = interrupted
        buffers = (0..<3).map { _ in .allocate(byteCount: bufferSize, alignment: 4096) }
        free = buffers.map { _ in DispatchSemaphore(value: 1) }
        switch compression {
        case .none: deflater = nil
        case .gzip(let level): deflater = try Deflater(level: level, bufferSize: 1 << 20)
        }
        free[current].wait()
    }

    deinit {
        // The stages may still hold buffers when an error ended the archive early.
        waitForStages()
        free[current].signal()  // libdispatch traps if a semaphore dies below its initial value
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

    /// Hands the filled buffer to the pipeline and takes the next one (waiting until it is written).
    func flush() throws {
        guard used > 0 else { return }
        if let error = failure.withLock({ $0 }) { throw error }
        if let interrupted, interrupted() { throw TarError.interrupted }
        let index = current, count = used
        hashing.async { [self] in
            let pending = UnsafeRawBufferPointer(rebasing: buffers[index][0..<count])
            do {
                if let deflater {
                    try deflater.deflate(pending, finish: false) { try hashAndWrite($0) }
                    free[index].signal()
                    return
                }
                hasher.update(bufferPointer: pending)
            } catch {
                fail(error)
                free[index].signal()
                return
            }
            writing.async { [self] in
                do { try write(UnsafeRawBufferPointer(rebasing: buffers[index][0..<count])) } catch { fail(error) }
                free[index].signal()
            }
        }
        current = (current + 1) % buffers.count
        used = 0
        free[current].wait()
    }

    /// Flushes everything (and ends the gzip stream); returns the lowercase hex SHA-256 of the stored bytes.
    func finish() throws -> String {
        try flush()
        waitForStages()
        if let error = failure.withLock({ $0 }) { throw error }
        if let deflater { try deflater.deflate(UnsafeRawBufferPointer(start: nil, count: 0), finish: true) { try hashAndWrite($0) } }
        return hasher.finalize().map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
        }.joined()
    }

    /// Waits until the stages hold no buffer (every one but the caller's is free), leaving them free.
    private func waitForStages() {
        for index in buffers.indices where index != current {
            free[index].wait()
            free[index].signal()
        }
    }

    private func fail(_ error: Error) {
        failure.withLock { if $0 == nil { $0 = error } }
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
