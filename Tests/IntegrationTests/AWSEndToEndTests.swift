#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioInit
import XCTest

/// `studio run --queue sqs_…` then `studio remote-worker --queue sqs_… --single-run` against moto (SQS + S3),
/// checked from the outside with boto3 (which moto brings along).
final class AWSEndToEndTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var moto: MotoServer!
    private var studio = ""

    override func setUp() async throws {
        try await super.setUp()
        studio = try StudioBinary.path()
        directory = try TemporaryDirectory()
        // Spawning starts the supervisor's waiter; it does not take on init duties in the test process.
        moto = try MotoServer(in: directory)
    }

    override func tearDown() async throws {
        await moto?.stop()
        directory?.remove()
        try await super.tearDown()
    }

    private func environment(home: String) -> [String: String] {
        var environment = ProcessEnvironment.current
        for name in environment.keys where name.hasPrefix("AWS_") { environment.removeValue(forKey: name) }
        environment.merge(moto.awsEnvironment) { $1 }
        environment["STUDIOML_HOME"] = home
        environment["HOME"] = directory.path
        return environment
    }

    private func writeConfig() throws -> String {
        let config = moto.studioConfig
        let path = directory.file("config.yaml")
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs a boto3 snippet against moto; returns its stdout.
    private func boto3(_ code: String) async throws -> String {
        let script = "import boto3, json, sys\ns3 = boto3.client('s3', region_name='us-east-1', endpoint_url='\(moto.endpoint)')\n"
            + "sqs = boto3.client('sqs', region_name='us-east-1', endpoint_url='\(moto.endpoint)')\n" + code
        let run = try SupervisedRun(["python3", "-c", script], in: directory, environment: environment(home: directory.file("py")))
        let status = await run.wait(timeout: 60)
        XCTAssertEqual(status.shellCode, 0, run.standardError)
        return run.standardOutput
    }

    func testSubmitToSQSThenWorkItWithRecordsAndArtifactsOnS3AndTheLeaseKeptPastSeveralTimeouts() async throws {
        let workspace = directory.file("workspace")
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        try "import time\nprint('hello from sqs', flush=True)\ntime.sleep(8)\nprint('done', flush=True)\n"
            .write(toFile: workspace + "/hello.py", atomically: true, encoding: .utf8)
        let config = try writeConfig()
        let queue = "sqs_e2e_\(UInt32.random(in: 0...UInt32.max))"

        let submit = try SupervisedRun([studio, "run", "--config", config, "--queue", queue, "hello.py"], in: directory,
                                       environment: environment(home: directory.file("submitter")), workingDirectory: workspace)
        let submitted = await submit.wait(timeout: 120)
        XCTAssertEqual(submitted.shellCode, 0, submit.standardError)
        let key = submit.standardOutput.filter { !$0.isWhitespace }
        XCTAssertFalse(key.isEmpty)

        let waiting = try await boto3("print(json.loads(s3.get_object(Bucket='studioml-meta', Key='experiments/\(key)')['Body'].read())['status'])")
        XCTAssertEqual(waiting.filter { !$0.isWhitespace }, "waiting")

        let worker = try SupervisedRun([studio, "remote-worker", "--queue", queue, "--single-run", "--lease", "3", "--timeout", "30", "--pip", "never"],
                                       in: directory, environment: environment(home: directory.file("worker")))
        // While the experiment runs (~8 s, past several 3 s leases), nobody else may receive the message.
        let spy = try await boto3("""
            import time
            url = sqs.get_queue_url(QueueName='\(queue)')['QueueUrl']
            time.sleep(2)
            seen = 0
            end = time.time() + 7
            while time.time() < end:
                seen += len(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, VisibilityTimeout=0).get('Messages', []))
            print(seen)
            """)
        XCTAssertEqual(spy.filter { !$0.isWhitespace }, "0", "the message was redelivered while leased")

        let worked = await worker.wait(timeout: 120)
        XCTAssertEqual(worked.shellCode, 0, worker.standardError)
        XCTAssertFalse(worker.standardError.contains("lost the lease"), worker.standardError)

        let record = try await boto3("""
            r = json.loads(s3.get_object(Bucket='studioml-meta', Key='experiments/\(key)')['Body'].read())
            print(r['status'])
            import tarfile, io
            t = tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket='studioml-artifacts', Key='experiments/\(key)/output.tar')['Body'].read()))
            print(t.extractfile(t.getmembers()[0]).read().decode())
            url = sqs.get_queue_url(QueueName='\(queue)')['QueueUrl']
            a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=['All'])['Attributes']
            print('left', int(a['ApproximateNumberOfMessages']) + int(a['ApproximateNumberOfMessagesNotVisible']))
            """)
        let lines = record.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "finished", record)
        XCTAssertTrue(record.contains("hello from sqs"), record)
        XCTAssertEqual(lines.last, "left 0", record)
    }

    func testMissingCredentialsExit42WithAOneLineMessage() async throws {
        var environment = environment(home: directory.file("worker"))
        for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] { environment.removeValue(forKey: name) }
        let worker = try SupervisedRun([studio, "remote-worker", "--queue", "sqs_nocreds", "--single-run"], in: directory,
                                       environment: environment)
        let status = await worker.wait(timeout: 60)
        XCTAssertEqual(status.shellCode, 42, worker.standardError)
        XCTAssertTrue(worker.standardError.contains("no AWS credentials found"), worker.standardError)
    }
}
