#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioCredentials
import StudioHTTP
import StudioQueues
import Glibc
import XCTest

final class SQSQueueTests: XCTestCase {
    override class func tearDown() {
        SharedMoto.stop()
        super.tearDown()
    }

    private let fastRetry = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50))

    private func makeQueue(_ prefix: String = "sqs_test", endpoint: String? = nil, createIfMissing: Bool = true) throws -> SQSQueue {
        let moto = try SharedMoto.get()
        let chain = try AWSCredentialChain(environment: moto.environment)
        let name = "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
        return SQSQueue(name: name, endpoint: endpoint ?? moto.endpoint, chain: chain, createIfMissing: createIfMissing, retry: fastRetry)
    }

    func testSendReceiveAcknowledge() async throws {
        let queue = try makeQueue()
        try await queue.send(Data(#"{"experiment": {"key": "k1"}}"#.utf8))
        let message = try await queue.receive(lease: 30, wait: 5)
        let received = try XCTUnwrap(message)
        XCTAssertEqual(String(decoding: received.body, as: UTF8.self), #"{"experiment": {"key": "k1"}}"#)
        XCTAssertEqual(received.deliveryAttempt, 1)
        XCTAssertFalse(received.receipt.isEmpty)
        let leased = try await queue.counts()
        XCTAssertEqual(leased, QueueCounts(ready: 0, leased: 1))
        try await queue.acknowledge(received)
        let after = try await queue.receive(lease: 30, wait: 0)
        XCTAssertNil(after)
        let counts = try await queue.counts()
        XCTAssertEqual(counts.total, 0)
    }

    func testQueueURLIsLookedUpOrCreated() async throws {
        let queue = try makeQueue()
        let url = try await queue.queueURL()
        XCTAssertTrue(url.hasSuffix("/" + queue.name), url)
        // A second queue object finds the existing queue through GetQueueUrl.
        let moto = try SharedMoto.get()
        let again = SQSQueue(name: queue.name, endpoint: moto.endpoint, chain: try AWSCredentialChain(environment: moto.environment),
                             createIfMissing: false)
        let sameURL = try await again.queueURL()
        XCTAssertEqual(sameURL, url)
    }

    func testReleaseMakesTheMessageVisibleAtOnceAndCountsTheDelivery() async throws {
        let queue = try makeQueue()
        try await queue.send(Data("one".utf8))
        let first = try await queue.receive(lease: 60, wait: 5)
        try await queue.release(try XCTUnwrap(first))
        let second = try await queue.receive(lease: 60, wait: 5)
        let redelivered = try XCTUnwrap(second)
        XCTAssertEqual(redelivered.id, first?.id)
        XCTAssertEqual(redelivered.deliveryAttempt, 2)
        try await queue.acknowledge(redelivered)
    }

    func testAnExpiredLeaseRedeliversTheMessage() async throws {
        let queue = try makeQueue()
        try await queue.send(Data("expiring".utf8))
        let first = try await queue.receive(lease: 1, wait: 5)
        XCTAssertNotNil(first)
        let start = ContinuousClock.now
        var again: QueueMessage?
        while again == nil, ContinuousClock.now - start < .seconds(10) {
            again = try await queue.receive(lease: 30, wait: 1)
        }
        XCTAssertEqual(again?.id, first?.id)
        XCTAssertEqual(again?.deliveryAttempt, 2)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(900), "not visible before the lease ran out")
    }

    func testExtendingTheLeaseKeepsTheMessageHidden() async throws {
        let queue = try makeQueue()
        try await queue.send(Data("long".utf8))
        let received = try await queue.receive(lease: 2, wait: 5)
        let message = try XCTUnwrap(received)
        try await queue.extendLease(message, seconds: 30)
        // Well past the first lease of 2 s, the message must still be hidden.
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(4) {
            let stolen = try await queue.receive(lease: 30, wait: 1)
            XCTAssertNil(stolen, "redelivered despite the extension")
        }
        try await queue.acknowledge(message)
    }

    func testExtendingPastTheTwelveHourCapIsALostLease() async throws {
        let queue = try makeQueue()
        try await queue.send(Data("capped".utf8))
        let received = try await queue.receive(lease: 30, wait: 5)
        let message = try XCTUnwrap(received)
        do {
            try await queue.extendLease(message, seconds: SQSQueue.maximumVisibility + 60)
            XCTFail("expected the 12-hour cap")
        } catch let error as QueueError {
            XCTAssertEqual(error.code, .leaseLost)
            XCTAssertTrue(error.description.contains("12-hour visibility cap"), error.description)
        }
        try await queue.acknowledge(message)
    }

    func testAMissingQueueThatMayNotBeCreatedIsUnusable() async throws {
        let queue = try makeQueue("sqs_missing", createIfMissing: false)
        do {
            _ = try await queue.receive(lease: 30, wait: 0)
            XCTFail("expected an unusable queue")
        } catch let error as QueueError {
            XCTAssertEqual(error.code, .unusable)
            XCTAssertTrue(error.description.contains("does not exist"), error.description)
        }
    }

    func testThrottlingAndServerErrorsAreRetried() async throws {
        let proxy = try startFaultProxy()
        defer { proxy.stop() }
        let queue = try makeQueue(endpoint: proxy.endpoint)
        _ = try await queue.queueURL()
        let before = try await proxy.requestsSeen()
        try await proxy.arm("n=2&status=503")
        try await queue.send(Data("through faults".utf8))
        try await proxy.arm("n=2&status=429")
        let message = try await queue.receive(lease: 30, wait: 5)
        XCTAssertEqual(message.map { String(decoding: $0.body, as: UTF8.self) }, "through faults")
        let after = try await proxy.requestsSeen()
        XCTAssertEqual(after - before, 3 + 3, "two failures and a success for each call")
    }

    /// An endpoint that is not SQS (a web server on the wrong port answering 501 or 404 with a page) is a
    /// configuration error at once, not something to retry forever; a 503 page is still retried.
    func testAnEndpointThatIsNotSQSIsUnusableWithoutRetries() async throws {
        let proxy = try startFaultProxy()
        defer { proxy.stop() }
        for status in [501, 404] {
            let queue = try makeQueue(endpoint: proxy.endpoint)
            try await proxy.arm("n=50&status=\(status)&plain=1")
            let before = try await proxy.requestsSeen()
            do {
                _ = try await queue.receive(lease: 30, wait: 0)
                XCTFail("expected an unusable endpoint (HTTP \(status))")
            } catch let error as QueueError {
                XCTAssertEqual(error.code, .unusable, error.description)
                XCTAssertTrue(error.description.contains("answered HTTP \(status) without an SQS error"), error.description)
                XCTAssertTrue(error.description.contains("AWS_ENDPOINT_URL_SQS"), error.description)
            }
            let after = try await proxy.requestsSeen()
            XCTAssertEqual(after - before, 1, "HTTP \(status): asked once, not retried")
        }

        let queue = try makeQueue(endpoint: proxy.endpoint)
        try await proxy.arm("n=2&status=503&plain=1")
        let url = try await queue.queueURL()
        XCTAssertTrue(url.hasSuffix("/" + queue.name), "a passing 503 page is retried through: \(url)")
    }

    /// A FaultProxy in front of the shared moto. Its script's directory goes as soon as the proxy listens
    /// (python has read the script by then).
    private func startFaultProxy() throws -> FaultProxy {
        let directory = FileManager.default.temporaryDirectory.path + "/sqs-proxy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try FaultProxy(target: try SharedMoto.get().endpoint, directory: directory)
    }

    /// SQS names are 1 to 80 letters, digits, `-` and `_` (a FIFO queue's ending in `.fifo`): anything else is a
    /// configuration error found before any request (AWS would refuse it on every retry).
    func testInvalidQueueNamesAreUnusableBeforeAnyRequest() async throws {
        let environment = ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
                           "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"]
        let invalid = ["sqs_with space", "sqs_dotted.name", "sqs_" + String(repeating: "x", count: 77), "sqs_ünï", "sqs_a/b",
                       "sqs_" + String(repeating: "x", count: 72) + ".fifo", "sqs_x.fifo.fifo"]
        for name in invalid {
            XCTAssertNotNil(SQSQueue.nameProblem(name), name)
            XCTAssertThrowsError(try SQSQueue(name: name, environment: environment), name) { error in
                XCTAssertEqual((error as? QueueError)?.code, .unusable, name)
                XCTAssertTrue("\(error)".contains("is not a valid SQS queue name: use 1 to 80 letters, digits, - or _"), "\(error)")
            }
        }
        for name in ["sqs_jobs", "ec2_GPU-jobs_2", "sqs_" + String(repeating: "x", count: 76), "sqs_x.fifo",
                     "sqs_" + String(repeating: "x", count: 71) + ".fifo"] {
            XCTAssertNil(SQSQueue.nameProblem(name), name)
            XCTAssertNoThrow(try SQSQueue(name: name, environment: environment), name)
        }
        // A queue object made without the check still never sends the name: the proxy sees no request.
        let proxy = try startFaultProxy()
        defer { proxy.stop() }
        let chain = try AWSCredentialChain(environment: try SharedMoto.get().environment)
        let queue = SQSQueue(name: "sqs_bad name", endpoint: proxy.endpoint, chain: chain, retry: fastRetry)
        do {
            try await queue.prepare()
            XCTFail("expected an unusable queue")
        } catch let error as QueueError {
            XCTAssertEqual(error.code, .unusable, error.description)
        }
        let seen = try await proxy.requestsSeen()
        XCTAssertEqual(seen, 0, "no request for a name SQS would refuse")
    }

    /// An SQS answer that refuses the name (InvalidParameterValue) is a configuration error at once, not retried.
    func testARefusedQueueNameIsUnusableWithoutRetries() async throws {
        let proxy = try startFaultProxy()
        defer { proxy.stop() }
        let queue = try makeQueue(endpoint: proxy.endpoint)
        try await proxy.arm("n=50&status=400&code=InvalidParameterValue")
        let before = try await proxy.requestsSeen()
        do {
            _ = try await queue.receive(lease: 30, wait: 0)
            XCTFail("expected an unusable queue")
        } catch let error as QueueError {
            XCTAssertEqual(error.code, .unusable, error.description)
            XCTAssertTrue(error.description.contains("SQS refused the queue name \(queue.name) (InvalidParameterValue"), error.description)
        }
        let after = try await proxy.requestsSeen()
        XCTAssertEqual(after - before, 1, "asked once, not retried")
    }

    /// A `.fifo` name makes a FIFO queue, which takes messages (a group and a deduplication id are sent), and
    /// hands them to several workers at once (a group per message: one group would lease one at a time).
    func testAFIFOQueueIsCreatedAsOneAndTakesMessagesInParallel() async throws {
        let moto = try SharedMoto.get()
        let queue = SQSQueue(name: "sqs_fifo_\(UInt32.random(in: 0...UInt32.max)).fifo", endpoint: moto.endpoint,
                             chain: try AWSCredentialChain(environment: moto.environment), retry: fastRetry)
        try await queue.prepare()
        try await queue.send(Data("same".utf8))
        try await queue.send(Data("same".utf8))  // the same body twice: two experiments, not one deduplicated
        let one = try await queue.receive(lease: 30, wait: 1)
        let two = try await queue.receive(lease: 30, wait: 1)  // the first is still leased
        XCTAssertEqual(one.map { String(decoding: $0.body, as: UTF8.self) }, "same")
        XCTAssertEqual(two.map { String(decoding: $0.body, as: UTF8.self) }, "same")
        XCTAssertNotEqual(one?.id, two?.id)
    }

    func testEndpointSelection() {
        XCTAssertEqual(SQSQueue.endpoint(region: "eu-west-1", environment: [:]), "https://sqs.eu-west-1.amazonaws.com/")
        XCTAssertEqual(SQSQueue.endpoint(region: "eu-west-1", environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:5000"]),
                       "http://127.0.0.1:5000/")
        XCTAssertEqual(SQSQueue.endpoint(region: "eu-west-1", environment: [
            "AWS_ENDPOINT_URL": "http://a:1", "AWS_ENDPOINT_URL_SQS": "http://b:2/"]), "http://b:2/")
    }

    func testNoCredentialsIsUnusableWithAMessageNamingWhatWasTried() {
        XCTAssertThrowsError(try SQSQueue(name: "sqs_x", environment: ["AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"])) { error in
            XCTAssertEqual((error as? QueueError)?.code, .unusable)
            XCTAssertTrue("\(error)".contains("no AWS credentials found"), "\(error)")
        }
    }

    func testQueueSelectorOpensSQSForSqsAndEc2Names() throws {
        // The selector reads the process environment; only the type is checked (no network call happens here).
        for variable in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] where getenv(variable) == nil {
            setenv(variable, "testing", 1)
            addTeardownBlock { unsetenv(variable) }
        }
        for name in ["sqs_jobs", "ec2_jobs"] {
            let queue = try QueueSelector.open(name, home: "/nonexistent")
            XCTAssertTrue(queue is SQSQueue, name)
            XCTAssertEqual(queue.name, name)
        }
    }
}
