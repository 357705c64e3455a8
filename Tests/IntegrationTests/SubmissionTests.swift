import Foundation
import Glibc
import XCTest

/// `studio run --queue` end to end: a signal part-way leaves nothing half-submitted, a virtualenv in the
/// workspace does not stop workers from unpacking it, and a queue name SQS would refuse is a configuration error.
final class SubmissionTests: XCTestCase {
    private var fixture: WorkerFixture!

    override func setUpWithError() throws { fixture = try WorkerFixture() }
    override func tearDown() { fixture?.tearDown() }

    /// SIGINT or SIGTERM while the workspace is being packed: studio exits 128+N, the queue stays empty, no record
    /// (so none says `waiting`) and no blob is stored, and the half-written archive is removed.
    func testASignalWhilePackingLeavesNothingHalfSubmitted() throws {
        // Packing 4 GiB (sparse: no disk used) through gzip takes many seconds (~5 s a GiB here), and its archive
        // file exists from the first byte: the signal is sent once that file is there, so it lands mid-pack.
        try fixture.write("train.py", "print('never runs')\n")
        let big = fixture.workspace + "/data.bin"
        XCTAssertTrue(FileManager.default.createFile(atPath: big, contents: nil))
        XCTAssertEqual(truncate(big, 4 << 30), 0)
        try fixture.write(fixture.home + "/config.yaml", "database:\n  type: local\nstorage:\n  type: local\n  compression: gzip\n")
        let scratch = fixture.home + "/tmp"
        for (signal, code, name) in [(SIGINT, Int32(130), "SIGINT"), (SIGTERM, Int32(143), "SIGTERM")] {
            let submit = try fixture.start(["run", "--queue", "local", "train.py"])
            let packing = workerWaitUntil(60) {
                ((try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []).contains { $0.hasPrefix("pack-") }
                    || submit.exitCode != nil
            }
            XCTAssertTrue(packing && submit.exitCode == nil, "\(name): packing never began: \(submit.stderrText)")
            submit.send(signal)
            let exit = submit.waitForExit(within: 30)
            XCTAssertEqual(exit, code, "\(name): \(submit.stderrText)")
            XCTAssertTrue(submit.stderrText.contains("interrupted by \(name) before the experiment was queued: nothing was submitted"),
                          submit.stderrText)
            XCTAssertEqual(submit.stdout, Data(), "no key printed")
            XCTAssertEqual(fixture.readyMessages(), [], "\(name): a message reached the queue")
            let stored = (FileManager.default.enumerator(atPath: fixture.home + "/store")?.allObjects as? [String]) ?? []
            XCTAssertEqual(stored.filter { $0.hasPrefix("experiments/") || $0.hasPrefix("blobstore/") || $0.hasPrefix("users/") }
                .filter { $0.hasSuffix("%obj") }, [],
                           "\(name): interrupted mid-pack, nothing may be stored (a blob here means packing had finished)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch), [], "\(name): the archive being written is removed")
        }
    }

    /// A workspace holding a virtualenv (absolute links to the system's python) and an absolute link of its own
    /// is packed without them, with a warning naming them, and a worker unpacks and runs it.
    func testAWorkspaceWithAVirtualenvAndAbsoluteLinksRunsOnAWorker() throws {
        try fixture.write("train.py", """
            import os
            assert not os.path.exists('.venv'), 'the virtualenv travelled'
            assert not os.path.lexists('hostname'), 'the absolute link travelled'
            print('ran with', open('latest').read().strip())
            """)
        try fixture.write("notes.txt", "relative links travel")
        XCTAssertEqual(symlink("notes.txt", fixture.workspace + "/latest"), 0)
        XCTAssertEqual(symlink("/etc/hostname", fixture.workspace + "/hostname"), 0)
        let venv = try fixture.run(["python3", "-m", "venv", "--without-pip", ".venv"], executable: nil)
        XCTAssertEqual(venv.code, 0, venv.stderrText)
        var st = stat()
        XCTAssertEqual(lstat(fixture.workspace + "/.venv/bin/python", &st), 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: fixture.workspace + "/.venv/pyvenv.cfg"))

        let submit = try fixture.run(["run", "--queue", "local", "train.py"])
        XCTAssertEqual(submit.code, 0, submit.stderrText)
        XCTAssertTrue(submit.stderrText.contains("1 virtualenv(s)") && submit.stderrText.contains(": .venv"), submit.stderrText)
        XCTAssertTrue(submit.stderrText.contains("1 symlink(s) that no worker would unpack") && submit.stderrText.contains("hostname -> /etc/hostname"),
                      submit.stderrText)
        let key = submit.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)

        let worker = try fixture.work()
        XCTAssertEqual(worker.code, 0, worker.stderrText)
        XCTAssertEqual(fixture.status(key), "finished", worker.stderrText)
        XCTAssertEqual(worker.stdoutText, "ran with relative links travel\n")
    }

    /// A queue name SQS would refuse is a one-line configuration error before any request: the worker exits 42,
    /// `studio run` exits 42 without packing anything. The endpoint is a closed port, so a request would hang in retries.
    func testAnInvalidSQSQueueNameIsAConfigurationErrorBeforeAnyRequest() throws {
        let aws = ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
                   "AWS_ENDPOINT_URL": "http://127.0.0.1:9"]
        try fixture.write("train.py", "print('never runs')\n")
        let worker = try fixture.run(["remote-worker", "--queue", "sqs_my jobs", "--single-run"], environment: aws, within: 20)
        XCTAssertEqual(worker.code, 42, worker.stderrText)
        XCTAssertTrue(worker.stderrText.contains("\"sqs_my jobs\" is not a valid SQS queue name: use 1 to 80 letters, digits, - or _"),
                      worker.stderrText)
        XCTAssertEqual(worker.stderrText.split(separator: "\n").filter { $0.contains(" error ") }.count, 1, worker.stderrText)

        let submit = try fixture.run(["run", "--queue", "sqs_jobs.v2", "train.py"], environment: aws, within: 20)
        XCTAssertEqual(submit.code, 42, submit.stderrText)
        XCTAssertTrue(submit.stderrText.contains("\"sqs_jobs.v2\" is not a valid SQS queue name"), submit.stderrText)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.home + "/store"), "nothing was packed or stored")
    }
}
