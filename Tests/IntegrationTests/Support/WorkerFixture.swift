import Foundation
import Glibc
import XCTest
import StudioInit
import Synchronization

/// A sandbox for end-to-end tests of `studio run` → local queue → `studio remote-worker`: a temp
/// STUDIOML_HOME (whose default local store holds records and artifacts), a workspace for the
/// experiment's scripts, a scratch directory the scripts and the test share, and the built `studio`.
final class WorkerFixture {
    /// The sandbox root (canonical path, so paths compare equal to what processes see).
    let root: String
    /// `$STUDIOML_HOME` of every process started here.
    let home: String
    /// The directory `studio run` packs (its cwd).
    let workspace: String
    /// Files shared between the test and its experiments (ready files, counters).
    let scratch: String
    /// The `studio` binary SwiftPM built next to the test bundle.
    let studio: String
    /// The environment of every process started here; tests add to it.
    var environment: [String: String]

    private var started: [WorkerStudioProcess] = []

    /// The directory of the interpreter `python3` resolves to (found once per test run).
    private static let pythonDirectory: String? = {
        guard let process = try? WorkerStudioProcess.spawn(
            ["python3", "-c", "import os, sys; print(os.path.dirname(os.path.realpath(sys.executable)))"],
            environment: ProcessInfo.processInfo.environment, cwd: "/",
            outputDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("worker-python-\(UUID().uuidString)").path),
            process.waitForExit(within: 30) == 0 else { return nil }
        defer { try? FileManager.default.removeItem(atPath: (process.stdoutPath as NSString).deletingLastPathComponent) }
        let directory = String(decoding: process.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return directory.isEmpty ? nil : directory
    }()

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("worker-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        root = workerCanonicalPath(base)
        home = root + "/home"
        workspace = root + "/workspace"
        scratch = root + "/scratch"
        for directory in [home, workspace, scratch] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        studio = workerStudioExecutablePath()
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("STUDIOML_") && !$0.key.hasPrefix("PIP_") }
        environment["STUDIOML_HOME"] = home
        if let directory = WorkerFixture.pythonDirectory {
            // The real interpreter first: a pyenv shim costs half a second per start.
            environment["PATH"] = directory + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        }
        environment["E2E_SCRATCH"] = scratch
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        // pip must never reach the network: it fails at once against a closed local port.
        environment["PIP_INDEX_URL"] = "http://127.0.0.1:9/simple"
        // Never reach for a cloud metadata server from a test: only loopback is ours.
        environment["AWS_EC2_METADATA_DISABLED"] = "true"
        environment["GCE_METADATA_HOST"] = "127.0.0.1:9"
        environment["PIP_RETRIES"] = "0"
        environment["PIP_TIMEOUT"] = "1"
        environment["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        self.environment = environment
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: studio), "no studio binary at \(studio); run swift build first")
    }

    /// Kills every process of this sandbox still running (workers, and experiments orphaned by a
    /// killed worker, found by their STUDIOML_HOME), reaps ours, and removes the sandbox.
    func tearDown() {
        for process in started where process.isRunning { process.send(SIGKILL) }
        for pid in workerProcesses(withEnvironmentEntry: "STUDIOML_HOME=" + home) { kill(pid, SIGKILL) }
        for process in started { _ = process.waitForExit(within: 5) }
        try? FileManager.default.removeItem(atPath: root)
    }

    // MARK: - Files

    /// Writes `text` to `path` (relative paths are inside the workspace), creating its directory.
    func write(_ path: String, _ text: String) throws {
        let full = path.hasPrefix("/") ? path : workspace + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
    }

    /// A scratch file's path.
    func scratchPath(_ name: String) -> String { scratch + "/" + name }

    /// An experiment that counts its runs in `$E2E_SCRATCH/runs`; the first run writes `ready` (its pid) and
    /// waits forever (its SIGTERM handler writes `got-term` and exits 0); later runs finish at once.
    static let firstRunWaitsScript = """
        import os, signal, sys, time
        scratch = os.environ['E2E_SCRATCH']
        with open(os.path.join(scratch, 'runs'), 'a') as f:
            f.write('run\\n')
        runs = len(open(os.path.join(scratch, 'runs')).read().splitlines())
        print('run', runs, flush=True)
        if runs == 1:
            def on_term(number, frame):
                open(os.path.join(scratch, 'got-term'), 'w').write('TERM')
                sys.exit(0)
            signal.signal(signal.SIGTERM, on_term)
            with open(os.path.join(scratch, 'ready.tmp'), 'w') as f:
                f.write(str(os.getpid()))
            os.rename(os.path.join(scratch, 'ready.tmp'), os.path.join(scratch, 'ready'))
            while True:
                time.sleep(0.05)
        print('done', flush=True)
        """

    /// How many times `firstRunWaitsScript` has run.
    func runCount() -> Int { scratchText("runs")?.split(separator: "\n").count ?? 0 }

    /// A scratch file's text, or nil when it does not exist.
    func scratchText(_ name: String) -> String? {
        FileManager.default.contents(atPath: scratchPath(name)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The local queue's directory.
    func queueDirectory(_ name: String = "local") -> String { home + "/queue/" + name }

    /// The ready message files of a local queue (not leased, not hidden).
    func readyMessages(_ name: String = "local") -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: queueDirectory(name))) ?? [])
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
    }

    /// The leased message files of a local queue.
    func leasedMessages(_ name: String = "local") -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: queueDirectory(name) + "/.leased")) ?? [])
            .filter { $0.hasSuffix(".json") }
    }

    /// Where the default local store keeps object `key`.
    func storePath(_ key: String, store: String? = nil) -> String { (store ?? home + "/store") + "/" + key + "%obj" }

    /// The stored record's raw JSON text.
    func recordText(_ key: String, store: String? = nil) -> String? {
        FileManager.default.contents(atPath: storePath("experiments/" + key, store: store)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The stored record, parsed.
    func record(_ key: String, store: String? = nil) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: storePath("experiments/" + key, store: store)) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    /// The record's `status`, or nil.
    func status(_ key: String) -> String? { record(key)?["status"] as? String }

    /// The record's `info` object.
    func info(_ key: String) -> [String: Any] { record(key)?["info"] as? [String: Any] ?? [:] }

    /// The bytes of a single-file mutable artifact (`output`) stored as `experiments/<key>/<tag>.tar`.
    func fileArtifact(_ key: String, _ tag: String, store: String? = nil) throws -> Data? {
        let tar = storePath("experiments/\(key)/\(tag).tar", store: store)
        guard FileManager.default.fileExists(atPath: tar) else { return nil }
        let result = try run(["python3", "-c", """
            import sys, tarfile
            members = tarfile.open(sys.argv[1]).getmembers()
            assert len(members) == 1 and members[0].name == './' + sys.argv[2], [m.name for m in members]
            sys.stdout.buffer.write(tarfile.open(sys.argv[1]).extractfile(members[0]).read())
            """, tar, tag], executable: nil)
        XCTAssertEqual(result.code, 0, "cannot read \(tar): \(result.stderrText)")
        return result.stdout
    }

    // MARK: - Processes

    /// Starts `studio arguments…` (or any program with `executable: nil`, argv[0] looked up in PATH)
    /// in `cwd` (default: the workspace), stdout and stderr to files.
    @discardableResult
    func start(_ arguments: [String], cwd: String? = nil, environment extra: [String: String] = [:], executable: String? = "studio") throws -> WorkerStudioProcess {
        let argv = executable == nil ? arguments : [studio] + arguments
        let process = try WorkerStudioProcess.spawn(
            argv, environment: environment.merging(extra) { _, new in new }, cwd: cwd ?? workspace,
            outputDirectory: root + "/proc-\(started.count)")
        started.append(process)
        return process
    }

    /// Runs a command to completion (failing the test and killing it after `seconds`).
    func run(_ arguments: [String], cwd: String? = nil, environment extra: [String: String] = [:], executable: String? = "studio", within seconds: Double = 60,
             file: StaticString = #filePath, line: UInt = #line) throws -> WorkerStudioResult {
        let process = try start(arguments, cwd: cwd, environment: extra, executable: executable)
        guard let code = process.waitForExit(within: seconds) else {
            process.send(SIGKILL)
            _ = process.waitForExit(within: 5)
            XCTFail("\(arguments.prefix(3).joined(separator: " ")) still running after \(seconds) s; stderr: \(process.stderrText)", file: file, line: line)
            throw POSIXError(.ETIMEDOUT)
        }
        return WorkerStudioResult(code: code, stdout: process.stdout, stderrText: process.stderrText)
    }

    /// `studio run --queue QUEUE options… script args…` from the workspace; returns the key it prints.
    func submit(_ command: [String], options: [String] = [], queue: String = "local",
                file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try run(["run", "--queue", queue] + options + command, file: file, line: line)
        XCTAssertEqual(result.code, 0, "studio run failed: \(result.stderrText)", file: file, line: line)
        let key = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertFalse(key.isEmpty || key.contains("\n"), "studio run printed \(result.stdoutText.debugDescription), not one key", file: file, line: line)
        return key
    }

    /// `studio remote-worker --queue local --lease 3 --grace 2 --timeout 2 extra…`, run to its end.
    func work(_ extra: [String] = ["--single-run"], within seconds: Double = 60,
              file: StaticString = #filePath, line: UInt = #line) throws -> WorkerStudioResult {
        try run(workerArguments(extra), within: seconds, file: file, line: line)
    }

    /// The worker command line the tests use: short lease, grace and idle timeout, later options win.
    func workerArguments(_ extra: [String]) -> [String] {
        ["remote-worker", "--queue", "local", "--lease", "3", "--grace", "2", "--timeout", "2", "--pip", "never"] + extra
    }
}

/// What a finished process left.
struct WorkerStudioResult {
    var code: Int32
    var stdout: Data
    var stderrText: String
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
}

/// A process started through `ProcessSupervisor.shared` (the test process's one reaper: a plain
/// `waitpid` would race it), its stdout and stderr going to files.
final class WorkerStudioProcess: @unchecked Sendable {
    let pid: pid_t
    let stdoutPath: String
    let stderrPath: String
    private let status = Mutex<Int32?>(nil)
    var exitCode: Int32? { status.withLock { $0 } }

    private init(pid: pid_t, stdoutPath: String, stderrPath: String) {
        self.pid = pid
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
        Task {
            let exit = await ProcessSupervisor.shared.waitForExit(pid)
            self.status.withLock { $0 = exit.shellCode }
        }
    }

    /// Spawns with a clean signal state (nothing blocked, default dispositions) in `cwd`.
    static func spawn(_ argv: [String], environment: [String: String], cwd: String, outputDirectory: String) throws -> WorkerStudioProcess {
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        let stdoutPath = outputDirectory + "/stdout", stderrPath = outputDirectory + "/stderr"
        let input = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let output = open(stdoutPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        let errors = open(stderrPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        defer { [input, output, errors].filter { $0 >= 0 }.forEach { close($0) } }
        let pid = try ProcessSupervisor.shared.spawn(SpawnRequest(
            arguments: argv, environment: environment, workingDirectory: cwd,
            stdin: input, stdout: output, stderr: errors))
        return WorkerStudioProcess(pid: pid, stdoutPath: stdoutPath, stderrPath: stderrPath)
    }

    /// Whether it has not been reaped yet (and has not exited).
    var isRunning: Bool { exitCode == nil && !reap() }

    /// Polls until it exits; its shell-style exit code (128+N for signal N), or nil after `seconds`.
    func waitForExit(within seconds: Double) -> Int32? {
        _ = workerWaitUntil(seconds) { self.reap() }
        return exitCode
    }

    /// Sends `signal` if it is still running.
    func send(_ signal: Int32) {
        if exitCode == nil { kill(pid, signal) }
    }

    /// Everything it wrote to stdout so far.
    var stdout: Data { FileManager.default.contents(atPath: stdoutPath) ?? Data() }
    /// Everything it wrote to stderr so far.
    var stderrText: String { String(decoding: FileManager.default.contents(atPath: stderrPath) ?? Data(), as: UTF8.self) }

    private func reap() -> Bool { exitCode != nil }
}

/// Polls `condition` every 20 ms until it holds or `seconds` have passed; whether it held.
func workerWaitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// Pids of every process whose environment holds `entry` exactly (`NAME=value`).
private func workerProcesses(withEnvironmentEntry entry: String) -> [pid_t] {
    let needle = Data(entry.utf8)
    let own = getpid()
    return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { name -> pid_t? in
        guard let pid = pid_t(name), pid != own,
              let environ = FileManager.default.contents(atPath: "/proc/\(name)/environ") else { return nil }
        return environ.split(separator: 0).contains { Data($0) == needle } ? pid : nil
    }
}

/// The `studio` binary SwiftPM built next to this test bundle (.build/<triple>/debug/).
private func workerStudioExecutablePath() -> String {
    var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
    let length = buffer.withUnsafeMutableBufferPointer { pointer in
        pointer.withMemoryRebound(to: CChar.self) { readlink("/proc/self/exe", $0.baseAddress!, $0.count - 1) }
    }
    let executable = length > 0 ? String(decoding: buffer[0..<length], as: UTF8.self) : CommandLine.arguments[0]
    return (executable as NSString).deletingLastPathComponent + "/studio"
}

private func workerCanonicalPath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
}
