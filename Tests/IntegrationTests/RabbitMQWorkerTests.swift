import Foundation
import Glibc
import XCTest

/// `studio run` and `studio remote-worker` on `rmq_…` queues of a real rabbitmq-server (consumer_timeout
/// 10 s): SIGTERM hands the message back at once, SIGKILL loses nothing, an experiment three times the
/// consumer timeout runs once, three workers drain 200 messages without running any twice, and a refused
/// login ends the worker with exit 42.
final class RabbitMQWorkerTests: XCTestCase {
    private var fixture: WorkerFixture!
    private var server: RabbitMQServer!
    private var queue = ""

    override func setUpWithError() throws {
        server = try SharedRabbitMQ.get()
        fixture = try WorkerFixture()
        fixture.environment["AMQP_URL"] = server.url()
        queue = "rmq_w\(UInt32.random(in: 0...UInt32.max))"
    }

    override func tearDown() { fixture?.tearDown() }

    override class func tearDown() {
        SharedRabbitMQ.stop()
        super.tearDown()
    }

    /// Messages in each queue whose name starts with this test's queue (the work queue and its holding queues).
    private func messages() throws -> (work: Int, held: Int) {
        var work = 0, held = 0
        for line in try server.ctl(["list_queues", "-q", "--no-table-headers", "name", "messages"]).split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count == 2, let count = Int(fields[1]), fields[0].hasPrefix(queue) else { continue }
            if fields[0] == queue { work += count } else { held += count }
        }
        return (work, held)
    }

    private func worker(_ extra: [String]) -> [String] { fixture.workerArguments(["--queue", queue] + extra) }

    func testSIGTERMHandsTheMessageBackAtOnceAndTheNextWorkerRunsIt() throws {
        try fixture.write("wait.py", WorkerFixture.firstRunWaitsScript)
        let key = try fixture.submit(["wait.py"], queue: queue)
        XCTAssertEqual(try messages().work, 1)
        let first = try fixture.start(worker(["--single-run", "--timeout", "-1"]))
        XCTAssertTrue(workerWaitUntil(30) { self.fixture.scratchText("ready") != nil }, "the experiment never started: \(first.stderrText)")
        XCTAssertEqual(try messages().work, 0)
        XCTAssertEqual(try messages().held, 1, "the running experiment's message waits in its holding queue")
        first.send(SIGTERM)
        XCTAssertEqual(first.waitForExit(within: 20), 128 + SIGTERM, first.stderrText)
        XCTAssertNotNil(fixture.scratchText("got-term"))
        XCTAssertEqual(try messages().work, 1, "the message is back at once")
        XCTAssertEqual(try messages().held, 0)
        let second = try fixture.run(worker(["--single-run", "--timeout", "20"]), within: 60)
        XCTAssertEqual(second.code, 0, second.stderrText)
        XCTAssertEqual(fixture.status(key), "finished")
        XCTAssertEqual(try messages().work + messages().held, 0)
    }

    func testSIGKILLedWorkersMessageComesBackAfterTheLease() throws {
        try fixture.write("wait.py", WorkerFixture.firstRunWaitsScript)
        let key = try fixture.submit(["wait.py"], queue: queue)
        let first = try fixture.start(worker(["--single-run", "--timeout", "-1"]))
        XCTAssertTrue(workerWaitUntil(30) { self.fixture.scratchText("ready") != nil }, "the experiment never started: \(first.stderrText)")
        first.send(SIGKILL)
        XCTAssertEqual(first.waitForExit(within: 10), 128 + SIGKILL)
        if let pid = pid_t(fixture.scratchText("ready") ?? "") { kill(pid, SIGKILL) }
        // The holding queue's TTL (the 3 s lease) runs out and the message is dead-lettered back.
        XCTAssertTrue(workerWaitUntil(15) { (try? self.messages().work) == 1 }, "the message did not come back")
        let second = try fixture.run(worker(["--single-run", "--timeout", "20"]), within: 60)
        XCTAssertEqual(second.code, 0, second.stderrText)
        XCTAssertEqual(fixture.runCount(), 2)
        XCTAssertEqual(fixture.status(key), "finished")
        XCTAssertEqual(try messages().work + messages().held, 0)
    }

    func testAnExperimentThreeTimesTheConsumerTimeoutRunsOnce() throws {
        let seconds = 3 * RabbitMQServer.consumerTimeoutSeconds
        try fixture.write("long.py", """
            import os, time
            with open(os.path.join(os.environ['E2E_SCRATCH'], 'runs'), 'a') as f:
                f.write('run\\n')
            time.sleep(\(seconds))
            print('done', flush=True)
            """)
        let key = try fixture.submit(["long.py"], queue: queue)
        // Two workers: if the broker took the message back while it ran, the idle one would run it again.
        let busy = try fixture.start(worker(["--timeout", "5"]))
        XCTAssertTrue(workerWaitUntil(30) { self.fixture.runCount() == 1 }, "the experiment never started: \(busy.stderrText)")
        let idle = try fixture.start(worker(["--timeout", String(seconds + 10)]))
        XCTAssertNotNil(busy.waitForExit(within: Double(seconds) + 60), "the busy worker did not finish: \(busy.stderrText)")
        XCTAssertNotNil(idle.waitForExit(within: 30), "the idle worker did not finish")
        XCTAssertEqual(busy.exitCode, 0, busy.stderrText)
        XCTAssertEqual(idle.exitCode, 0, idle.stderrText)
        XCTAssertEqual(fixture.runCount(), 1, "the experiment ran more than once")
        XCTAssertEqual(fixture.status(key), "finished")
        XCTAssertEqual(try messages().work + messages().held, 0)
    }

    func testThreeWorkersDrain200MessagesAndRunNoneTwice() throws {
        try fixture.write("count.py", """
            import os, sys
            fd = os.open(os.path.join(os.environ['E2E_SCRATCH'], 'runs'), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            os.write(fd, (sys.argv[1] + '\\n').encode())
            """)
        for index in 0..<200 { _ = try fixture.submit(["count.py", String(index)], queue: queue) }
        XCTAssertEqual(try messages().work, 200)
        let workers = try (0..<3).map { _ in try fixture.start(worker(["--timeout", "5"])) }
        for worker in workers {
            XCTAssertEqual(worker.waitForExit(within: 300), 0, worker.stderrText)
        }
        let runs = (fixture.scratchText("runs") ?? "").split(separator: "\n").map(String.init)
        XCTAssertEqual(runs.count, 200, "some ran twice or not at all")
        XCTAssertEqual(Set(runs), Set((0..<200).map(String.init)))
        XCTAssertEqual(try messages().work + messages().held, 0)
    }

    func testRefusedLoginEndsTheWorkerWithExit42AndNoPassword() throws {
        fixture.environment["AMQP_URL"] = server.url(user: "nobody", password: "s3cret-pw")
        let result = try fixture.run(worker(["--single-run"]), within: 60)
        XCTAssertEqual(result.code, 42, result.stderrText)
        XCTAssertTrue(result.stderrText.contains("refused the login"), result.stderrText)
        XCTAssertFalse(result.stderrText.contains("s3cret-pw"), result.stderrText)
        XCTAssertEqual(result.stderrText.split(separator: "\n").filter { $0.contains("refused the login") }.count, 1)
    }
}

/// A broker restart while an experiment runs (durable queue, `cloud.queue.persistent: true`): the worker
/// reconnects, the experiment keeps running, its message is settled once, and nothing runs twice.
final class RabbitMQBrokerRestartTests: XCTestCase {
    func testABrokerRestartMidExperimentIsRiddenOut() throws {
        let server = try RabbitMQServer()
        defer { server.remove() }
        let fixture = try WorkerFixture()
        defer { fixture.tearDown() }
        let queue = "rmq_restart\(UInt32.random(in: 0...UInt32.max))"
        let config = fixture.root + "/config.yaml"
        try fixture.write(config, "cloud:\n    queue:\n        rmq: \"\(server.url())\"\n        persistent: true\n")
        try fixture.write("restart.py", """
            import os, time
            scratch = os.environ['E2E_SCRATCH']
            with open(os.path.join(scratch, 'runs'), 'a') as f:
                f.write('run\\n')
            open(os.path.join(scratch, 'ready'), 'w').write('1')
            while not os.path.exists(os.path.join(scratch, 'go')):
                time.sleep(0.1)
            print('done', flush=True)
            """)
        let key = try fixture.submit(["restart.py"], options: ["--config", config], queue: queue)
        // A 60 s lease outlasts the broker's downtime (its TTL clock runs on while it restarts).
        let worker = try fixture.start(fixture.workerArguments(["--queue", queue, "--config", config, "--lease", "60", "--timeout", "5"]))
        XCTAssertTrue(workerWaitUntil(30) { fixture.scratchText("ready") != nil }, "the experiment never started: \(worker.stderrText)")
        try server.restart()
        let other = try fixture.start(fixture.workerArguments(["--queue", queue, "--config", config, "--timeout", "8"]))
        Thread.sleep(forTimeInterval: 3)
        try fixture.write(fixture.scratchPath("go"), "go")
        XCTAssertEqual(worker.waitForExit(within: 60), 0, worker.stderrText)
        XCTAssertEqual(other.waitForExit(within: 60), 0, other.stderrText)
        XCTAssertEqual(fixture.scratchText("runs")?.split(separator: "\n").count, 1, "the experiment ran more than once")
        XCTAssertEqual(fixture.status(key), "finished")
        let left = try server.ctl(["list_queues", "-q", "--no-table-headers", "name", "messages"]).split(separator: "\n")
            .filter { $0.hasPrefix(queue) }.compactMap { $0.split(whereSeparator: { $0 == "\t" || $0 == " " }).last.flatMap { Int($0) } }
        XCTAssertEqual(left.reduce(0, +), 0, "messages left: \(left)")
    }
}
