import XCTest
import Glibc
import StudioInit

/// `studio init` started by a caller that ignores SIGCHLD (SIG_IGN survives exec). With SIGCHLD
/// ignored the kernel reaps children itself and `waitpid` never sees their status, so the init
/// takes SIGCHLD back to the default for itself and gives its command the caller's SIG_IGN.
final class InitIgnoredSIGCHLDTests: StudioInitTestCase {
    /// Sets SIGCHLD to SIG_IGN, then execs argv[1...] (the init), as a parent that ignores it would.
    private static let ignoringCaller = """
        import os, signal, sys
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        os.execv(sys.argv[1], sys.argv[1:])
        """

    func testExitStatusIsPropagatedAsPID1AndAsAPlainProcess() async throws {
        let pid1 = try SupervisedRun(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
                                      "/usr/bin/python3", "-c", Self.ignoringCaller, studio, "init", "--", "sh", "-c", "exit 3"],
                                     in: directory)
        let pid1Status = await pid1.wait(timeout: 10)
        XCTAssertEqual(pid1Status, .exited(3), pid1.standardError)

        let plain = try SupervisedRun(["/usr/bin/python3", "-c", Self.ignoringCaller, studio, "init", "--", "sh", "-c", "exit 3"],
                                      in: directory)
        let plainStatus = await plain.wait(timeout: 10)
        XCTAssertEqual(plainStatus, .exited(3), plain.standardError)
        XCTAssertEqual(plain.standardError, "")
    }

    /// The command still starts with SIGCHLD ignored, as it would without an init (and with tini).
    func testCommandKeepsTheCallersIgnoredSIGCHLD() async throws {
        let run = try SupervisedRun(["/usr/bin/python3", "-c", Self.ignoringCaller, studio, "init", "cat", "/proc/self/status"],
                                    in: directory)
        let status = await run.wait(timeout: 10)
        XCTAssertEqual(status, .exited(0), run.standardError)
        let line = run.standardOutput.split(separator: "\n").first { $0.hasPrefix("SigIgn:") }
        let ignored = try XCTUnwrap(line.flatMap { UInt64($0.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) })
        XCTAssertNotEqual(ignored & (1 << (UInt64(SIGCHLD) - 1)), 0, "the command must inherit SIG_IGN for SIGCHLD")
    }

    /// An orphan adopted by the init is reaped by the init (tini's `-w` warning names it), not
    /// silently by the kernel, and the command's status still comes through.
    func testAdoptedOrphansAreReapedByTheInit() async throws {
        // The command (python, SIGCHLD ignored as inherited): a middle process forks the orphan and
        // exits; the orphan waits until its first parent is gone, then exits as the init's child.
        // The command waits until the orphan is gone (a zombie still answers kill 0), then exits 3.
        let command = """
            import os, time
            if os.fork() == 0:
                middle = os.getpid()
                if os.fork() == 0:
                    open('\(directory.file("orphan"))', 'w').write(str(os.getpid()))
                    while os.getppid() == middle:
                        time.sleep(0.01)
                    os._exit(0)
                os._exit(0)
            orphan = None
            while True:
                time.sleep(0.02)
                try:
                    orphan = orphan or int(open('\(directory.file("orphan"))').read())
                    os.kill(orphan, 0)
                except (OSError, ValueError):
                    if orphan: break
            os._exit(3)
            """
        let run = try SupervisedRun(["/usr/bin/python3", "-c", Self.ignoringCaller, studio, "init", "-w",
                                     "/usr/bin/python3", "-c", command], in: directory)
        let status = await run.wait(timeout: 10)
        XCTAssertEqual(status, .exited(3), run.standardError)
        let orphan = (directory.read("orphan") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertFalse(orphan.isEmpty)
        XCTAssertEqual(run.standardError, "studio init: warning: Reaped zombie process with pid=\(orphan)\n",
                       "the init itself must reap the adopted orphan")
    }
}
