import Foundation
import Glibc
import XCTest

/// Controlling and watching experiments from the submitter's side: `studio stop`, `--max-duration`,
/// `--lifetime`, `studio status` and `studio logs [-f]`, against a real worker.
final class WorkerControlTests: XCTestCase {
    private var fixture: WorkerFixture!

    override func setUpWithError() throws { fixture = try WorkerFixture() }
    override func tearDown() { fixture?.tearDown() }

    /// Prints `started`, writes `ready`, then waits (for `go`, if the test ever writes it); its SIGTERM
    /// handler writes `got-term` and exits 0.
    private let waitsForGo = """
        import os, signal, sys, time
        scratch = os.environ['E2E_SCRATCH']
        def on_term(number, frame):
            print('stopping on SIGTERM', flush=True)
            open(os.path.join(scratch, 'got-term'), 'w').write('TERM')
            sys.exit(0)
        signal.signal(signal.SIGTERM, on_term)
        print('started', flush=True)
        open(os.path.join(scratch, 'ready'), 'w').write(str(os.getpid()))
        while not os.path.exists(os.path.join(scratch, 'go')):
            time.sleep(0.05)
        print('went on', flush=True)
        sys.stdout.write('no newline at the end')
        """

    /// `studio stop KEY` while it runs: SIGTERM reaches it, and the record ends `stopped`.
    func testStopSendsSIGTERMAndRecordsStopped() throws {
        try fixture.write("stoppable.py", waitsForGo)
        let key = try fixture.submit(["stoppable.py"])
        let worker = try fixture.start(fixture.workerArguments(["--single-run", "--timeout", "-1", "--grace", "5"]))
        XCTAssertTrue(workerWaitUntil(30) { self.fixture.scratchText("ready") != nil }, "the experiment never started: \(worker.stderrText)")
        let follower = try fixture.start(["logs", "-f", key])
        let stop = try fixture.run(["stop", key])
        XCTAssertEqual(stop.code, 0, stop.stderrText)
        XCTAssertTrue(stop.stdoutText.contains("stop requested"), stop.stdoutText)
        XCTAssertTrue(workerWaitUntil(15) { self.fixture.scratchText("got-term") != nil }, "the experiment got no SIGTERM: \(worker.stderrText)")
        let code = try XCTUnwrap(worker.waitForExit(within: 15), "the worker did not finish: \(worker.stderrText)")
        XCTAssertEqual(fixture.status(key), "stopped")
        // The handler exits 0, but the supervisor's second SIGTERM (to the group, then to the pid)
        // can land during Python's shutdown and make it 143: what is recorded is what the worker returns.
        XCTAssertEqual(fixture.info(key)["exit_code"] as? Int, Int(code), worker.stderrText)
        XCTAssertTrue(code == 0 || code == 128 + SIGTERM, "exit \(code): \(worker.stderrText)")
        XCTAssertEqual(fixture.info(key)["reason"] as? String, "stopped on request")
        // `logs -f` follows until the worker has recorded the end, not just the stop request.
        XCTAssertEqual(follower.waitForExit(within: 10), 0, follower.stderrText)
        XCTAssertTrue(follower.stdout.elementsEqual(Data("started\nstopping on SIGTERM\n".utf8)), String(decoding: follower.stdout, as: UTF8.self).debugDescription)
        XCTAssertEqual(fixture.readyMessages() + fixture.leasedMessages(), [])
        let again = try fixture.run(["stop", key])
        XCTAssertEqual(again.code, 0)
        XCTAssertTrue(again.stdoutText.contains("already stopped"), again.stdoutText)
    }

    /// `--max-duration 2s`: the experiment is killed after two seconds and the record says why.
    func testMaxDurationKillsTheExperimentAndRecordsFailed() throws {
        try fixture.write("forever.py", "import time\nprint('running', flush=True)\nwhile True:\n    time.sleep(0.05)\n")
        let key = try fixture.submit(["forever.py"], options: ["--max-duration", "2s"])
        let began = Date()
        let worker = try fixture.work(["--single-run"], within: 30)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(began), 2)
        XCTAssertEqual(worker.code, 128 + SIGTERM, worker.stderrText)
        XCTAssertEqual(fixture.status(key), "failed")
        let reason = fixture.info(key)["reason"] as? String ?? ""
        XCTAssertTrue(reason.contains("max_duration"), reason)
        XCTAssertEqual(try fixture.fileArtifact(key, "output"), Data("running\n".utf8))
    }

    /// An experiment whose `--lifetime` passed before a worker got it is acknowledged unrun and recorded failed.
    func testExpiredLifetimeIsNotRun() throws {
        try fixture.write("late.py", "import os\nopen(os.path.join(os.environ['E2E_SCRATCH'], 'ran'), 'w').write('ran')\n")
        let key = try fixture.submit(["late.py"], options: ["--lifetime", "1s"])
        let added = try XCTUnwrap(fixture.record(key)?["time_added"] as? Double)
        // Waiting for the clock itself: the lifetime has to be over before the worker starts.
        XCTAssertTrue(workerWaitUntil(10) { Date().timeIntervalSince1970 > added + 1.2 })
        let worker = try fixture.work()
        XCTAssertNotEqual(worker.code, 0, worker.stderrText)
        XCTAssertNil(fixture.scratchText("ran"), "the expired experiment ran")
        XCTAssertEqual(fixture.status(key), "failed")
        let reason = fixture.info(key)["reason"] as? String ?? ""
        XCTAssertTrue(reason.contains("experimentLifetime"), reason)
        XCTAssertEqual(fixture.readyMessages() + fixture.leasedMessages(), [], "the expired message was not acknowledged")
    }

    /// `studio status`, `studio status KEY`, `studio logs KEY` and `studio logs -f KEY` around a run.
    func testStatusAndLogsFollowAnExperiment() throws {
        try fixture.write("watched.py", waitsForGo)
        let key = try fixture.submit(["watched.py", "an arg"])
        let waiting = try fixture.run(["status"])
        XCTAssertEqual(waiting.code, 0, waiting.stderrText)
        XCTAssertTrue(tableRow(waiting.stdoutText, key).contains("waiting"), waiting.stdoutText)

        let worker = try fixture.start(fixture.workerArguments(["--single-run", "--timeout", "-1"]))
        XCTAssertTrue(workerWaitUntil(30) { self.fixture.scratchText("ready") != nil }, "the experiment never started: \(worker.stderrText)")
        let running = try fixture.run(["status", key])
        XCTAssertEqual(running.code, 0, running.stderrText)
        XCTAssertTrue(running.stdoutText.contains("status:      running"), running.stdoutText)
        // The record's words are shell-quoted (StudioML's format): the line reads as a shell command.
        XCTAssertTrue(running.stdoutText.contains("watched.py 'an arg'"), running.stdoutText)

        let follower = try fixture.start(["logs", "-f", key])
        XCTAssertTrue(workerWaitUntil(15) { String(decoding: follower.stdout, as: UTF8.self) == "started\n" },
                      "logs -f does not show the output so far: \(String(decoding: follower.stdout, as: UTF8.self).debugDescription)")
        XCTAssertTrue(follower.isRunning, "logs -f quit while the experiment runs")
        try "go".write(toFile: fixture.scratchPath("go"), atomically: true, encoding: .utf8)
        let everything = Data("started\nwent on\nno newline at the end".utf8)
        XCTAssertEqual(follower.waitForExit(within: 20), 0, follower.stderrText)
        XCTAssertEqual(follower.stdout, everything)
        XCTAssertEqual(worker.waitForExit(within: 20), 0, worker.stderrText)

        XCTAssertEqual(try fixture.run(["logs", key]).stdout, everything)
        // Without the worker's live file (another machine ran it), logs come from the output artifact.
        try FileManager.default.removeItem(atPath: fixture.home + "/experiments/\(key)/output")
        XCTAssertEqual(try fixture.run(["logs", key]).stdout, everything)

        let finished = try fixture.run(["status"])
        let row = tableRow(finished.stdoutText, key)
        XCTAssertTrue(row.contains("finished"), finished.stdoutText)
        XCTAssertTrue(try fixture.run(["status", key]).stdoutText.contains("status:      finished"))
        XCTAssertEqual(try fixture.run(["status", "no-such-key"]).code, 1)
        XCTAssertEqual(try fixture.run(["logs", "no-such-key"]).code, 1)
    }

    private func tableRow(_ table: String, _ key: String) -> String {
        table.split(separator: "\n").first { $0.hasPrefix(key + " ") }.map(String.init) ?? ""
    }
}
