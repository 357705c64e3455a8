import Foundation
import Glibc
import XCTest

/// `studio run --queue` end to end: a signal part-way leaves nothing half-submitted, a virtualenv in the
/// workspace does not stop workers from unpacking it, and a queue name SQS would refuse is a configuration error.
final class SubmissionTests: XCTestCase {
    private var fixture: WorkerFixture!

    override func setUpWithError() throws { fixture = try WorkerFixture() }
    override func tearDown() { fixture?.tearDown() }

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
