import Foundation
import Glibc
import XCTest

/// Exit codes of `studio remote-worker` and what it records when experiments, queues, messages or
/// requirements go wrong.
final class WorkerFailureTests: XCTestCase {
    private var fixture: WorkerFixture!

    override func setUpWithError() throws { fixture = try WorkerFixture() }
    override func tearDown() { fixture?.tearDown() }

    /// `--single-run` exits with the experiment's code, and the record says `failed` with that code.
    func testSingleRunExitsWithTheExperimentsExitCode() throws {
        try fixture.write("three.py", "import sys\nprint('failing')\nsys.exit(3)\n")
        let key = try fixture.submit(["three.py"])
        let worker = try fixture.work()
        XCTAssertEqual(worker.code, 3, worker.stderrText)
        XCTAssertEqual(fixture.status(key), "failed")
        XCTAssertEqual(fixture.info(key)["exit_code"] as? Int, 3)
        XCTAssertEqual(try fixture.fileArtifact(key, "output"), Data("failing\n".utf8))
    }

    /// An experiment killed by signal N: the worker exits 128+N, and the record names the signal.
    func testExperimentKilledBySignalGives128PlusN() throws {
        try fixture.write("die.py", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
        let key = try fixture.submit(["die.py"])
        let worker = try fixture.work()
        XCTAssertEqual(worker.code, 128 + SIGKILL, worker.stderrText)
        XCTAssertEqual(fixture.status(key), "failed")
        XCTAssertEqual(fixture.info(key)["exit_code"] as? Int, Int(128 + SIGKILL))
        XCTAssertEqual(fixture.info(key)["signal"] as? Int, Int(SIGKILL))
    }

    /// An empty queue is drained: 0, with and without `--single-run`.
    func testDrainedQueueExitsZero() throws {
        XCTAssertEqual(try fixture.work(["--single-run", "--timeout", "1"]).code, 0)
        XCTAssertEqual(try fixture.work(["--timeout", "1"]).code, 0)
    }

    /// A queue that cannot be used (no credentials for SQS, an unsafe local name) is a configuration error: 42 and one line saying why.
    func testUnusableQueueNameExits42WithOneLine() throws {
        for name in ["sqs_x", "local/../x"] {
            let result = try fixture.run(["remote-worker", "--queue", name, "--single-run"])
            XCTAssertEqual(result.code, 42, "\(name): \(result.stderrText)")
            let lines = result.stderrText.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(name): \(result.stderrText)")
            XCTAssertTrue(result.stderrText.contains(name), "\(name): \(result.stderrText)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.home + "/x"), "local/../x made a directory outside the queues")
    }

    /// A message that is not JSON is kept under rejected/, acknowledged, and the next message still runs.
    func testMalformedMessageIsRejectedAndTheNextOneRuns() throws {
        try fixture.write("good.py", "print('good ran')\n")
        let key = try fixture.submit(["good.py"])
        // Sorts before the submitted message; dated back so that the queue takes it at once.
        let bad = fixture.queueDirectory() + "/0-bad.json"
        try "this is { not json".write(toFile: bad, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: bad)
        XCTAssertEqual(fixture.readyMessages().first, "0-bad.json")

        let worker = try fixture.work(["--timeout", "2"])
        XCTAssertEqual(worker.code, 0, worker.stderrText)
        let rejected = (try? FileManager.default.contentsOfDirectory(atPath: fixture.home + "/rejected")) ?? []
        XCTAssertEqual(rejected.count, 1, "rejected/: \(rejected)")
        // Kept whole (as text: not JSON, so nothing in it can be told apart as a secret), with why.
        let kept = try rejected.first.flatMap { FileManager.default.contents(atPath: fixture.home + "/rejected/" + $0) }
            .flatMap { try JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        XCTAssertEqual(kept?["message_text"] as? String, "this is { not json")
        XCTAssertTrue((kept?["reason"] as? String ?? "").contains("not a StudioML experiment"), "\(kept ?? [:])")
        XCTAssertEqual(fixture.status(key), "finished")
        XCTAssertEqual(worker.stdoutText, "good ran\n")
        XCTAssertEqual(fixture.readyMessages() + fixture.leasedMessages(), [])
        let badLine = worker.stderrText.split(separator: "\n").first { $0.contains("0-bad") } ?? ""
        XCTAssertTrue(badLine.contains("rejected"), "no line says where the bad message went: \(worker.stderrText)")
    }

    /// `--pip missing` with every requirement present installs nothing and runs the experiment.
    func testPipMissingRunsWithoutInstallingWhatIsPresent() throws {
        try fixture.write("requirements.txt", "pip\nsetuptools\nPyYAML\n")
        try fixture.write("uses_yaml.py", "import yaml\nprint('yaml', yaml.safe_load('[1, 2]'))\n")
        let key = try fixture.submit(["uses_yaml.py"])
        XCTAssertEqual(fixture.record(key)?["pythonenv"] as? [String], ["pip", "setuptools", "PyYAML"])
        let worker = try fixture.work(["--single-run", "--pip", "missing"])
        XCTAssertEqual(worker.code, 0, worker.stderrText)
        XCTAssertFalse(worker.stderrText.contains("installing"), worker.stderrText)
        XCTAssertEqual(fixture.status(key), "finished")
        XCTAssertEqual(try fixture.fileArtifact(key, "output"), Data("yaml [1, 2]\n".utf8))
    }

    /// A requirement pip cannot install fails the experiment unrun, with pip's words in its output.
    func testPipFailureFailsTheExperimentWithPipsOutput() throws {
        try fixture.write("requirements.txt", "studio-no-such-package-xyz==1.0\n")
        try fixture.write("never.py", "import os\nopen(os.path.join(os.environ['E2E_SCRATCH'], 'ran'), 'w').write('ran')\n")
        let key = try fixture.submit(["never.py"])
        let worker = try fixture.work(["--single-run", "--pip", "missing"], within: 120)
        XCTAssertNotEqual(worker.code, 0, worker.stderrText)
        XCTAssertNil(fixture.scratchText("ran"), "the experiment ran without its requirements")
        XCTAssertEqual(fixture.status(key), "failed")
        XCTAssertTrue((fixture.info(key)["reason"] as? String ?? "").contains("pip"), "\(fixture.info(key))")
        let output = String(decoding: try XCTUnwrap(fixture.fileArtifact(key, "output"), "no output artifact"), as: UTF8.self)
        XCTAssertTrue(output.contains("studio-no-such-package-xyz"), "pip's output is not in the artifact: \(output)")
        XCTAssertEqual(fixture.readyMessages() + fixture.leasedMessages(), [])
    }
}
