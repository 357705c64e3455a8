import Glibc

/// Copies an experiment's merged stdout and stderr, byte for byte, to the worker's own stdout and
/// to the experiment's `output` file as it arrives. Writes are unbuffered `write(2)`s, so whatever
/// the pump has read is already in the file when a checkpoint uploads it.
final class OutputPump: Sendable {
    /// The write end to hand to the experiment as its stdout and stderr.
    let writeEnd: Int32
    private let readEnd: Int32
    private let outputFile: Int32
    private let echo: Int32?

    /// Opens the pipe and the output file (appending, so a rerun after redelivery keeps earlier output).
    init(outputPath: String, echoTo echo: Int32? = STDOUT_FILENO) throws {
        var fds: [Int32] = [0, 0]
        guard makePipe(&fds) else { throw WorkerError("cannot create the output pipe: \(String(cString: strerror(errno)))") }
        let file = open(outputPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard file >= 0 else {
            close(fds[0]); close(fds[1])
            throw WorkerError("cannot open \(outputPath) for the experiment's output: \(String(cString: strerror(errno)))")
        }
        readEnd = fds[0]
        writeEnd = fds[1]
        outputFile = file
        self.echo = echo
    }

    /// Pumps until every writer has closed the pipe; returns the number of bytes passed through.
    /// Call `closeWriteEnd()` once the experiment has been spawned, or EOF never comes.
    func run() async -> Int {
        await BlockingThread.run { [readEnd, outputFile, echo] in
            let size = 1 << 16
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
            defer { buffer.deallocate(); close(readEnd); close(outputFile) }
            var total = 0
            while true {
                let count = read(readEnd, buffer, size)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                writeAll(outputFile, buffer, count)
                if let echo { writeAll(echo, buffer, count) }
                total += count
            }
            return total
        }
    }

    /// Closes the worker's copy of the write end (the experiment keeps its own).
    func closeWriteEnd() { close(writeEnd) }
}

/// Writes the whole buffer, retrying short writes and EINTR; gives up silently on a dead reader
/// (a closed worker stdout must not stop the experiment's output reaching its file).
func writeAll(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) {
    var offset = 0
    while offset < count {
        let written = write(fd, buffer + offset, count - offset)
        if written < 0 {
            if errno == EINTR || errno == EAGAIN { continue }
            return
        }
        offset += written
    }
}

/// A pipe whose ends are close-on-exec, so no other child inherits them (an inherited write end
/// would keep the reader from ever seeing end-of-file).
func makePipe(_ fds: inout [Int32]) -> Bool {
    guard pipe(&fds) == 0 else { return false }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return true
}
