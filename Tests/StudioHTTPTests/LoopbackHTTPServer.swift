import Glibc
import Synchronization

/// A one-thread HTTP/1.1 server on 127.0.0.1 for tests: each connection reads one request head, writes
/// the raw bytes `respond` returns for it (the request's number from 1 and its head), and closes. Raw bytes,
/// so a test can send a body shorter than its Content-Length.
final class LoopbackHTTPServer: Sendable {
    let port: Int
    private let listener: Int32
    private let served = Locked(0)

    var requestCount: Int { served.value }

    init(_ respond: @escaping @Sendable (_ number: Int, _ head: String) -> [UInt8]) throws {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        port = try Self.bindLoopback(listener)
        guard listen(listener, 16) == 0 else { throw LoopbackError("listen: \(errno)") }
        let fd = listener
        let counter = served
        try Self.startThread {
            while true {
                let connection = accept(fd, nil, nil)
                if connection < 0 { if errno == EINTR { continue } else { return } }
                let head = Self.readHead(connection)
                let number = counter.update { $0 += 1; return $0 }
                let reply = respond(number, head)
                reply.withUnsafeBytes { _ = send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                shutdown(connection, Int32(SHUT_RDWR))
                close(connection)
            }
        }
    }

    private static func startThread(_ body: @escaping @Sendable () -> Void) throws {
        final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
        var thread = pthread_t()
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let started = pthread_create(&thread, nil, { raw in
            Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, box)
        guard started == 0 else { throw LoopbackError("pthread_create: \(started)") }
        pthread_detach(thread)
    }

    func stop() { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }

    var url: String { "http://127.0.0.1:\(port)" }

    /// A port nothing listens on: bound, then released, so a connect to it is refused.
    static func refusedPort() throws -> Int { try LoopbackPort.free() }

    /// A whole response with `body` and a matching Content-Length.
    static func response(_ status: Int, _ body: String, headers: [String] = []) -> [UInt8] {
        let head = (["HTTP/1.1 \(status) X", "Content-Length: \(body.utf8.count)", "Connection: close"] + headers)
            .joined(separator: "\r\n")
        return Array((head + "\r\n\r\n" + body).utf8)
    }

    /// Binds `fd` to a free loopback port (LoopbackPort's, taken at once) and returns it.
    private static func bindLoopback(_ fd: Int32) throws -> Int {
        let port = try LoopbackPort.free()
        var address = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: in_port_t(UInt16(port).bigEndian),
                                  sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw LoopbackError("bind 127.0.0.1:\(port): errno \(errno)") }
        return port
    }

    private static func readHead(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !bytes.suffix(4).elementsEqual(Array("\r\n\r\n".utf8)) && bytes.count < 1 << 16 {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 1, 0) }
            if count <= 0 { break }
            bytes.append(buffer[0])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

struct LoopbackError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A value behind a lock, shareable between the server's thread and the test.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value { mutex.withLock { $0 } }
    @discardableResult
    func update<T: Sendable>(_ change: (inout sending Value) -> sending T) -> T { mutex.withLock { change(&$0) } }
}
