import CZlib
import Glibc

/// A buffered byte stream over an archive file descriptor, gunzipping on the fly when the data starts with the
/// gzip magic bytes. Memory is constant: one decompressed buffer plus, for gzip, one compressed buffer.
final class ArchiveInput {
    let fd: Int32
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var inflater: Inflater?
    private var sourceEnded = false
    /// Decompressed bytes handed out so far: the offset of the next byte, for error messages.
    private(set) var position: Int64 = 0
    /// Whether the fd is an uncompressed regular file, so content can go kernel-side with copy_file_range.
    private var canCopyInKernel: Bool

    init(fd: Int32, bufferSize: Int = 1 << 20) throws {
        self.fd = fd
        buffer = .allocate(byteCount: bufferSize, alignment: 4096)
        var st = stat()
        canCopyInKernel = fstat(fd, &st) == 0 && Posix.isRegular(st.st_mode)
        // Sniff the gzip magic from the first read.
        // A pipe may deliver a single byte first: the magic needs two.
        var first = try Posix.read(fd, buffer.baseAddress!, bufferSize, what: "the tar archive")
        while first == 1 {
            let more = try Posix.read(fd, buffer.baseAddress! + 1, bufferSize - 1, what: "the tar archive")
            if more == 0 { break }
            first += more
        }
        if first >= 2 && buffer[0] == 0x1f && buffer[1] == 0x8b {
            let inflater = try Inflater(bufferSize: bufferSize)
            inflater.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<first]))
            self.inflater = inflater
            canCopyInKernel = false
        } else {
            end = first
            sourceEnded = first == 0
        }
    }

    deinit {
        buffer.deallocate()
    }

    /// Bytes buffered and not yet consumed.
    var available: Int { end - start }

    /// Refills the buffer (keeping unconsumed bytes) until at least `count` bytes are available; false at EOF.
    func ensure(_ count: Int) throws -> Bool {
        precondition(count <= buffer.count)
        if available >= count { return true }
        if start > 0 {
            if available > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + start, available) }
            end = available
            start = 0
        }
        while end < count {
            let got = try readMore(into: buffer.baseAddress! + end, count: buffer.count - end)
            if got == 0 { return false }
            end += got
        }
        return true
    }

    /// The next `count` bytes (valid until the next call), after `ensure(count)` returned true.
    func peek(_ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: buffer.baseAddress! + start, count: count)
    }

    /// Consumes `count` buffered bytes.
    func consume(_ count: Int) {
        precondition(count <= available)
        start += count
        position += Int64(count)
    }

    /// Moves `count` bytes to `out` (or drops them when `out` is nil); false when the archive ends first.
    func transfer(_ count: Int64, to out: Int32?, what: @autoclosure () -> String) throws -> Bool {
        var remaining = count
        if remaining > 0 && available > 0 {
            let chunk = Int(min(Int64(available), remaining))
            if let out { try Posix.writeAll(out, buffer.baseAddress! + start, chunk, what: what()) }
            consume(chunk)
            remaining -= Int64(chunk)
        }
        if remaining > 0 && canCopyInKernel {
            remaining = try transferInKernel(remaining, to: out, what: what())
        }
        while remaining > 0 {
            start = 0
            end = 0
            let got = try readMore(into: buffer.baseAddress!, count: buffer.count)
            if got == 0 { return false }
            end = got
            let chunk = Int(min(Int64(got), remaining))
            if let out { try Posix.writeAll(out, buffer.baseAddress!, chunk, what: what()) }
            consume(chunk)
            remaining -= Int64(chunk)
        }
        return true
    }

    /// Skips or copies with the kernel doing the work; returns what is left for the read/write fallback.
    private func transferInKernel(_ count: Int64, to out: Int32?, what: @autoclosure () -> String) throws -> Int64 {
        var remaining = count
        guard let out else {
            // Skipping: seek, but never past the end, so truncation is still noticed by the next read.
            var st = stat()
            let here = lseek(fd, 0, SEEK_CUR)
            guard here >= 0, fstat(fd, &st) == 0 else { return remaining }
            let step = min(remaining, Int64(st.st_size) - Int64(here))
            if step > 0, lseek(fd, off_t(step), SEEK_CUR) >= 0 {
                position += step
                remaining -= step
            }
            return remaining
        }
        while remaining > 0 {
            let n = czlib_copy_file_range(fd, out, Int(min(remaining, 1 << 30)))
            if n > 0 {
                position += Int64(n)
                remaining -= Int64(n)
                continue
            }
            if n == 0 { break }  // end of archive: the fallback reports truncation
            if errno == EINTR { continue }
            if errno == ENOSPC || errno == EIO || errno == EFBIG || errno == EDQUOT {
                throw StorageError("cannot write \(what()): \(Posix.message(errno))")
            }
            // EXDEV, EINVAL, ENOSYS, EOPNOTSUPP...: this pair of files cannot; use read/write from now on.
            canCopyInKernel = false
            break
        }
        return remaining
    }

    /// Reads decompressed bytes from the source; 0 at the end of the data.
    private func readMore(into destination: UnsafeMutableRawPointer, count: Int) throws -> Int {
        if let inflater {
            return try inflater.inflate(into: destination, count: count, source: fd)
        }
        if sourceEnded { return 0 }
        let got = try Posix.read(fd, destination, count, what: "the tar archive")
        if got == 0 { sourceEnded = true }
        return got
    }
}
