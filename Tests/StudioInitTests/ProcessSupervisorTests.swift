import XCTest
import Glibc
@testable import StudioInit

final class ProcessSupervisorTests: XCTestCase {
    private let supervisor = ProcessSupervisor.shared
    private var directory = ""

    override func setUp() {
        super.setUp()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("supervisor-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        supervisor.start { _ in }
    }

    override func tearDown() {
        // Other suites in this process wait for their own children with waitpid.
        supervisor.relinquishInitDuties()
        try? FileManager.default.removeItem(atPath: directory)
        super.tearDown()
    }

    private func shell(_ script: String, environment: [String: String] = ["PATH": "/usr/bin:/bin"]) throws -> Int32 {
        try supervisor.spawn(SpawnRequest(arguments: ["/bin/sh", "-c", script], environment: environment))
    }

    private func waitUntil(_ what: String, timeout: Double = 5, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { XCTFail("timed out waiting for \(what)"); return }
            usleep(10_000)
        }
    }

    func testExitCodeIsReported() async throws {
        let pid = try shell("exit 3")
        let status = await supervisor.waitForExit(pid)
        XCTAssertEqual(status, .exited(3))
    }

    func testSignalDeathIsReported() async throws {
        let pid = try shell("kill -USR1 $$; sleep 5")
        let status = await supervisor.waitForExit(pid)
        XCTAssertEqual(status, .signaled(SIGUSR1))
        XCTAssertEqual(status.shellCode, 128 + SIGUSR1)
    }

    func testStatusIsKeptUntilTaken() async throws {
        let pid = try shell("exit 4")
        waitUntil("the child to be reaped") { ProcessTree.readStat(pid) == nil }
        let status = await supervisor.waitForExit(pid)
        XCTAssertEqual(status, .exited(4))
    }

    func testChildRunsInItsOwnProcessGroupWithCleanSignals() async throws {
        let output = directory + "/out"
        let pid = try shell("grep -E '^Sig(Blk|Ign)' /proc/self/status > \(output); ps -o pgid= -p $$ >> \(output) 2>/dev/null || cat /proc/$$/stat >> \(output)")
        let status = await supervisor.waitForExit(pid)
        XCTAssertEqual(status, .exited(0))
        let text = try String(contentsOfFile: output, encoding: .utf8)
        XCTAssertTrue(text.contains("SigBlk:\t0000000000000000"), text)
        XCTAssertTrue(text.contains("SigIgn:\t0000000000000000"), text)
        XCTAssertTrue(text.contains("\(pid)"), "the child's pgid is its pid: \(text)")
    }

    func testCommandNotFoundIs127AndNotExecutableIs126() throws {
        XCTAssertThrowsError(try supervisor.spawn(SpawnRequest(arguments: ["no-such-command-xyz"], environment: ["PATH": "/bin"]))) {
            XCTAssertEqual(($0 as? SpawnError)?.exitCode, 127)
        }
        let script = directory + "/not-executable"
        XCTAssertTrue(FileManager.default.createFile(atPath: script, contents: Data("#!/bin/sh\n".utf8)))
        XCTAssertThrowsError(try supervisor.spawn(SpawnRequest(arguments: [script]))) {
            XCTAssertEqual(($0 as? SpawnError)?.exitCode, 126)
            XCTAssertTrue("\($0)".contains("cannot execute"), "\($0)")
        }
        XCTAssertThrowsError(try supervisor.spawn(SpawnRequest(arguments: ["/bin/true"], workingDirectory: directory + "/missing"))) {
            XCTAssertEqual(($0 as? SpawnError)?.stage, .workingDirectory)
        }
    }

    func testPathComesFromTheRequestEnvironmentAndStdioIsRedirected() async throws {
        let output = directory + "/out"
        let fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let pid = try supervisor.spawn(SpawnRequest(
            arguments: ["sh", "-c", "pwd; echo $GREETING"], environment: ["PATH": "/bin:/usr/bin", "GREETING": "hello"],
            workingDirectory: directory, stdout: fd))
        let status = await supervisor.waitForExit(pid)
        XCTAssertEqual(status, .exited(0))
        let text = try String(contentsOfFile: output, encoding: .utf8)
        XCTAssertEqual(text, "\(directory)\nhello\n")
    }

    func testOrphanIsReaped() async throws {
        let orphanFile = directory + "/orphan"
        let pid = try shell("sleep 0.3 & echo $! > \(orphanFile); exit 0")
        let status = await supervisor.waitForExit(pid)
        XCTAssertEqual(status, .exited(0))
        let orphan = try XCTUnwrap(pid_t(String(contentsOfFile: orphanFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // It was reparented to us (subreaper); once it exits it must not linger as a zombie.
        waitUntil("the orphan to be reaped") { ProcessTree.readStat(orphan) == nil }
    }

    func testTerminateLetsACooperativeChildFinish() async throws {
        let ready = directory + "/ready"
        let pid = try shell("trap 'exit 7' TERM; touch \(ready); while :; do sleep 0.05; done")
        waitUntil("the child to be ready") { FileManager.default.fileExists(atPath: ready) }
        let status = await supervisor.terminate(pid, grace: .seconds(5))
        XCTAssertEqual(status, .exited(7))
    }

    func testTerminateEscalatesToSigkillForTheWholeTree() async throws {
        let ready = directory + "/ready"
        let grandchildFile = directory + "/grandchild"
        let pid = try shell("trap '' TERM; sh -c 'trap \"\" TERM; setsid sleep 60 & echo $! > \(grandchildFile); wait' & touch \(ready); wait")
        waitUntil("the tree to be ready") {
            FileManager.default.fileExists(atPath: ready) && ((try? String(contentsOfFile: grandchildFile, encoding: .utf8))?.hasSuffix("\n") ?? false)
        }
        let grandchild = try XCTUnwrap(pid_t(String(contentsOfFile: grandchildFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let started = Date()
        let status = await supervisor.terminate(pid, grace: .milliseconds(300))
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(status, .signaled(SIGKILL))
        XCTAssertGreaterThanOrEqual(elapsed, 0.3)
        XCTAssertLessThan(elapsed, 3)
        waitUntil("the grandchild in its own session to be killed and reaped") { ProcessTree.readStat(grandchild) == nil }
    }
}
