import XCTest
import Glibc
import StudioInit

/// `studio init` as PID 1: the exit-status contract.
final class InitExitStatusTests: StudioInitTestCase {
    func testExitCodesArePropagated() async throws {
        for code in [0, 3, 255] {
            let (status, _) = try await runPID1(["sh", "-c", "exit \(code)"])
            XCTAssertEqual(status, .exited(Int32(code)))
        }
    }

    func testSignalDeathBecomes128PlusN() async throws {
        let (usr1, _) = try await runPID1(["sh", "-c", "kill -USR1 $$; sleep 5"])
        XCTAssertEqual(usr1, .exited(138))
        let (killed, _) = try await runPID1(["--", "sh", "-c", "kill -KILL $$; sleep 5"])
        XCTAssertEqual(killed, .exited(137))
    }

    func testExecFailuresUseShellCodesWithAMessage() async throws {
        let (missing, missingRun) = try await runPID1(["no-such-command-xyz"])
        XCTAssertEqual(missing, .exited(127))
        XCTAssertTrue(missingRun.standardError.contains("no-such-command-xyz: command not found"), missingRun.standardError)
        XCTAssertEqual(missingRun.standardError.split(separator: "\n").count, 1)

        let script = directory.file("not-executable")
        XCTAssertTrue(FileManager.default.createFile(atPath: script, contents: Data("#!/bin/sh\nexit 0\n".utf8)))
        let (notExecutable, notExecutableRun) = try await runPID1([script])
        XCTAssertEqual(notExecutable, .exited(126))
        XCTAssertTrue(notExecutableRun.standardError.contains("cannot execute"), notExecutableRun.standardError)
    }

    func testUsageErrorIs125() async throws {
        let (noCommand, _) = try await runPID1([])
        XCTAssertEqual(noCommand, .exited(125))
        let (badOption, run) = try await runPID1(["--no-such-option", "true"])
        XCTAssertEqual(badOption, .exited(125))
        XCTAssertTrue(run.standardError.contains("unknown option"), run.standardError)
    }

    func testRemappedExitCodesBecomeZero() async throws {
        let (remapped, _) = try await runPID1(["-e", "3", "-e", "4", "sh", "-c", "exit 4"])
        XCTAssertEqual(remapped, .exited(0))
        let (untouched, _) = try await runPID1(["-e", "3", "sh", "-c", "exit 5"])
        XCTAssertEqual(untouched, .exited(5))
        let (signal, _) = try await runPID1(["-e", "143", "sh", "-c", "kill -TERM $$; sleep 5"])
        XCTAssertEqual(signal, .exited(0))
    }

    func testStdinAndStdoutPassThroughUnchanged() async throws {
        var bytes = [UInt8](repeating: 0, count: 1 << 20)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        let input = directory.file("random")
        XCTAssertTrue(FileManager.default.createFile(atPath: input, contents: Data(bytes)))
        let run = try pid1(["cat"], stdinPath: input)
        let status = await run.wait()
        XCTAssertEqual(status, .exited(0))
        XCTAssertEqual(run.standardOutputBytes.count, bytes.count)
        XCTAssertTrue(run.standardOutputBytes == bytes, "1 MiB through stdin→cat→stdout changed")
    }

    func testLogFormatJSONEmitsOneEventPerStep() async throws {
        let (status, run) = try await runPID1(["--log-format", "json", "sh", "-c", "exit 2"])
        XCTAssertEqual(status, .exited(2))
        let lines = run.standardError.split(separator: "\n")
        for event in ["spawn", "reap", "exit"] {
            XCTAssertTrue(lines.contains { $0.hasPrefix("{") && $0.contains("\"event\":\"\(event)\"") }, run.standardError)
        }
        let (_, quiet) = try await runPID1(["sh", "-c", "exit 0"])
        XCTAssertEqual(quiet.standardError, "", "quiet by default")
    }
}
