#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioStorage
import XCTest

/// A scratch directory under the system temp dir, removed by `remove()`.
struct Scratch {
    let path: String

    init() throws {
        var template = Array("\(FileManager.default.temporaryDirectory.path)/studio-storage-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw TestFailure("mkdtemp failed: \(errno)")
        }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func remove() {
        _ = try? runProcess(["/bin/chmod", "-R", "u+rwx", path])
        try? FileManager.default.removeItem(atPath: path)
    }

    /// `path/relative`.
    func at(_ relative: String) -> String { "\(path)/\(relative)" }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a program (no shell), returning its exit status and combined stdout+stderr.
@discardableResult
func runProcess(_ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String) {
    var pipeFDs: [Int32] = [0, 0]
    guard pipe(&pipeFDs) == 0 else { throw TestFailure("pipe failed") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
    posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 2)
    posix_spawn_file_actions_addclose(&actions, pipeFDs[0])
    let argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
    close(pipeFDs[1])
    guard spawned == 0 else {
        close(pipeFDs[0])
        throw TestFailure("cannot run \(arguments[0]): \(spawned)")
    }
    var output = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let got = read(pipeFDs[0], &chunk, chunk.count)
        if got <= 0 { break }
        output += chunk[0..<got]
    }
    close(pipeFDs[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return (exitCode, String(decoding: output, as: UTF8.self))
}

/// Runs a Python 3 script, failing the test when it exits non-zero; returns its output.
@discardableResult
func python(_ script: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let result = try runProcess(["python3", "-c", script])
    XCTAssertEqual(result.status, 0, "python3 failed: \(result.output)", file: file, line: line)
    return result.output
}

func writeFile(_ path: String, _ contents: String) throws {
    try writeBytes(path, Array(contents.utf8))
}

func writeBytes(_ path: String, _ bytes: [UInt8]) throws {
    let parent = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
    if !parent.isEmpty { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func readBytes(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

func readText(_ path: String) throws -> String {
    String(decoding: try readBytes(path), as: UTF8.self)
}

func lstatOrNil(_ path: String) -> stat? {
    var st = stat()
    return lstat(path, &st) == 0 ? st : nil
}

func fileExists(_ path: String) -> Bool { lstatOrNil(path) != nil }

func symlinkTarget(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink(path, &buffer, buffer.count)
    guard count >= 0 else { return nil }
    return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Deterministic pseudo-random bytes (content for big files).
func patternBytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
    var state = seed &* 0x9E3779B97F4A7C15 | 1
    var bytes = [UInt8](repeating: 0, count: count)
    for index in 0..<count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        bytes[index] = UInt8(truncatingIfNeeded: state)
    }
    return bytes
}

/// Lists every entry below `root` as relative paths with a kind letter: `d name`, `f name`, `l name -> target`.
func tree(_ root: String) throws -> [String] {
    var result: [String] = []
    func walk(_ relative: String) throws {
        let directory = relative.isEmpty ? root : "\(root)/\(relative)"
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            let child = relative.isEmpty ? name : "\(relative)/\(name)"
            guard let st = lstatOrNil("\(root)/\(child)") else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                result.append("d \(child)")
                try walk(child)
            case S_IFLNK: result.append("l \(child) -> \(symlinkTarget("\(root)/\(child)") ?? "?")")
            default: result.append("f \(child)")
            }
        }
    }
    try walk("")
    return result.sorted()
}

/// What every listable store must do with `startAfter`: keys strictly after it, nested ones only when
/// recursive, and a start that is not itself a key.
func assertListingStartsAfterAKey(_ store: any ListableObjectStore, file: StaticString = #filePath, line: UInt = #line) async throws {
    for key in ["p/a", "p/b", "p/c", "p/c/x", "p/d", "q/a"] { try await store.put(key, Data(key.utf8)) }
    let after = try await store.listObjects(prefix: "p/", recursive: true, startAfter: "p/b")
    XCTAssertEqual(after.map(\.key), ["p/c", "p/c/x", "p/d"], file: file, line: line)
    let records = try await store.listObjects(prefix: "p/", recursive: false, startAfter: "p/b")
    XCTAssertEqual(records.map(\.key), ["p/c", "p/d"], "nested keys are left out", file: file, line: line)
    let between = try await store.listObjects(prefix: "p/", recursive: true, startAfter: "p/bb")
    XCTAssertEqual(between.map(\.key), ["p/c", "p/c/x", "p/d"], "the start need not be a key", file: file, line: line)
    let none = try await store.listObjects(prefix: "p/", recursive: true, startAfter: "p/d")
    XCTAssertEqual(none, [], file: file, line: line)
}

/// Ranged reads on every store: the bytes asked for, clamped at the object's end, none past it, nil
/// for a missing key.
func assertRangedReads(_ store: any ObjectStore, file: StaticString = #filePath, line: UInt = #line) async throws {
    let bytes = Data((0..<10_000).map { UInt8($0 % 251) })
    try await store.put("ranged/object", bytes)
    let middle = try await store.get("ranged/object", range: 1000..<1100)
    XCTAssertEqual(middle, bytes.subdata(in: 1000..<1100), file: file, line: line)
    let pastTheEnd = try await store.get("ranged/object", range: 9_990..<20_000)
    XCTAssertEqual(pastTheEnd, bytes.subdata(in: 9_990..<10_000), "clamped at the end", file: file, line: line)
    let beyond = try await store.get("ranged/object", range: 10_000..<10_100)
    XCTAssertEqual(beyond, Data(), "nothing past the end", file: file, line: line)
    let missing = try await store.get("ranged/missing", range: 0..<10)
    XCTAssertNil(missing, file: file, line: line)
}
