#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioQueues
import Synchronization
import XCTest

/// A fresh directory under the system temp directory, removed by `remove()`.
struct TemporaryHome {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        var template = Array((base + "/studio-queue-test-XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let created else { throw QueueTestFailure("mkdtemp failed: errno \(errno)") }
        path = String(cString: created)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

struct QueueTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a program (no shell) and returns its exit status.
func runProcess(_ arguments: [String]) throws -> Int32 {
    var pid: pid_t = 0
    let cArguments = arguments.map { strdup($0) } + [nil]
    defer { cArguments.forEach { free($0) } }
    let result = posix_spawn(&pid, arguments[0], nil, nil, cArguments, environ)
    guard result == 0 else { throw QueueTestFailure("cannot start \(arguments[0]): errno \(result)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        guard errno == EINTR else { throw QueueTestFailure("waitpid failed: errno \(errno)") }
    }
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}

/// Writes a file directly (not atomically), like a tool that is not the queue would.
func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
        throw QueueTestFailure("cannot write \(path)")
    }
}

/// The names in a directory, sorted.
func directoryNames(_ path: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: path).sorted()
}

/// Seconds since an earlier instant.
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// Fails the test unless `body` throws a `QueueError` with `code`.
func assertQueueError<T>(_ code: QueueError.Code, file: StaticString = #filePath, line: UInt = #line,
                         _ body: () async throws -> T) async {
    do {
        _ = try await body()
        XCTFail("expected a QueueError(\(code))", file: file, line: line)
    } catch let error as QueueError {
        XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
        XCTAssertFalse(error.description.isEmpty, file: file, line: line)
    } catch {
        XCTFail("expected a QueueError(\(code)), got \(error)", file: file, line: line)
    }
}

/// A message body from text.
func body(_ text: String) -> Data { Data(text.utf8) }

/// Text from a message body.
func text(_ data: Data?) -> String? { data.map { String(decoding: $0, as: UTF8.self) } }

/// The message a receive returned; fails the test when it returned none.
func received(_ message: QueueMessage?, file: StaticString = #filePath, line: UInt = #line) throws -> QueueMessage {
    try XCTUnwrap(message, "expected a message", file: file, line: line)
}

/// A value shared by concurrent test tasks.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result { mutex.withLock { body(&$0) } }
}
