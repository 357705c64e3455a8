#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioInit
import XCTest
import StudioModel

/// Wire compatibility with the real StudioML 0.0.49 (PyPI, in the venv of scripts/studioml-venv.sh) over
/// moto's SQS and S3 on loopback, both ways: its `studio-run` submits and our worker runs, then its own
/// Python API reads what we wrote; our `studio run` submits and its `studio-remote-worker` runs it.
final class StudioMLCompatibilityTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var moto: MotoServer!
    private var venv: StudioMLVenv!
    private var studio = ""
    private var config = ""

    override func setUp() async throws {
        try await super.setUp()
        venv = try StudioMLVenv.required()
        studio = try StudioBinary.path()
        directory = try TemporaryDirectory()
        moto = try MotoServer(in: directory)
        config = directory.file("studioml-config.yaml")
        try StudioMLVenv.config(moto: moto).write(toFile: config, atomically: true, encoding: .utf8)
    }

    override func tearDown() async throws {
        await moto?.stop()
        directory?.remove()
        try await super.tearDown()
    }

    /// A workspace whose experiment reads a file from a subdirectory (the workspace blob was unpacked),
    /// prints two lines and writes its arguments and key into its model directory.
    private func makeWorkspace(_ name: String) throws -> String {
        let workspace = directory.file(name)
        try FileManager.default.createDirectory(atPath: workspace + "/data", withIntermediateDirectories: true)
        try "forty-two\n".write(toFile: workspace + "/data/input.txt", atomically: true, encoding: .utf8)
        try """
            import json, os, sys
            key = os.environ["STUDIOML_EXPERIMENT"]
            modeldir = os.path.join(os.environ["STUDIOML_HOME"], "experiments", key, "modeldir")
            os.makedirs(modeldir, exist_ok=True)
            data = open(os.path.join("data", "input.txt")).read().strip()
            with open(os.path.join(modeldir, "model.json"), "w") as f:
                json.dump({"args": sys.argv[1:], "key": key, "data": data}, f)
            print("compat experiment", " ".join(sys.argv[1:]), data)
            print("second line")

            """.write(toFile: workspace + "/compat.py", atomically: true, encoding: .utf8)
        return workspace
    }

    private func environment(_ name: String) -> [String: String] {
        venv.environment(moto: moto, home: directory.file(name))
    }

    /// Runs `code` in the venv's Python (boto3 and StudioML available) with `arguments`; its stdout.
    private func python(_ code: String, _ arguments: [String] = [], home: String = "python") async throws -> String {
        let script = directory.file("snippet-\(UUID().uuidString.prefix(8)).py")
        try code.write(toFile: script, atomically: true, encoding: .utf8)
        let run = try SupervisedRun([venv.python, script] + arguments, in: directory, environment: environment(home))
        let status = await run.wait(timeout: 120)
        XCTAssertEqual(status.shellCode, 0, "python snippet failed: \(run.standardError.suffix(3000))")
        return run.standardOutput
    }

    /// The raw record and the members of one artifact tar, read with boto3 (not through either side).
    private func s3Snapshot(key: String) async throws -> S3Snapshot {
        let output = try await python("""
            import boto3, io, json, sys, tarfile
            s3 = boto3.client('s3')
            key = sys.argv[1]
            record = json.loads(s3.get_object(Bucket='studioml-meta', Key='experiments/' + key)['Body'].read())
            tars = {}
            for tag in ('output', 'modeldir'):
                body = s3.get_object(Bucket='studioml-artifacts', Key='experiments/%s/%s.tar' % (key, tag))['Body'].read()
                with tarfile.open(fileobj=io.BytesIO(body)) as t:
                    tars[tag] = {m.name: (t.extractfile(m).read().decode() if m.isfile() else '') for m in t.getmembers()}
            sqs = boto3.client('sqs')
            url = sqs.get_queue_url(QueueName=sys.argv[2])['QueueUrl']
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=['All'])['Attributes']
            left = int(attributes['ApproximateNumberOfMessages']) + int(attributes['ApproximateNumberOfMessagesNotVisible'])
            print(json.dumps({'record': json.dumps(record), 'tars': tars, 'left': left}))
            """, [key, queueName])
        return try JSONDecoder().decode(S3Snapshot.self, from: Data(output.utf8))
    }

    private var queueName = ""

    // MARK: - StudioML submits, we run, StudioML reads back

    func testStudioMLSubmitsOurWorkerRunsItAndStudioMLsAPIReadsTheRecordAndArtifactsBack() async throws {
        queueName = "sqs_compat_\(UInt32.random(in: 0...UInt32.max))"
        let workspace = try makeWorkspace("py-workspace")

        // StudioML's own submit: its S3 records, its workspace blob, its SQS message.
        let submit = try SupervisedRun([venv.studioRun, "--config", config, "--queue", queueName, "--force-git", "compat.py", "alpha", "n=3", "two words"],
                                       in: directory, environment: environment("py-submitter"), workingDirectory: workspace)
        let submitted = await submit.wait(timeout: 180)
        XCTAssertEqual(submitted.shellCode, 0, "StudioML's studio-run failed: \(submit.standardError.suffix(3000))")
        let key = try XCTUnwrap(submittedKey(in: submit.standardError), "no 'submitted experiment' line in: \(submit.standardError.suffix(2000))")

        // Our worker: the submitter's workspace path exists on this host, which StudioML's worker would
        // clobber (docs/wire-format.md §10.6); ours must use the blob, so the path is moved away first.
        try FileManager.default.moveItem(atPath: workspace, toPath: workspace + "-moved")
        // The default pip policy: StudioML's `pythonenv` is its submitter's whole freeze (pip and setuptools
        // included), all present in the venv whose python3 is first on PATH, so nothing is installed.
        let worker = try SupervisedRun([studio, "remote-worker", "--queue", queueName, "--single-run", "--timeout", "30"],
                                       in: directory, environment: environment("our-worker"))
        let worked = await worker.wait(timeout: 120)
        XCTAssertEqual(worked.shellCode, 0, "our worker failed: \(worker.standardError.suffix(3000))")
        XCTAssertTrue(worker.standardOutput.contains("compat experiment alpha n=3 two words forty-two"), worker.standardOutput)
        XCTAssertFalse(worker.standardError.contains("missing requirement"), "pip had to install: \(worker.standardError.suffix(2000))")

        // The final record and artifacts on S3, as stored.
        let snapshot = try await s3Snapshot(key: key)
        let record = try JSONDecoder().decode(StoredRecord.self, from: Data(snapshot.record.utf8))
        XCTAssertEqual(record.status, "finished")
        XCTAssertEqual(record.key, key)
        XCTAssertEqual(record.filename, "compat.py")
        // StudioML stores each argument through shlex.quote; the script got them as typed (below).
        XCTAssertEqual(record.args, ["alpha", "n=3", "'two words'"])
        let started = try XCTUnwrap(record.time_started), finished = try XCTUnwrap(record.time_finished)
        XCTAssertLessThanOrEqual(record.time_added, started)
        XCTAssertLessThanOrEqual(started, finished)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(record.time_last_checkpoint), started)
        // StudioML's own fields survive our read-modify-write untouched.
        XCTAssertEqual(record.owner, "guest")
        XCTAssertTrue(record.pythonenv.contains("studioml==0.0.49"), "\(record.pythonenv)")
        XCTAssertEqual(record.artifacts["workspace"]?.mutable, false)
        XCTAssertEqual(record.artifacts["output"]?.key, "experiments/\(key)/output.tar")
        XCTAssertEqual(snapshot.tars["output"], ["./output": "compat experiment alpha n=3 two words forty-two\nsecond line\n"])
        XCTAssertEqual(snapshot.tars["modeldir"].map { Array($0.keys) }, ["model.json"], "modeldir tar layout: no ./ prefix, no top entry")
        XCTAssertEqual(snapshot.left, 0, "the message was not deleted")

        // StudioML's Python API reads back what we wrote: its S3 provider, its artifact download
        // (tar → single file / directory) and its presigned-URL stream, as its UI and CLI do.
        let readBack = try await python("""
            import json, os, sys
            from studio import model
            config = model.get_config(sys.argv[1])
            key, scratch = sys.argv[2], sys.argv[3]
            # Its single-file restore copies into the target's directory without creating it.
            os.makedirs(scratch, exist_ok=True)
            with model.get_db_provider(config) as db:
                e = db.get_experiment(key)
                output = db.get_artifact(e.artifacts['output'], local_path=os.path.join(scratch, 'output'))
                modeldir = db.get_artifact(e.artifacts['modeldir'], local_path=os.path.join(scratch, 'modeldir'))
                stream = e.artifacts['output'].stream()
                member = stream.next()
                print(json.dumps({'status': e.status, 'key': e.key, 'filename': e.filename, 'args': e.args,
                                  'time_finished': e.time_finished,
                                  'output': open(output).read(),
                                  'streamed': stream.extractfile(member).read().decode(), 'streamed_member': member.name,
                                  'model': json.load(open(os.path.join(modeldir, 'model.json')))}))
            """, [config, key, directory.file("readback")], home: "py-reader")
        let seen = try JSONDecoder().decode(StudioMLView.self, from: Data((readBack.split(separator: "\n").last ?? "").utf8))
        XCTAssertEqual(seen.status, "finished")
        XCTAssertEqual(seen.key, key)
        XCTAssertEqual(seen.filename, "compat.py")
        // StudioML's reader rebuilds its Experiment through shlex.quote once more (its bug, docs/wire-format.md §10.3).
        XCTAssertEqual(seen.args, ["alpha", "n=3", ShellWord.quote("'two words'")])
        XCTAssertEqual(seen.time_finished, finished)
        XCTAssertEqual(seen.output, "compat experiment alpha n=3 two words forty-two\nsecond line\n")
        XCTAssertEqual(seen.streamed_member, "./output")
        XCTAssertEqual(seen.streamed, seen.output)
        XCTAssertEqual(seen.model, ModelFile(args: ["alpha", "n=3", "two words"], key: key, data: "forty-two"))
    }

    // MARK: - We submit, StudioML runs

    func testOurSubmitIsRunToCompletionByStudioMLsPythonWorker() async throws {
        queueName = "sqs_compat_\(UInt32.random(in: 0...UInt32.max))"
        let workspace = try makeWorkspace("our-workspace")

        let submit = try SupervisedRun([studio, "run", "--config", config, "--queue", queueName, "compat.py", "beta", "k=7"],
                                       in: directory, environment: environment("our-submitter"), workingDirectory: workspace)
        let submitted = await submit.wait(timeout: 120)
        XCTAssertEqual(submitted.shellCode, 0, "our studio run failed: \(submit.standardError.suffix(3000))")
        let key = submit.standardOutput.filter { !$0.isWhitespace }
        XCTAssertFalse(key.isEmpty, "studio run printed \(submit.standardOutput.debugDescription), not one key")

        // StudioML's worker rm -rf's and re-extracts the submitter's workspace path when it exists on its
        // host (docs/wire-format.md §10.6); moved away, it must download our blob into its blob cache and untar it.
        try FileManager.default.moveItem(atPath: workspace, toPath: workspace + "-moved")
        let worker = try SupervisedRun([venv.remoteWorker, "--queue", queueName, "--single-run", "--timeout", "30"],
                                       in: directory, environment: environment("py-worker"), workingDirectory: directory.path)
        let worked = await worker.wait(timeout: 240)
        XCTAssertEqual(worked.shellCode, 0, "StudioML's worker failed: \(worker.standardError.suffix(4000))")
        // Its worker echoes the experiment's lines to its stdout (stripped; docs/wire-format.md §11, step 11).
        XCTAssertTrue(worker.standardOutput.contains("compat experiment beta k=7 forty-two"),
                      "stdout: \(worker.standardOutput.suffix(2000))\nstderr: \(worker.standardError.suffix(3000))")
        XCTAssertTrue(worker.standardError.contains("/blobcache/"), "it did not run in its blob cache: \(worker.standardError.suffix(3000))")

        let snapshot = try await s3Snapshot(key: key)
        let record = try JSONDecoder().decode(StoredRecord.self, from: Data(snapshot.record.utf8))
        XCTAssertEqual(record.status, "finished")
        XCTAssertEqual(record.key, key)
        XCTAssertEqual(record.args, ["beta", "k=7"])
        let started = try XCTUnwrap(record.time_started), finished = try XCTUnwrap(record.time_finished)
        XCTAssertLessThanOrEqual(record.time_added, started)
        XCTAssertLessThanOrEqual(started, finished)
        // Its modeldir checkpoint: the experiment found its model directory where StudioML puts it.
        let model = try XCTUnwrap(snapshot.tars["modeldir"]?["model.json"], "no model.json in modeldir.tar: \(snapshot.tars)")
        XCTAssertEqual(try JSONDecoder().decode(ModelFile.self, from: Data(model.utf8)), ModelFile(args: ["beta", "k=7"], key: key, data: "forty-two"))
        // StudioML 0.0.49 uploads `output` before flushing it (docs/wire-format.md §10.4): the single-file layout is there, and
        // its text is whatever had reached the file (empty for a short run, stripped lines joined).
        let output = try XCTUnwrap(snapshot.tars["output"], "no output.tar")
        XCTAssertEqual(Array(output.keys), ["./output"])
        let text = output["./output"] ?? ""
        XCTAssertTrue(text.isEmpty || "compat experiment beta k=7 forty-twosecond line".hasPrefix(text), text)
        XCTAssertEqual(snapshot.left, 0, "the message was not deleted")

        // And our own tools read the record StudioML's worker left.
        let status = try SupervisedRun([studio, "status", "--config", config, key], in: directory, environment: environment("our-status"))
        let shown = await status.wait(timeout: 60)
        XCTAssertEqual(shown.shellCode, 0, status.standardError)
        XCTAssertTrue(status.standardOutput.contains("status:      finished"), status.standardOutput)
        XCTAssertTrue(status.standardOutput.contains("command:     compat.py beta k=7"), status.standardOutput)
    }

    private func submittedKey(in log: String) -> String? {
        guard let range = log.range(of: "studio run: submitted experiment ") else { return nil }
        let key = log[range.upperBound...].prefix { !$0.isWhitespace }
        return key.isEmpty ? nil : String(key)
    }
}

/// The raw record and two artifact tars (member name → text) from S3, and what is left on the queue.
private struct S3Snapshot: Decodable {
    var record: String
    var tars: [String: [String: String]]
    var left: Int
}

/// The record fields StudioML's tools read (`studio runs`, its UI, `get_experiment`).
private struct StoredRecord: Decodable {
    var key: String
    var status: String
    var filename: String
    var args: [String]
    var owner: String?
    var pythonenv: [String]
    var time_added: Double
    var time_started: Double?
    var time_last_checkpoint: Double?
    var time_finished: Double?
    var artifacts: [String: StoredArtifact]
}

private struct StoredArtifact: Decodable {
    var key: String?
    var mutable: Bool?
}

/// What StudioML's Python API returned.
private struct StudioMLView: Decodable {
    var status: String
    var key: String
    var filename: String
    var args: [String]
    var time_finished: Double?
    var output: String
    var streamed: String
    var streamed_member: String
    var model: ModelFile
}

/// The experiment's model.json.
private struct ModelFile: Codable, Equatable {
    var args: [String]
    var key: String
    var data: String
}
