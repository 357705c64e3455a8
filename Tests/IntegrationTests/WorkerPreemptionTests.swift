import Foundation
import Glibc
import XCTest

/// Preemption notices from a fake metadata server on loopback (GCE's `instance/preempted` with
/// `wait_for_change`, EC2's IMDSv2 token and `spot/instance-action`), and a real experiment that
/// saves a checkpoint on `--checkpoint-signal SIGUSR1`.
final class WorkerPreemptionTests: XCTestCase {
    private var fixture: WorkerFixture!

    override func setUpWithError() throws { fixture = try WorkerFixture() }
    override func tearDown() { fixture?.tearDown() }

    /// Answers as both metadata servers; the notice appears once the file `preempt` exists in the scratch directory.
    private let metadataServer = #"""
        import http.server, json, os, sys, time
        scratch = os.environ['E2E_SCRATCH']
        def preempted(): return os.path.exists(os.path.join(scratch, 'preempt'))
        class Handler(http.server.BaseHTTPRequestHandler):
            def reply(self, status, body, flavor=False):
                self.send_response(status)
                if flavor: self.send_header('Metadata-Flavor', 'Google')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())
            def do_PUT(self):
                if self.path == '/latest/api/token' and self.headers.get('X-aws-ec2-metadata-token-ttl-seconds'):
                    return self.reply(200, 'TOKEN-1')
                self.reply(400, 'bad token request')
            def do_GET(self):
                if self.path.startswith('/computeMetadata/v1/instance/preempted'):
                    if self.headers.get('Metadata-Flavor') != 'Google': return self.reply(403, 'no flavor')
                    if 'wait_for_change=true' in self.path:
                        deadline = time.time() + 60
                        while not preempted() and time.time() < deadline: time.sleep(0.05)
                    return self.reply(200, 'TRUE' if preempted() else 'FALSE', flavor=True)
                if self.path == '/latest/meta-data/spot/instance-action':
                    if self.headers.get('X-aws-ec2-metadata-token') != 'TOKEN-1': return self.reply(401, 'no token')
                    if preempted(): return self.reply(200, json.dumps({'action': 'terminate', 'time': '2026-01-01T00:00:00Z'}))
                    return self.reply(404, 'not found')
                self.reply(404, 'not found')
            def log_message(self, *args): pass
        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        open(sys.argv[1] + '.tmp', 'w').write(str(server.server_address[1]))
        os.rename(sys.argv[1] + '.tmp', sys.argv[1])
        server.serve_forever()
        """#

    /// Saves a checkpoint (with what the preemption file says) on SIGUSR1 and ends; else runs on.
    private let checkpointing = #"""
        import os, signal, sys, time
        scratch = os.environ['E2E_SCRATCH']
        modeldir = os.path.join(os.environ['STUDIOML_HOME'], 'experiments', os.environ['STUDIOML_EXPERIMENT'], 'modeldir')
        def on_usr1(number, frame):
            said = open(os.environ['STUDIOML_PREEMPTION_FILE']).read().strip()
            open(os.path.join(modeldir, 'checkpoint.txt'), 'w').write('step 7; ' + said)
            sys.exit(0)
        signal.signal(signal.SIGUSR1, on_usr1)
        saved = os.path.join(modeldir, 'checkpoint.txt')
        if os.path.exists(saved):
            open(os.path.join(scratch, 'resumed'), 'w').write(open(saved).read())
            sys.exit(0)
        open(os.path.join(scratch, 'ready'), 'w').write('1')
        while True: time.sleep(0.05)
        """#

    private func startMetadataServer() throws -> Int {
        let script = fixture.root + "/metadata.py"
        try metadataServer.write(toFile: script, atomically: true, encoding: .utf8)
        let portFile = fixture.root + "/metadata.port"
        _ = try fixture.start(["python3", script, portFile], executable: nil)
        XCTAssertTrue(workerWaitUntil(20) { FileManager.default.fileExists(atPath: portFile) }, "the fake metadata server did not start")
        return try XCTUnwrap(Int(String(contentsOfFile: portFile, encoding: .utf8)))
    }

    private func runPreempted(environment: [String: String], source: String) throws {
        try fixture.write("train.py", checkpointing)
        let key = try fixture.submit(["train.py"])
        let worker = try fixture.start(fixture.workerArguments(["--timeout", "-1", "--lease", "60", "--checkpoint-signal", "SIGUSR1"]),
                                       environment: environment)
        XCTAssertTrue(workerWaitUntil(30) { self.fixture.scratchText("ready") != nil }, worker.stderrText)
        XCTAssertTrue(workerWaitUntil(15) { worker.stderrText.contains("watching") }, "no watcher started: \(worker.stderrText)")
        try "now".write(toFile: fixture.scratchPath("preempt"), atomically: true, encoding: .utf8)
        XCTAssertEqual(worker.waitForExit(within: 30), 128 + SIGTERM, worker.stderrText)
        XCTAssertTrue(worker.stderrText.contains("preemption notice from \(source)"), worker.stderrText)
        XCTAssertTrue(worker.stderrText.contains("final checkpoint uploaded"), worker.stderrText)
        XCTAssertEqual(fixture.status(key), "waiting")
        XCTAssertEqual(fixture.info(key)["reason"] as? String, "preempted")
        XCTAssertEqual(fixture.info(key)["preempted_by"] as? String, source)
        XCTAssertNotNil(fixture.record(key)?["time_last_checkpoint"] as? Double)
        let tar = fixture.storePath("experiments/\(key)/modeldir.tar")
        let checkpoint = try fixture.run(["tar", "-xOf", tar, "--wildcards", "*checkpoint.txt"], executable: nil)
        XCTAssertEqual(checkpoint.stdoutText, "step 7; STUDIOML_PREEMPTED=1", checkpoint.stderrText)
        XCTAssertEqual(fixture.readyMessages().count, 1, "the message is not back on the queue")
        XCTAssertEqual(fixture.leasedMessages(), [])

        // Another worker resumes it from the checkpoint (and knows of no preemption of its own).
        let resumed = try fixture.work(["--single-run"]) // the fixture points both metadata servers nowhere
        XCTAssertEqual(resumed.code, 0, resumed.stderrText)
        XCTAssertEqual(fixture.scratchText("resumed"), "step 7; STUDIOML_PREEMPTED=1", resumed.stderrText)
        XCTAssertEqual(fixture.status(key), "finished")
        XCTAssertNil(fixture.info(key)["reason"], "a finished run still says preempted")
        XCTAssertEqual(fixture.info(key)["preempted_by"] as? String, source)
    }

    /// GCE: the hanging `wait_for_change` GET answers TRUE mid-run.
    func testGCEPreemptionCheckpointsAndHandsBack() throws {
        let port = try startMetadataServer()
        try runPreempted(environment: ["GCE_METADATA_HOST": "127.0.0.1:\(port)", "AWS_EC2_METADATA_DISABLED": "true"], source: "gce")
    }

    /// EC2 spot: `spot/instance-action` appears (through an IMDSv2 token) mid-run.
    func testEC2SpotInterruptionCheckpointsAndHandsBack() throws {
        let port = try startMetadataServer()
        try runPreempted(environment: ["AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(port)",
                                       "GCE_METADATA_HOST": "127.0.0.1:9"], source: "ec2-spot")
    }
}
