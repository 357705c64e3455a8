import XCTest
import Glibc
import StudioInit

/// `studio init` as PID 1: signals sent from the host reach the workload.
final class InitSignalTests: StudioInitTestCase {
    /// A shell that installs `traps` (signal name → action), then writes `ready` and idles.
    private func workload(_ traps: [(String, String)], ready: String = "ready") -> String {
        traps.map { "trap '\($0.1)' \($0.0); " }.joined() + "touch \(directory.file(ready)); while :; do sleep 0.05; done"
    }

    private func start(_ arguments: [String]) throws -> (SupervisedRun, pid_t) {
        let run = try pid1(arguments)
        try waitForReady()
        let initPID = try XCTUnwrap(run.namespaceInitPID(), "no PID 1 below unshare")
        return (run, initPID)
    }

    func testEveryForwardedSignalReachesTheChildsHandler() async throws {
        for name in ["TERM", "INT", "HUP", "USR1", "USR2", "QUIT", "WINCH", "ALRM", "PIPE", "URG"] {
            let got = directory.file("got")
            let (run, initPID) = try start(["sh", "-c", workload([(name, "echo \(name) > \(got); exit 40")])])
            XCTAssertEqual(kill(initPID, Signal.number(named: name)!), 0)
            let status = await run.wait()
            XCTAssertEqual(status, .exited(40), name)
            XCTAssertEqual(directory.read("got"), "\(name)\n")
            try FileManager.default.removeItem(atPath: directory.file("ready"))
        }
    }

    func testRewriteChangesTheSignal() async throws {
        let (run, initPID) = try start(["--rewrite", "TERM:USR1", "sh", "-c",
                                        workload([("USR1", "exit 41"), ("TERM", "exit 42")])])
        kill(initPID, SIGTERM)
        let status = await run.wait()
        XCTAssertEqual(status, .exited(41))
    }

    func testRewriteToZeroDropsTheSignal() async throws {
        let (run, initPID) = try start(["--rewrite", "WINCH:0", "sh", "-c",
                                        workload([("WINCH", "exit 50"), ("TERM", "exit 51")])])
        kill(initPID, SIGWINCH)
        kill(initPID, SIGTERM) // handled in order: a forwarded WINCH would have exited 50 first
        let status = await run.wait()
        XCTAssertEqual(status, .exited(51))
    }

    func testGroupModeReachesASamePgrpGrandchild() async throws {
        let cleanup = directory.file("grandchild")
        let inner = workload([("TERM", "echo got > \(cleanup); exit 0")])
        let script = "trap 'exit 6' TERM; sh -c \"\(inner)\""
        let (run, initPID) = try start(["-g", "--grace", "5", "sh", "-c", script])
        kill(initPID, SIGTERM)
        let status = await run.wait()
        XCTAssertEqual(status, .exited(6))
        XCTAssertEqual(directory.read("grandchild"), "got\n")
    }

    func testTerminalStopSignalsStopTheChildNotTheInit() async throws {
        let (run, initPID) = try start(["sh", "-c", workload([("TERM", "exit 9")])])
        let child = try XCTUnwrap(ProcessTree.snapshot().processes.first { $0.parentPID == initPID }?.pid)
        kill(initPID, SIGTSTP)
        XCTAssertTrue(eventually { ProcessTree.readStat(child)?.state == "T" }, "the child was not stopped")
        XCTAssertNotEqual(ProcessTree.readStat(initPID)?.state, "T", "the init must never stop")
        kill(initPID, SIGCONT)
        XCTAssertTrue(eventually { ProcessTree.readStat(child).map { $0.state != "T" } ?? false }, "SIGCONT did not resume")
        kill(initPID, SIGTERM)
        let status = await run.wait()
        XCTAssertEqual(status, .exited(9))
    }
}
