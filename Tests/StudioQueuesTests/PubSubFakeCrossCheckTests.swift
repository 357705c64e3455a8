#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import XCTest
@testable import StudioQueues

/// The fake checked by an independent Pub/Sub client, gcloud-aio-pubsub (`scripts/check-fake-pubsub.py`).
final class PubSubFakeCrossCheckTests: XCTestCase {
    func runChecker(_ fake: FakePubSub, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let output = fake.directory + "/checker-\(UUID().uuidString.prefix(6)).log"
        let pid = try spawnProcess(["/usr/bin/env", "python3", scriptsDirectory + "/check-fake-pubsub.py"] + arguments,
                                   environment: ["PUBSUB_EMULATOR_HOST": fake.host], outputPath: output)
        guard let status = waitForExit(pid, seconds: 60) else {
            kill(pid, SIGKILL)
            _ = waitForExit(pid, seconds: 5)
            XCTFail("the gcloud-aio checker did not finish within 60 s")
            return (-1, "")
        }
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        if status == 2 { throw XCTSkip("gcloud-aio-pubsub is not installed: pip install gcloud-aio-pubsub (\(text))") }
        return (status, text)
    }

    func testGcloudAioRoundTripsThroughTheFake() throws {
        let fake = try FakePubSub(for: self, arguments: ["--pull-hold", "1"])
        let (status, output) = try runChecker(fake, ["aio-jobs"])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("OK"), output)
    }

    func testGcloudAioReceivesWhatStudioPublished() async throws {
        let fake = try FakePubSub(for: self, arguments: ["--pull-hold", "1"])
        let queue = try PubSubQueue(name: "ours", environment: ["PUBSUB_EMULATOR_HOST": fake.host], retry: quickRetry)
        let payload = #"{"experiment": {"key": "cross-check"}}"#
        try await queue.send(body(payload))
        let (status, output) = try runChecker(fake, ["ours", payload])
        XCTAssertEqual(status, 0, output)
    }
}
