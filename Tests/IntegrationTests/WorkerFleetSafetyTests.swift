import Foundation
import Glibc
import XCTest

/// Nothing that comes with a message stops a worker: bad configs, unreachable or corrupt stores,
/// messages whose workers keep dying. Each such message fails alone (recorded, kept under
/// rejected/, acknowledged) or comes back after a delay, and the worker goes on to the next.
final class WorkerFleetSafetyTests: XCTestCase {
    private var fixture: WorkerFixture!

    override func setUpWithError() throws { fixture = try WorkerFixture() }
    override func tearDown() { fixture?.tearDown() }

    /// The JSON of the oldest ready message of the local queue.
    private func firstMessage() throws -> [String: Any] {
        let name = try XCTUnwrap(fixture.readyMessages().first, "no message on the queue")
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture.queueDirectory() + "/" + name))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Puts `message` on the local queue under `name`, dated back so that it is taken at once and
    /// (names sort) before the messages `studio run` sent.
    private func drop(_ message: [String: Any], as name: String) throws {
        let path = fixture.queueDirectory() + "/" + name
        try JSONSerialization.data(withJSONObject: message).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: path)
    }

    /// A copy of `message` for another experiment key, with `change` applied to its config.
    private func variant(of message: [String: Any], key: String, config change: (inout [String: Any]) -> Void) -> [String: Any] {
        var copy = message
        var experiment = copy["experiment"] as! [String: Any]
        experiment["key"] = key
        copy["experiment"] = experiment
        var config = copy["config"] as! [String: Any]
        change(&config)
        copy["config"] = config
        return copy
    }

    private func rejectedFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: fixture.home + "/rejected")) ?? []).sorted()
    }

    private func rejected(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture.home + "/rejected/" + name))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The first case: a message whose `database.type` is `nosuchdb` used to stop every
    /// worker with 42. Now it fails alone, and the good experiments behind it all run.
    func testUnusableConfigFailsOnlyItsOwnMessage() throws {
        try fixture.write("good.py", "print('good ran')\n")
        let good = try (0..<3).map { _ in try fixture.submit(["good.py"]) }
        let bad = variant(of: try firstMessage(), key: "bad-config") { config in
            var database = config["database"] as? [String: Any] ?? [:]
            database["type"] = "nosuchdb"
            config["database"] = database
        }
        try drop(bad, as: "0-bad-config.json")

        let single = try fixture.work(["--single-run"])
        XCTAssertEqual(single.code, 65, "a settled message is 65 under --single-run: \(single.stderrText)")
        XCTAssertTrue(single.stderrText.contains("database.type nosuchdb is not supported"), single.stderrText)
        let drained = try fixture.work(["--timeout", "2"])
        XCTAssertEqual(drained.code, 0, drained.stderrText)
        for key in good { XCTAssertEqual(fixture.status(key), "finished") }
        XCTAssertEqual(drained.stdoutText, "good ran\ngood ran\ngood ran\n")
        XCTAssertEqual(rejectedFiles(), ["0-bad-config.json"])
        let kept = try rejected("0-bad-config.json")
        XCTAssertTrue((kept["reason"] as? String ?? "").contains("nosuchdb"), "\(kept)")
        XCTAssertEqual(fixture.readyMessages() + fixture.leasedMessages(), [])
    }

    /// A store that answers 503 to everything (an S3 in trouble), on a loopback port.
    private func startFailingStore() throws -> Int {
        let port = try LoopbackPort.free()
        try fixture.start(["python3", "-c", """
            import http.server, sys
            class Failing(http.server.BaseHTTPRequestHandler):
                def answer(self):
                    body = b'<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>'
                    self.send_response(503)
                    self.send_header('Content-Length', str(len(body)))
                    self.end_headers()
                    if self.command != 'HEAD':
                        self.wfile.write(body)
                do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = answer
                def log_message(self, *args):
                    pass
            http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), Failing).serve_forever()
            """, String(port)], executable: nil)
        XCTAssertTrue(workerWaitUntil(20) { LoopbackPort.accepts(port) }, "the failing store never listened")
        return port
    }

    /// A store in trouble (503) is transient: the message comes back after --retry-delay (not at
    /// once), and after --max-deliveries it is settled with the last error.
    func testFailingStoreIsRetriedWithADelayThenSettled() throws {
        try fixture.write("good.py", "print('good ran')\n")
        _ = try fixture.submit(["good.py"])
        let failingPort = try startFailingStore()
        let bad = variant(of: try firstMessage(), key: "unreachable") { config in
            config["database"] = ["type": "s3", "endpoint": "http://127.0.0.1:\(failingPort)", "bucket": "meta",
                                  "credentials": ["aws": ["access_key": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI-SECRET"]]]
        }
        try drop(bad, as: "0-unreachable.json")

        let worker = try fixture.work(["--timeout", "3", "--max-deliveries", "2", "--retry-delay", "2"], within: 120)
        XCTAssertEqual(worker.code, 0, worker.stderrText)
        let lines = worker.stderrText.split(separator: "\n").map(String.init)
        let retry = try XCTUnwrap(lines.firstIndex { $0.contains("will try again in 2 s (delivery 1 of at most 2)") }, worker.stderrText)
        let settled = try XCTUnwrap(lines.firstIndex { $0.contains("settled message 0-unreachable as failed") }, worker.stderrText)
        XCTAssertLessThan(retry, settled)
        XCTAssertTrue(lines[retry].contains("SlowDown"), "the reason names the store's answer: \(lines[retry])")
        XCTAssertEqual(lines.filter { $0.contains("received experiment") && $0.contains("unreachable") }.count, 2, worker.stderrText)
        XCTAssertEqual(worker.stdoutText, "good ran\n", "the good experiment ran while the bad one waited")
        let kept = try rejected("0-unreachable.json")
        XCTAssertEqual(kept["deliveries"] as? Int, 2)
        XCTAssertFalse(String(decoding: try Data(contentsOf: URL(fileURLWithPath: fixture.home + "/rejected/0-unreachable.json")), as: UTF8.self)
            .contains("wJalrXUtnFEMI-SECRET"), "the secret key was written to rejected/")
        XCTAssertEqual(fixture.readyMessages() + fixture.leasedMessages(), [])
    }

    /// A message whose workers keep dying (its delivery count is past --max-deliveries) is not run
    /// again: it is recorded failed, kept and acknowledged.
    func testMessageDeliveredTooOftenIsSettledWithoutRunning() throws {
        try fixture.write("never.py", "open('ran', 'w').write('ran')\n")
        let key = try fixture.submit(["never.py"])
        let name = try XCTUnwrap(fixture.readyMessages().first)
        let stem = String(name.dropLast(".json".count))
        // The local queue's name for a message that was delivered 5 times and came back.
        try FileManager.default.moveItem(atPath: fixture.queueDirectory() + "/" + name,
                                         toPath: fixture.queueDirectory() + "/" + stem + "#5-0123456789ab.json")
        let worker = try fixture.work(["--single-run", "--max-deliveries", "5"])
        XCTAssertEqual(worker.code, 65, worker.stderrText)
        XCTAssertEqual(fixture.status(key), "failed")
        XCTAssertTrue((fixture.info(key)["reason"] as? String ?? "").contains("delivered 6 times"), "\(fixture.info(key))")
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.home + "/experiments/\(key)/workspace/ran"))
        XCTAssertEqual(rejectedFiles().count, 1)
        XCTAssertEqual(fixture.readyMessages() + fixture.leasedMessages(), [])
    }

    /// A corrupt record is permanent: the experiment is recorded failed at once (no spinning), and
    /// the next message runs.
    func testCorruptRecordFailsAtOnce() throws {
        try fixture.write("good.py", "print('good ran')\n")
        let first = try fixture.submit(["good.py"])
        let second = try fixture.submit(["good.py"])
        try Data("{ corrupt".utf8).write(to: URL(fileURLWithPath: fixture.storePath("experiments/" + first)))
        let worker = try fixture.work(["--timeout", "2", "--retry-delay", "600"])
        XCTAssertEqual(worker.code, 0, worker.stderrText)
        XCTAssertEqual(fixture.status(first), "failed")
        XCTAssertTrue((fixture.info(first)["reason"] as? String ?? "").contains("record"), "\(fixture.info(first))")
        XCTAssertEqual(fixture.status(second), "finished")
        XCTAssertEqual(fixture.readyMessages() + fixture.leasedMessages(), [])
    }

    /// rejected/ files are 0600, with every credential and env value redacted, and bounded in number.
    func testRejectedFilesArePrivateRedactedAndBounded() throws {
        try fixture.write("good.py", "print('good ran')\n")
        _ = try fixture.submit(["good.py"])
        let template = try firstMessage()
        for index in 0..<4 {
            let bad = variant(of: template, key: "bad-\(index)") { config in
                config["database"] = ["type": "nosuchdb", "credentials": ["aws": ["secret_access_key": "SECRET-\(index)"]]]
                config["env"] = ["WANDB_API_KEY": "ENVSECRET-\(index)"]
                config["cloud"] = ["queue": ["rmq": "amqp://user:PASSWORD-\(index)@host/vhost"]]
            }
            try drop(bad, as: "0-bad-\(index).json")
        }
        let worker = try fixture.work(["--timeout", "2", "--keep-rejected", "3"])
        XCTAssertEqual(worker.code, 0, worker.stderrText)
        XCTAssertEqual(rejectedFiles(), ["0-bad-1.json", "0-bad-2.json", "0-bad-3.json"], "the oldest goes first")
        for name in rejectedFiles() {
            let path = fixture.home + "/rejected/" + name
            var status = stat()
            XCTAssertEqual(stat(path, &status), 0)
            XCTAssertEqual(status.st_mode & 0o777, 0o600, name)
            let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
            for secret in ["SECRET-", "ENVSECRET-", "PASSWORD-"] { XCTAssertFalse(text.contains(secret), "\(name) holds \(secret): \(text)") }
            XCTAssertTrue(text.contains("amqp://user:<redacted>@host/vhost"), text)
        }
        for secret in ["SECRET-", "PASSWORD-"] { XCTAssertFalse(worker.stderrText.contains(secret), worker.stderrText) }
    }

    /// Checkpoints every second while an experiment writes large artifacts: none overlaps another
    /// or the final one, and the final record is the last word.
    func testCheckpointsNeverOverlapAndTheFinalRecordIsLast() throws {
        try fixture.write("config.yaml", "saveWorkspaceFrequency: 1\n")
        try fixture.write("big.py", """
            import os, time
            model = os.path.join(os.environ['STUDIOML_HOME'], 'experiments', os.environ['STUDIOML_EXPERIMENT'], 'modeldir')
            block = os.urandom(1 << 20)
            for step in range(6):
                for part in range(24):
                    with open(os.path.join(model, 'weights-%d.bin' % part), 'wb') as f:
                        f.write(block)
                with open(os.path.join(model, 'step'), 'w') as f:
                    f.write(str(step))
                time.sleep(0.4)
            print('done', flush=True)
            """)
        let key = try fixture.submit(["big.py"], options: ["--config", fixture.workspace + "/config.yaml"])
        let worker = try fixture.work(["--single-run"], within: 180)
        XCTAssertEqual(worker.code, 0, worker.stderrText)
        XCTAssertFalse(worker.stderrText.contains("checkpoint failed"), worker.stderrText)
        XCTAssertEqual(fixture.status(key), "finished")
        let record = try XCTUnwrap(fixture.record(key))
        let finished = try XCTUnwrap(record["time_finished"] as? Double)
        let checkpoint = try XCTUnwrap(record["time_last_checkpoint"] as? Double)
        XCTAssertLessThanOrEqual(checkpoint, finished)
        let listing = try fixture.run(["python3", "-c", """
            import tarfile, sys
            t = tarfile.open(sys.argv[1])
            print(t.extractfile('step').read().decode())
            """, fixture.storePath("experiments/\(key)/modeldir.tar")], executable: nil)
        XCTAssertEqual(listing.stdoutText, "5\n", "the stored model directory is the final one: \(listing.stderrText)")
    }

    /// Settled runs' directories go (beyond --keep-runs), and the blob cache stays within --cache-size.
    func testRunDirectoriesAndBlobCacheStayBounded() throws {
        for index in 0..<3 {
            try fixture.write("step.py", "print('step \(index)')\n")
            _ = try fixture.submit(["step.py"])
        }
        let worker = try fixture.work(["--timeout", "2", "--keep-runs", "1", "--cache-size", "0"])
        XCTAssertEqual(worker.code, 0, worker.stderrText)
        let runs = (try? FileManager.default.contentsOfDirectory(atPath: fixture.home + "/experiments")) ?? []
        XCTAssertEqual(runs.count, 1, "experiments/: \(runs)")
        let mappings = (try? FileManager.default.contentsOfDirectory(atPath: fixture.home + "/artifact_mappings")) ?? []
        XCTAssertEqual(mappings.count, 1, "artifact_mappings/: \(mappings)")
        let cached = (try? FileManager.default.contentsOfDirectory(atPath: fixture.home + "/blobcache")) ?? []
        XCTAssertEqual(cached, [], "blobcache/ over --cache-size 0")
    }

    /// StudioML 0.0.49's launch line works: --verbose LEVEL, --guest, -t, and --config is read.
    func testStudioMLLaunchLineAndConfigAreHonoured() throws {
        let quiet = try fixture.run(["remote-worker", "--queue", "local", "--verbose", "error", "--guest", "-t", "1"])
        XCTAssertEqual(quiet.code, 0, quiet.stderrText)
        XCTAssertEqual(quiet.stderrText, "", "--verbose error still logged info lines")
        try fixture.write("worker.yaml", "verbose: debug\n")
        let chatty = try fixture.run(["remote-worker", "--queue", "local", "--config", fixture.workspace + "/worker.yaml", "-t", "1"])
        XCTAssertEqual(chatty.code, 0, chatty.stderrText)
        XCTAssertTrue(chatty.stderrText.contains(" debug studio: "), "the config's verbose: debug was ignored: \(chatty.stderrText)")
        let fromEnvironment = try fixture.run(["remote-worker", "--queue", "local", "-t", "1"],
                                              environment: ["STUDIO_CONFIG": fixture.workspace + "/worker.yaml"])
        XCTAssertTrue(fromEnvironment.stderrText.contains(" debug studio: "), "STUDIO_CONFIG was ignored: \(fromEnvironment.stderrText)")
        let missing = try fixture.run(["remote-worker", "--queue", "local", "--config", "/nonexistent/worker.yaml", "-t", "1"])
        XCTAssertEqual(missing.code, 42, missing.stderrText)
        XCTAssertEqual(missing.stderrText.split(separator: "\n").count, 1, missing.stderrText)
    }

    /// A worker that dies of a fault says so first: one line naming the signal.
    func testFatalSignalIsNamedInTheLog() throws {
        let worker = try fixture.start(["remote-worker", "--queue", "local", "--timeout", "-1"])
        XCTAssertTrue(workerWaitUntil(20) { worker.stderrText.contains("worker listening") }, worker.stderrText)
        worker.send(SIGSEGV)
        XCTAssertEqual(worker.waitForExit(within: 10), 128 + SIGSEGV, worker.stderrText)
        XCTAssertTrue(worker.stderrText.contains("studio remote-worker: died of signal SIGSEGV"), worker.stderrText)
    }
}
