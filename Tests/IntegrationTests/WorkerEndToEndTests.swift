import Foundation
import Glibc
import XCTest

/// The happy paths, run as real processes: a StudioML message from the shared sample, `studio run`
/// to a local queue then `studio remote-worker`, and `studio run` here and now; arguments and output
/// bytes arrive exactly.
final class WorkerEndToEndTests: XCTestCase {
    private var fixture: WorkerFixture!

    override func setUpWithError() throws { fixture = try WorkerFixture() }
    override func tearDown() { fixture?.tearDown() }

    /// The shared sample message, its stores switched to `local`, runs to `finished`.
    func testSharedSampleMessageRunsEndToEnd() throws {
        let sample = try XCTUnwrap(FileManager.default.contents(atPath: "/work/shared/samples/studio-message.json"),
                                   "the shared sample message is missing")
        var message = try XCTUnwrap(JSONSerialization.jsonObject(with: sample) as? [String: Any])
        var experiment = try XCTUnwrap(message["experiment"] as? [String: Any])
        var config = try XCTUnwrap(message["config"] as? [String: Any])
        let key = try XCTUnwrap(experiment["key"] as? String)

        // The workspace blob, packed as StudioML's client packs it.
        let source = fixture.root + "/sample-workspace"
        try fixture.write(source + "/hello.py", "import sys\nprint('hello from', *sys.argv[1:])\n")
        let tar = fixture.root + "/workspace.tar"
        let pack = try fixture.run(["python3", "-c", """
            import hashlib, os, sys, tarfile
            source, out = sys.argv[1], sys.argv[2]
            with tarfile.open(out, 'w') as archive:
                for name in sorted(os.listdir(source)):
                    archive.add(os.path.join(source, name), arcname=name)
            print(hashlib.sha256(open(out, 'rb').read()).hexdigest())
            """, source, tar], executable: nil)
        XCTAssertEqual(pack.code, 0, pack.stderrText)
        let digest = pack.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(digest.count, 64)
        let store = fixture.root + "/store"
        let blobKey = "blobstore/\(digest).tar"
        try FileManager.default.createDirectory(atPath: store + "/blobstore", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: tar, toPath: fixture.storePath(blobKey, store: store))

        for section in ["database", "storage"] {
            var settings = try XCTUnwrap(config[section] as? [String: Any])
            settings["type"] = "local"
            settings["endpoint"] = store
            config[section] = settings
        }
        var artifacts = try XCTUnwrap(experiment["artifacts"] as? [String: Any])
        var workspace = try XCTUnwrap(artifacts["workspace"] as? [String: Any])
        workspace["key"] = blobKey
        artifacts["workspace"] = workspace
        experiment["artifacts"] = artifacts
        experiment["x_e2e_unknown"] = ["nested": [1, "two"]]
        message["experiment"] = experiment
        message["config"] = config
        try FileManager.default.createDirectory(atPath: fixture.queueDirectory(), withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: message).write(to: URL(fileURLWithPath: fixture.queueDirectory() + "/sample.json"))

        // Its pythonenv pins versions this machine lacks: run it with what is installed.
        let worker = try fixture.work(["--single-run", "--pip", "never"])
        XCTAssertEqual(worker.code, 0, worker.stderrText)
        XCTAssertEqual(worker.stdoutText, "hello from arg1 arg2\n")

        let record = try XCTUnwrap(fixture.record(key, store: store), "no record in the sample's store")
        XCTAssertEqual(record["status"] as? String, "finished")
        let text = try XCTUnwrap(fixture.recordText(key, store: store))
        for field in ["time_started", "time_finished", "time_last_checkpoint"] {
            XCTAssertNotNil(text.range(of: "\"\(field)\": ?[0-9]+\\.[0-9]+", options: .regularExpression), "\(field) is not a float in \(text)")
        }
        let started = try XCTUnwrap(record["time_started"] as? Double)
        let finished = try XCTUnwrap(record["time_finished"] as? Double)
        XCTAssertGreaterThanOrEqual(finished, started)
        XCTAssertEqual(record["x_e2e_unknown"] as? NSDictionary, ["nested": [1, "two"]] as NSDictionary)
        XCTAssertEqual(record["from_compl_service"] as? Bool, false)
        XCTAssertEqual(record["pythonenv"] as? [String], (experiment["pythonenv"] as? [String]))
        let storedWorkspace = (record["artifacts"] as? [String: Any])?["workspace"] as? [String: Any]
        XCTAssertEqual(storedWorkspace?["bucket"] as? String, "studioml-artifacts")

        XCTAssertEqual(try fixture.fileArtifact(key, "output", store: store), Data("hello from arg1 arg2\n".utf8))
        XCTAssertEqual(fixture.readyMessages(), [])
        XCTAssertEqual(fixture.leasedMessages(), [])
    }

    /// Spaces, quotes, `$`, `*`, the empty string, unicode and option-like words reach the script as typed.
    func testArgumentsArriveIntact() throws {
        try fixture.write("args.py", """
            import json, os, sys
            with open(os.path.join(os.environ['E2E_SCRATCH'], 'argv.json'), 'w') as f:
                json.dump(sys.argv[1:], f)
            """)
        let arguments = ["a b", "\"q\"", "'single'", "$HOME", "*", "", "ünïcødé ✓ 😀", "back\\slash", "tab\there",
                         "new\nline", "--queue", "elsewhere", "-e", "x", ";", "|"]
        let key = try fixture.submit(["args.py"] + arguments)
        // The record holds them as StudioML's submitter does: each through Python's shlex.quote.
        let quoted = try fixture.run(["python3", "-c", "import json, shlex, sys; print(json.dumps([shlex.quote(w) for w in sys.argv[1:]]))"]
                                     + arguments, executable: nil)
        XCTAssertEqual(fixture.record(key)?["args"] as? [String],
                       try JSONSerialization.jsonObject(with: quoted.stdout) as? [String])
        let worker = try fixture.work()
        XCTAssertEqual(worker.code, 0, worker.stderrText)
        let received = try XCTUnwrap(fixture.scratchText("argv.json"), "the script did not run")
        XCTAssertEqual(try JSONSerialization.jsonObject(with: Data(received.utf8)) as? [String], arguments)
        XCTAssertEqual(fixture.status(key), "finished")
    }

    /// Carriage returns, a missing final newline, NULs and bytes that are not UTF-8 pass untouched.
    func testOutputBytesArriveExactly() throws {
        try fixture.write("bytes.py", """
            import os
            os.write(1, b'step 1\\rstep 2\\r\\x00\\x01\\x7f\\xff\\xfe \\x1b[0m tail\\n')
            os.write(2, b'to stderr\\r\\n')
            os.write(1, b'no newline at the end \\xc3')
            """)
        let expected = Data("step 1\rstep 2\r".utf8) + Data([0, 1, 0x7f, 0xff, 0xfe]) + Data(" \u{1b}[0m tail\nto stderr\r\nno newline at the end ".utf8) + Data([0xc3])
        let key = try fixture.submit(["bytes.py"])
        let worker = try fixture.work()
        XCTAssertEqual(worker.code, 0, worker.stderrText)
        XCTAssertEqual(worker.stdout, expected)
        XCTAssertEqual(try fixture.fileArtifact(key, "output"), expected)
    }

    /// `studio run` without --queue runs the experiment here, streams its output, and exits with its code.
    func testRunHereStreamsOutputAndExitsWithTheExperimentsCode() throws {
        try fixture.write("here.py", "import sys\nprint('ran here with', sys.argv[1:])\nsys.exit(5)\n")
        let result = try fixture.run(["run", "here.py", "x y"])
        XCTAssertEqual(result.code, 5, result.stderrText)
        XCTAssertEqual(result.stdoutText, "ran here with ['x y']\n")
        let queues = (try? FileManager.default.contentsOfDirectory(atPath: fixture.home + "/queue")) ?? []
        XCTAssertEqual(queues.filter { $0.hasPrefix("local-run") }, [], "the private queue was left behind")
        let keys = ((try? FileManager.default.contentsOfDirectory(atPath: fixture.home + "/store/experiments")) ?? [])
            .filter { $0.hasSuffix("%obj") }
        XCTAssertEqual(keys.count, 1)
        let key = String(try XCTUnwrap(keys.first).dropLast("%obj".count))
        XCTAssertEqual(fixture.status(key), "failed")
        XCTAssertEqual(fixture.info(key)["exit_code"] as? Int, 5)
        XCTAssertEqual(fixture.info(key)["worker_host"] as? String, ProcessInfo.processInfo.hostName, "the page shows where it ran")
    }
}
