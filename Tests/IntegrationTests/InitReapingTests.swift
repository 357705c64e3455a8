import XCTest
import Glibc
import StudioInit

/// `studio init`: zombies, SIGCHLD races, and subreaping when not PID 1.
final class InitReapingTests: StudioInitTestCase {
    private func zombies(below root: pid_t) -> Int {
        ProcessTree.snapshot().descendants(of: [root]).filter { $0.state == "Z" }.count
    }

    func testFiveThousandOrphansLeaveNoZombies() async throws {
        let program = """
            import os, time
            for _ in range(5000):
                pid = os.fork()
                if pid == 0:
                    if os.fork() == 0:
                        os._exit(0)
                    os._exit(0)
                os.waitpid(pid, 0)
            open('\(directory.file("ready"))', 'w').close()
            while not os.path.exists('\(directory.file("finish"))'):
                time.sleep(0.01)
            """
        let run = try pid1(["/usr/bin/python3", "-c", program])
        try waitForReady(timeout: 60)
        let initPID = try XCTUnwrap(run.namespaceInitPID())
        XCTAssertTrue(eventually(timeout: 2) { zombies(below: initPID) == 0 }, "zombies left: \(zombies(below: initPID))")
        XCTAssertTrue(FileManager.default.createFile(atPath: directory.file("finish"), contents: nil))
        let status = await run.wait(timeout: 30)
        XCTAssertEqual(status, .exited(0))
    }

    func testMainChildAndTwentySiblingsExitingAtOnceNeverHang() async throws {
        let script = "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do true & done; exit 7"
        for iteration in 0..<200 {
            let (status, _) = try await runPID1(["sh", "-c", script], timeout: 10)
            XCTAssertEqual(status, .exited(7), "iteration \(iteration)")
            if status != .exited(7) { break }
        }
    }

    func testSubreaperAdoptsAndReapsOrphansSilentlyWhenNotPID1() async throws {
        let orphanFile = directory.file("orphan")
        // The middle shell exits at once; `sleep` is orphaned and must be adopted by the init (not the
        // host's init). The main shell then waits for it to vanish, which needs the init to reap it.
        let script = "sh -c 'sleep 0.5 & echo $! > \(orphanFile)'; "
            + "o=$(cat \(orphanFile)); while kill -0 $o 2>/dev/null; do sleep 0.02; done; exit 4"
        let run = try plain(["sh", "-c", script])
        XCTAssertTrue(eventually { (directory.read("orphan") ?? "").hasSuffix("\n") })
        let orphan = try XCTUnwrap(pid_t((directory.read("orphan") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertEqual(ProcessTree.readStat(orphan)?.parentPID, run.pid, "the orphan was not adopted by the init")
        let status = await run.wait(timeout: 10)
        XCTAssertEqual(status, .exited(4))
        XCTAssertEqual(run.standardError, "", "no warning when not PID 1")
    }
}
