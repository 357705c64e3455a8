import XCTest
import Glibc
import StudioInit

/// Shared fixture for integration tests: finds the built `studio` binary and runs it, as PID 1 of a
/// fresh PID namespace (`unshare --pid --fork --mount-proc --kill-child`) or as a plain process.
/// Every process is spawned through `ProcessSupervisor.shared`, the one reaper of the test process.
enum StudioBinary {
    /// The binary under test: the shipped static build when STUDIO_STATIC_BINARY names it (as `make test`
    /// does), else the `studio` next to the test bundle (`.build/<triple>/debug/`), found via /proc/self/exe.
    static func path() throws -> String {
        if let shipped = ProcessInfo.processInfo.environment["STUDIO_STATIC_BINARY"], access(shipped, X_OK) == 0 {
            return shipped
        }
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { throw XCTSkip("cannot read /proc/self/exe") }
        let executable = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var directory = executable
        // The bundle may be a directory (…/studioPackageTests.xctest/…) or a file; walk up to the build dir.
        while !directory.isEmpty {
            directory = String(directory[..<(directory.lastIndex(of: "/") ?? directory.startIndex)])
            let candidate = directory + "/studio"
            if access(candidate, X_OK) == 0 { return candidate }
            if directory.hasSuffix("/.build") { break }
        }
        throw XCTSkip("the studio binary was not found next to \(executable); run `swift build --product studio` first")
    }
}

/// A temporary directory removed on `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("studio-it-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func read(_ name: String) -> String? { try? String(contentsOfFile: file(name), encoding: .utf8) }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// One run of a command under the supervisor, with stdout and stderr captured in files.
final class SupervisedRun: @unchecked Sendable {
    /// The spawned pid (unshare's when in a namespace).
    let pid: pid_t
    let started = Date()
    private let stdoutPath: String
    private let stderrPath: String

    /// Spawns `arguments`; stdin from `stdinPath` (else /dev/null).
    init(_ arguments: [String], in directory: TemporaryDirectory, stdinPath: String? = nil,
         environment: [String: String] = ProcessEnvironment.current, workingDirectory: String? = nil) throws {
        let tag = UUID().uuidString.prefix(8)
        stdoutPath = directory.file("stdout-\(tag)")
        stderrPath = directory.file("stderr-\(tag)")
        let input = open(stdinPath ?? "/dev/null", O_RDONLY | O_CLOEXEC)
        let output = open(stdoutPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        let errors = open(stderrPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        defer { close(input); close(output); close(errors) }
        pid = try ProcessSupervisor.shared.spawn(SpawnRequest(
            arguments: arguments, environment: environment, workingDirectory: workingDirectory,
            stdin: input, stdout: output, stderr: errors))
    }

    /// Waits for the exit; after `timeout` seconds SIGKILLs it (unshare --kill-child then kills the
    /// namespace) and fails the test.
    func wait(timeout: Double = 20, file: StaticString = #filePath, line: UInt = #line) async -> ExitStatus {
        let pid = self.pid
        let watchdog = Task {
            try await Task.sleep(for: .milliseconds(Int(timeout * 1000)))
            kill(pid, SIGKILL)
            return true
        }
        let status = await ProcessSupervisor.shared.waitForExit(pid)
        watchdog.cancel()
        if (try? await watchdog.value) == true {
            XCTFail("timed out after \(timeout) s; stderr: \(standardError)", file: file, line: line)
        }
        return status
    }

    var standardOutput: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var standardError: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
    var standardOutputBytes: [UInt8] { Array((FileManager.default.contents(atPath: stdoutPath)) ?? Data()) }

    /// The host pid of the namespace's PID 1: the child of `unshare` (`pgrep -P`).
    func namespaceInitPID(timeout: Double = 5) -> pid_t? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let child = ProcessTree.snapshot().processes.first(where: { $0.parentPID == pid && $0.state != "Z" }) {
                return child.pid
            }
            usleep(5_000)
        }
        return nil
    }
}

/// The test process's environment as a dictionary.
enum ProcessEnvironment {
    static var current: [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return result
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes; false on timeout.
func eventually(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() > deadline { return false }
        usleep(10_000)
    }
    return true
}

/// Base class: a temp dir and the binary per test; `pid1(...)` runs `studio init` as PID 1.
class StudioInitTestCase: XCTestCase {
    var directory: TemporaryDirectory!
    var studio = ""

    override func setUp() async throws {
        try await super.setUp()
        studio = try StudioBinary.path()
        directory = try TemporaryDirectory()
        // Spawning starts the supervisor's waiter; it does not take on init duties in the test process.
    }

    override func tearDown() async throws {
        directory?.remove()
        try await super.tearDown()
    }

    /// `unshare --pid --fork --mount-proc --kill-child <studio> init <arguments>`.
    func pid1(_ arguments: [String], stdinPath: String? = nil) throws -> SupervisedRun {
        try SupervisedRun(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", studio, "init"] + arguments,
                          in: directory, stdinPath: stdinPath)
    }

    /// `<studio> init <arguments>` as an ordinary (not PID 1) process.
    func plain(_ arguments: [String], workingDirectory: String? = nil) throws -> SupervisedRun {
        try SupervisedRun([studio, "init"] + arguments, in: directory, workingDirectory: workingDirectory)
    }

    /// Runs as PID 1 and returns the exit status.
    func runPID1(_ arguments: [String], timeout: Double = 20) async throws -> (ExitStatus, SupervisedRun) {
        let run = try pid1(arguments)
        return (await run.wait(timeout: timeout), run)
    }

    /// Waits for a file the workload writes when its handlers are installed.
    func waitForReady(_ name: String = "ready", timeout: Double = 10) throws {
        guard eventually(timeout: timeout, { directory.exists(name) }) else {
            XCTFail("the workload never wrote \(name)")
            throw NotReady()
        }
    }
}

/// The workload never signalled readiness.
struct NotReady: Error {}
