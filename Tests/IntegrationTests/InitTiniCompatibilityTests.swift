import XCTest
import Glibc
import StudioInit

/// `studio init` as tini's drop-in, where tini's own suite (scripts/tini-tests.sh) checks behaviour
/// our other tests do not: `-w`, and the signal state the command inherits.
final class InitTiniCompatibilityTests: StudioInitTestCase {
    /// tini -w: one warning per reaped process other than the command, with tini's words.
    func testWarnOnReapLogsEachReapedZombieButNotTheCommand() async throws {
        let orphanFile = directory.file("orphan")
        // The orphan outlives its parent, the middle shell, by waiting until that shell is gone
        // (reaped by the main shell): only then does it exit, so it is the init's child by then (a
        // subreaper when not PID 1) and the middle shell can never have reaped it itself.
        let orphanScript = directory.file("orphan.sh")
        XCTAssertTrue(FileManager.default.createFile(
            atPath: orphanScript, contents: Data("while kill -0 \"$1\" 2>/dev/null; do sleep 0.01; done\n".utf8)))
        // `kill -0` succeeds on a zombie: the main shell's loop ends only once the init reaped the orphan.
        let script = "sh -c 'sh \(orphanScript) $$ & echo $! > \(orphanFile)'; "
            + "o=$(cat \(orphanFile)); while kill -0 $o 2>/dev/null; do sleep 0.02; done; exit 3"
        let run = try plain(["-w", "sh", "-c", script])
        let status = await run.wait(timeout: 10)
        XCTAssertEqual(status, .exited(3), run.standardError)
        let orphan = (directory.read("orphan") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertFalse(orphan.isEmpty)
        XCTAssertEqual(run.standardError, "studio init: warning: Reaped zombie process with pid=\(orphan)\n",
                       "exactly one warning, for the orphan (the command itself is not a zombie)")
    }

    /// The command starts with the mask and the ignored signals of whoever started the init, as with
    /// tini and as it would without an init; the init itself blocks everything, but not for it.
    func testCommandKeepsTheCallersBlockedAndIgnoredSignals() async throws {
        let d = directory!
        // The caller: a process that ignores some signals and blocks others (tini's sigconf test
        // picks these: some the init forwards, some it leaves alone), records its own state and
        // execs the init. Python also ignores PIPE and XFSZ itself; they must come through as well.
        let caller = """
            import os, signal, sys
            for number in (signal.SIGTTOU, signal.SIGSEGV, signal.SIGINT):
                signal.signal(number, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTTIN, signal.SIGILL, signal.SIGTERM})
            with open('\(d.file("caller"))', 'w') as out:
                out.writelines(l for l in open('/proc/self/status') if l.startswith(('SigBlk', 'SigIgn')))
            os.execv(sys.argv[1], sys.argv[1:])
            """
        // cat, as in tini's test: no shell between (it may change its children's mask), and not grep
        // (GNU grep installs a SIGSEGV handler of its own, which replaces the inherited SIG_IGN).
        let run = try SupervisedRun(["/usr/bin/python3", "-c", caller, studio, "init", "cat", "/proc/self/status"], in: d)
        let status = await run.wait(timeout: 10)
        XCTAssertEqual(status, .exited(0), run.standardError)

        let expected = d.read("caller") ?? ""
        let blocked = try XCTUnwrap(Self.bits("SigBlk", in: expected))
        let ignored = try XCTUnwrap(Self.bits("SigIgn", in: expected))
        for signal in [SIGTTIN, SIGILL, SIGTERM] { XCTAssertNotEqual(blocked & (1 << (signal - 1)), 0, "caller blocks \(signal)") }
        for signal in [SIGTTOU, SIGSEGV, SIGINT] { XCTAssertNotEqual(ignored & (1 << (signal - 1)), 0, "caller ignores \(signal)") }
        let command = run.standardOutput.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { $0.hasPrefix("SigBlk") || $0.hasPrefix("SigIgn") }.map { $0 + "\n" }.joined()
        XCTAssertEqual(command, expected, "the command's SigBlk/SigIgn must be the caller's")
    }

    /// A `SigBlk:`/`SigIgn:` line of /proc/PID/status as bits.
    private static func bits(_ field: String, in status: String) -> UInt64? {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }) else { return nil }
        return UInt64(line.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces), radix: 16)
    }
}
