import Foundation
import Glibc
import XCTest

/// Delivery guarantees through the local queue, with real worker processes: a crashed worker's
/// experiment runs again elsewhere, two workers split a queue without running anything twice, a
/// stopping worker hands its message straight back, and a finished experiment is never rerun.
final class WorkerQueueTests: XCTestCase {
    private var fixture: WorkerFixture!

    override func setUpWithError() throws { fixture = try WorkerFixture() }
    override func tearDown() { fixture?.tearDown() }

    /// kill -9 of the worker mid-experiment: once the lease runs out, another worker runs it to the end.
    func testKilledWorkersExperimentRunsAgainAfterTheLeaseExpires() throws {
        try fixture.write("crash.py", WorkerFixture.firstRunWaitsScript)
        let key = try fixture.submit(["crash.py"])
        let first = try fixture.start(fixture.workerArguments(["--single-run", "--timeout", "-1"]))
        XCTAssertTrue(workerWaitUntil(30) { self.fixture.scratchText("ready") != nil }, "the experiment never started: \(first.stderrText)")
        XCTAssertEqual(fixture.leasedMessages().count, 1)
        // What is still in the pipe dies with the worker: kill it once the first run's line is in its file.
        let liveOutput = fixture.home + "/experiments/\(key)/output"
        XCTAssertTrue(workerWaitUntil(10) { FileManager.default.contents(atPath: liveOutput) == Data("run 1\n".utf8) })
        first.send(SIGKILL)
        XCTAssertEqual(first.waitForExit(within: 10), 128 + SIGKILL)
        // A worker killed with -9 takes nobody with it (outside a container): end its orphan as a pod would.
        if let pid = pid_t(fixture.scratchText("ready") ?? "") { kill(pid, SIGKILL) }

        let second = try fixture.work(["--single-run", "--timeout", "20"], within: 40)
        XCTAssertEqual(second.code, 0, second.stderrText)
        XCTAssertEqual(fixture.runCount(), 2)
        XCTAssertEqual(fixture.status(key), "finished")
        XCTAssertEqual(second.stdoutText, "run 2\ndone\n")
        XCTAssertEqual(try fixture.fileArtifact(key, "output"), Data("run 1\nrun 2\ndone\n".utf8), "both runs' output is kept")
        XCTAssertEqual(fixture.readyMessages() + fixture.leasedMessages(), [])
    }

    /// Two workers drain 50 messages: each experiment runs exactly once, and both quit once idle.
    func testTwoWorkersRunEachOfFiftyMessagesExactlyOnce() throws {
        try fixture.write("append.py", """
            import os
            fd = os.open(os.path.join(os.environ['E2E_SCRATCH'], 'keys'), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.write(fd, (os.environ['STUDIOML_EXPERIMENT'] + '\\n').encode())
            """)
        var keys: [String] = []
        // Submit in batches of parallel `studio run`s: 50 one by one would dominate the test's time.
        for batch in 0..<10 {
            let names = (0..<5).map { "job-\(batch * 5 + $0)" }
            let processes = try names.map { try fixture.start(["run", "--queue", "local", "-e", $0, "append.py"]) }
            for (name, process) in zip(names, processes) {
                XCTAssertEqual(process.waitForExit(within: 60), 0, "submitting \(name): \(process.stderrText)")
            }
            keys += names
        }
        XCTAssertEqual(fixture.readyMessages().count, 50)

        let workers = try (0..<2).map { _ in try fixture.start(fixture.workerArguments(["--timeout", "2"])) }
        for (index, worker) in workers.enumerated() {
            XCTAssertEqual(worker.waitForExit(within: 150), 0, "worker \(index): \(worker.stderrText.suffix(2000))")
            let problems = worker.stderrText.split(separator: "\n").filter { $0.contains(" warning ") || $0.contains(" error ") }
            XCTAssertEqual(problems, [], "worker \(index)")
        }
        let lines = (fixture.scratchText("keys") ?? "").split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 50, "runs: \(lines.sorted())")
        XCTAssertEqual(Set(lines), Set(keys))
        for key in keys { XCTAssertEqual(fixture.status(key), "finished", "\(key): \(fixture.info(key))") }
        XCTAssertEqual(fixture.readyMessages() + fixture.leasedMessages(), [])
    }

    /// SIGTERM to the worker: the experiment gets SIGTERM, the message is back on the queue at once
    /// (long before its lease would end), the worker exits 143, and another worker completes it.
    func testTerminatedWorkerHandsTheMessageBackAtOnce() throws {
        try fixture.write("term.py", WorkerFixture.firstRunWaitsScript)
        let key = try fixture.submit(["term.py"])
        let first = try fixture.start(fixture.workerArguments(["--timeout", "-1", "--lease", "60", "--grace", "5"]))
        XCTAssertTrue(workerWaitUntil(30) { self.fixture.scratchText("ready") != nil }, "the experiment never started: \(first.stderrText)")
        XCTAssertEqual(fixture.readyMessages(), [])
        first.send(SIGTERM)
        XCTAssertTrue(workerWaitUntil(5) { self.fixture.scratchText("got-term") != nil }, "the experiment got no SIGTERM")
        XCTAssertTrue(workerWaitUntil(5) { self.fixture.readyMessages().count == 1 && self.fixture.leasedMessages().isEmpty },
                      "the message is not back on the queue: ready \(fixture.readyMessages()), leased \(fixture.leasedMessages())")
        XCTAssertEqual(first.waitForExit(within: 10), 143, first.stderrText)
        XCTAssertNotEqual(fixture.status(key), "finished")

        let second = try fixture.work(["--single-run"])
        XCTAssertEqual(second.code, 0, second.stderrText)
        XCTAssertEqual(fixture.runCount(), 2)
        XCTAssertEqual(fixture.status(key), "finished")
        XCTAssertEqual(fixture.readyMessages() + fixture.leasedMessages(), [])
    }

    /// SIGTERM and SIGINT to an idle worker end it at once with 128+N, and without a warning.
    func testIdleWorkerStopsAtOnceOnSIGTERMAndSIGINT() throws {
        for signal in [SIGTERM, SIGINT] {
            let worker = try fixture.start(fixture.workerArguments(["--timeout", "-1"]))
            XCTAssertTrue(workerWaitUntil(10) { worker.stderrText.contains("worker listening") }, worker.stderrText)
            worker.send(signal)
            XCTAssertEqual(worker.waitForExit(within: 2), 128 + signal, worker.stderrText)
            XCTAssertFalse(worker.stderrText.contains(" warning "), worker.stderrText)
        }
    }

    /// A message redelivered after its experiment ended is acknowledged without running it again.
    func testRedeliveredMessageOfAFinishedExperimentIsNotRunAgain() throws {
        try fixture.write("once.py", """
            import os
            with open(os.path.join(os.environ['E2E_SCRATCH'], 'runs'), 'a') as f:
                f.write('run\\n')
            """)
        let key = try fixture.submit(["once.py"])
        let message = try XCTUnwrap(fixture.readyMessages().first)
        let body = try XCTUnwrap(FileManager.default.contents(atPath: fixture.queueDirectory() + "/" + message))
        let first = try fixture.work()
        XCTAssertEqual(first.code, 0, first.stderrText)
        XCTAssertEqual(fixture.status(key), "finished")
        let finishedAt = try XCTUnwrap(fixture.record(key)?["time_finished"] as? Double)

        try body.write(to: URL(fileURLWithPath: fixture.queueDirectory() + "/" + message))
        let again = try fixture.work()
        XCTAssertEqual(again.code, 0, again.stderrText)
        XCTAssertEqual(fixture.runCount(), 1, "the experiment ran again")
        XCTAssertEqual(fixture.status(key), "finished")
        XCTAssertEqual(fixture.record(key)?["time_finished"] as? Double, finishedAt)
        XCTAssertEqual(fixture.readyMessages() + fixture.leasedMessages(), [], "the redelivery was not acknowledged")
    }
}
