import XCTest
import Glibc
import StudioInit

/// `studio init` as PID 1: graceful descendant shutdown and SIGKILL escalation.
final class InitShutdownTests: StudioInitTestCase {
    func testGrandchildCompletesItsCleanupAndTheMainCodeIsKept() async throws {
        let ready = directory.file("ready"), cleanup = directory.file("cleanup")
        let grandchild = "trap 'sleep 0.5; echo done > \(cleanup); exit 0' TERM; touch \(ready); while :; do sleep 0.05; done"
        let main = "sh -c \"\(grandchild)\" & while [ ! -e \(ready) ]; do sleep 0.01; done; exit 5"
        let started = Date()
        let (status, _) = try await runPID1(["sh", "-c", main])
        XCTAssertEqual(status, .exited(5))
        XCTAssertEqual(directory.read("cleanup"), "done\n", "the grandchild's 0.5 s cleanup did not complete")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    func testChildIgnoringTermIsKilledWhenTheGraceRunsOut() async throws {
        let run = try pid1(["--grace", "1", "sh", "-c", "trap '' TERM; touch \(directory.file("ready")); while :; do sleep 0.05; done"])
        try waitForReady()
        let initPID = try XCTUnwrap(run.namespaceInitPID())
        let sent = Date()
        kill(initPID, SIGTERM)
        let status = await run.wait()
        let elapsed = Date().timeIntervalSince(sent)
        XCTAssertEqual(status, .exited(137))
        XCTAssertGreaterThanOrEqual(elapsed, 0.9)
        XCTAssertLessThan(elapsed, 1.5, "escalation must happen within grace + 0.5 s")
    }

    func testSecondSigintEscalatesAtOnce() async throws {
        let run = try pid1(["--log-format", "json", "sh", "-c", "trap '' INT; touch \(directory.file("ready")); while :; do sleep 0.05; done"])
        try waitForReady()
        let initPID = try XCTUnwrap(run.namespaceInitPID())
        let sent = Date()
        kill(initPID, SIGINT)
        // Two pending SIGINTs coalesce into one: send the second once the first has been taken.
        XCTAssertTrue(eventually { run.standardError.contains("\"event\":\"stop\"") }, run.standardError)
        kill(initPID, SIGINT)
        let status = await run.wait()
        XCTAssertEqual(status, .exited(137))
        XCTAssertLessThan(Date().timeIntervalSince(sent), 2, "the default grace is 10 s; a second SIGINT must not wait for it")
    }

    func testDescendantsOutlivingTheGraceAreKilled() async throws {
        let script = "sh -c \"trap '' TERM; touch \(directory.file("ready")); while :; do sleep 0.05; done\" & "
            + "while [ ! -e \(directory.file("ready")) ]; do sleep 0.01; done; exit 3"
        let started = Date()
        let (status, _) = try await runPID1(["--grace", "500ms", "sh", "-c", script])
        XCTAssertEqual(status, .exited(3))
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
    }
}
