#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioCredentials
import StudioHTTP
import StudioModel
import Synchronization

/// An AWS SQS queue (StudioML's `sqs_…`/`ec2_…` names) over the JSON 1.0 protocol. The queue URL is looked
/// up on first use (`GetQueueUrl`, then `CreateQueue` when missing, as StudioML's get-or-create does).
public final class SQSQueue: CountableQueue {
    /// SQS refuses to keep a message invisible for longer than this from its receipt (docs/aws.md#sqs-leases-and-the-12-hour-cap).
    public static let maximumVisibility = 12 * 60 * 60

    public let name: String
    /// The endpoint every call is sent to (the queue URL is passed only as a parameter).
    public let endpoint: String
    private let client: SQSClient
    private let createIfMissing: Bool
    private let queueURLCache = Mutex<String?>(nil)
    /// When each receipt handle was received, for the 12-hour visibility cap.
    private let receivedAt = Mutex<[String: ContinuousClock.Instant]>([:])

    /// Why `name` cannot be an SQS queue name, or nil when it can: SQS takes 1 to 80 letters, digits, `-` and
    /// `_`, and a FIFO queue's name ends in `.fifo` (which counts towards the 80). AWS answers a bad name with
    /// an error that retrying cannot fix, so the name is checked before any request.
    public static func nameProblem(_ name: String) -> String? {
        let base = name.hasSuffix(".fifo") ? name.dropLast(".fifo".count) : Substring(name)
        let allowed = base.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }
        if base.isEmpty || !allowed || name.count > 80 {
            return "\(name.debugDescription) is not a valid SQS queue name: use 1 to 80 letters, digits, - or _ "
                + "(a FIFO queue's name ends in .fifo, within the 80)"
        }
        return nil
    }

    /// Whether the queue is a FIFO queue (its name ends in `.fifo`): created as one, and sent to with a message group.
    public var isFIFO: Bool { name.hasSuffix(".fifo") }

    /// A queue named `name` at `endpoint`, signing with `chain`.
    public init(name: String, endpoint: String, chain: AWSCredentialChain, createIfMissing: Bool = true,
                transport: HTTPTransport = .shared, retry: RetryPolicy = .standard) {
        self.name = name
        self.endpoint = endpoint
        self.createIfMissing = createIfMissing
        client = SQSClient(endpoint: endpoint, chain: chain, transport: transport, retry: retry)
    }

    /// The queue with endpoint and credentials from `environment` (and from `settings`, a config's
    /// `credentials.aws`, when given); throws `.unusable` for a name SQS would refuse, or when no
    /// credentials can be found.
    public convenience init(name: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                            settings: StudioAWSSettings? = nil) throws {
        if let problem = Self.nameProblem(name) { throw QueueError(.unusable, problem) }
        let chain: AWSCredentialChain
        do {
            chain = try AWSCredentialChain(message: settings, environment: environment)
        } catch {
            throw QueueError(.unusable, "cannot use SQS queue \(name): \(error)")
        }
        self.init(name: name, endpoint: Self.endpoint(region: chain.region, environment: environment), chain: chain)
    }

    /// The submitter's SQS settings in a StudioML config: `cloud.queue.sqs.credentials.aws` (nil when absent).
    public static func settings(fromConfig config: JSONObject) throws -> StudioAWSSettings? {
        guard let aws = JSONValue.object(config).value(at: ["cloud", "queue", "sqs", "credentials", "aws"])?.objectValue else {
            return nil
        }
        var dictionary: [String: String] = [:]
        for (name, value) in aws where !value.isNull { dictionary[name] = value.scalarText }
        do {
            return try StudioAWSSettings(dictionary)
        } catch {
            throw QueueError(.unusable, "cloud.queue.sqs.credentials.aws in the config: \(error)")
        }
    }

    /// `AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL`, else `https://sqs.<region>.amazonaws.com`.
    public static func endpoint(region: String, environment: [String: String]) -> String {
        for variable in ["AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL"] {
            if let value = environment[variable], !value.isEmpty { return value.hasSuffix("/") ? value : value + "/" }
        }
        return "https://sqs.\(region).amazonaws.com/"
    }

    /// The queue URL, looked up (or the queue created) once.
    public func queueURL() async throws -> String {
        if let known = queueURLCache.withLock({ $0 }) { return known }
        var url = ""
        try await perform("open") { url = try await lookUpURL() }
        queueURLCache.withLock { $0 = url }
        return url
    }

    private func lookUpURL() async throws -> String {
        // Checked here too (not only by the throwing init), so no queue object sends a name SQS refuses.
        if let problem = Self.nameProblem(name) { throw QueueError(.unusable, problem) }
        do {
            let reply = try await client.call("GetQueueUrl", ["QueueName": .string(name)])
            if let url = reply["QueueUrl"]?.stringValue { return url }
        } catch let error as SQSServiceError where error.isMissingQueue {
            guard createIfMissing else {
                throw QueueError(.unusable, "SQS queue \(name) does not exist at \(endpoint); create it or check AWS_REGION")
            }
        } catch let error as SQSServiceError where error.isInvalidParameter {
            throw refusedName(error)
        }
        do {
            var request: JSONObject = ["QueueName": .string(name)]
            // SQS refuses a `.fifo` name for a standard queue: ask for the FIFO queue the name promises.
            if isFIFO { request["Attributes"] = ["FifoQueue": "true"] }
            let reply = try await client.call("CreateQueue", request)
            guard let url = reply["QueueUrl"]?.stringValue else {
                throw QueueError(.transient, "SQS CreateQueue for \(name) answered without a QueueUrl")
            }
            return url
        } catch let error as SQSServiceError where error.isAuthorizationFailure {
            throw QueueError(.unusable, "SQS queue \(name) does not exist at \(endpoint) and these credentials may not create it "
                             + "(\(error.code)); create the queue or grant sqs:CreateQueue")
        } catch let error as SQSServiceError where error.isInvalidParameter {
            throw refusedName(error)
        }
    }

    /// SQS refused the queue's name (or its attributes) when looking it up or creating it: asking again cannot help.
    private func refusedName(_ error: SQSServiceError) -> QueueError {
        QueueError(.unusable, "SQS refused the queue name \(name) (\(error.code)\(error.message.isEmpty ? "" : ": " + error.message)); "
                   + "use 1 to 80 letters, digits, - or _ (a FIFO queue's name ends in .fifo)")
    }

    public func send(_ body: Data) async throws {
        let url = try await queueURL()
        var request: JSONObject = ["QueueUrl": .string(url), "MessageBody": .string(String(decoding: body, as: UTF8.self))]
        if isFIFO {
            // A FIFO queue needs a message group and (unless it hashes bodies) a deduplication id. Experiments have
            // no order among them to keep, and a group hands out one message at a time: a group of its own per
            // message lets a pool of workers take them in parallel. One id per send makes its retries one message.
            let id = UUID().uuidString
            request["MessageGroupId"] = .string(id)
            request["MessageDeduplicationId"] = .string(id)
        }
        try await perform("send to") {
            _ = try await client.call("SendMessage", request)
        }
    }

    /// Looks the queue up (or creates it) now, so that a submission finds a bad queue before it packs anything.
    public func prepare() async throws {
        _ = try await queueURL()
    }

    public func receive(lease: Int, wait: Int) async throws -> QueueMessage? {
        let url = try await queueURL()
        var reply: JSONValue = .null
        try await perform("receive from") {
            reply = try await client.call("ReceiveMessage", [
                "QueueUrl": .string(url), "MaxNumberOfMessages": 1, "WaitTimeSeconds": .int(Int64(max(0, min(20, wait)))),
                "VisibilityTimeout": .int(Int64(max(0, min(Self.maximumVisibility, lease)))),
                "MessageSystemAttributeNames": ["ApproximateReceiveCount"], "AttributeNames": ["ApproximateReceiveCount"],
            ])
        }
        guard let first = reply["Messages"]?.arrayValue?.first,
              let receipt = first["ReceiptHandle"]?.stringValue else { return nil }
        let attempt = first["Attributes"]?["ApproximateReceiveCount"]?.stringValue.flatMap { Int($0) } ?? 1
        receivedAt.withLock { $0[receipt] = .now }
        return QueueMessage(id: first["MessageId"]?.stringValue ?? receipt, body: Data((first["Body"]?.stringValue ?? "").utf8),
                            receipt: receipt, deliveryAttempt: attempt)
    }

    public func extendLease(_ message: QueueMessage, seconds: Int) async throws {
        if let received = receivedAt.withLock({ $0[message.receipt] }),
           (ContinuousClock.now - received) + .seconds(seconds) > .seconds(Self.maximumVisibility) {
            throw Self.visibilityCapError(message)
        }
        let url = try await queueURL()
        try await perform("extend the lease on") {
            _ = try await client.call("ChangeMessageVisibility", [
                "QueueUrl": .string(url), "ReceiptHandle": .string(message.receipt), "VisibilityTimeout": .int(Int64(seconds)),
            ])
        }
    }

    public func acknowledge(_ message: QueueMessage) async throws {
        let url = try await queueURL()
        try await perform("acknowledge on") {
            _ = try await client.call("DeleteMessage", ["QueueUrl": .string(url), "ReceiptHandle": .string(message.receipt)])
        }
        receivedAt.withLock { _ = $0.removeValue(forKey: message.receipt) }
    }

    public func release(_ message: QueueMessage) async throws {
        let url = try await queueURL()
        try await perform("release on") {
            _ = try await client.call("ChangeMessageVisibility", [
                "QueueUrl": .string(url), "ReceiptHandle": .string(message.receipt), "VisibilityTimeout": 0,
            ])
        }
        receivedAt.withLock { _ = $0.removeValue(forKey: message.receipt) }
    }

    /// Approximate counts from `GetQueueAttributes`.
    public func counts() async throws -> QueueCounts {
        let url = try await queueURL()
        var reply: JSONValue = .null
        try await perform("count") {
            reply = try await client.call("GetQueueAttributes", [
                "QueueUrl": .string(url),
                "AttributeNames": ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            ])
        }
        func number(_ key: String) -> Int { reply["Attributes"]?[key]?.stringValue.flatMap { Int($0) } ?? 0 }
        return QueueCounts(ready: number("ApproximateNumberOfMessages"), leased: number("ApproximateNumberOfMessagesNotVisible"))
    }

    /// Runs one call, turning service errors into `QueueError`s the worker knows how to treat.
    private func perform(_ what: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as SQSServiceError {
            throw mapped(error, doing: what)
        } catch let error as HTTPTransportError {
            throw QueueError(.transient, "cannot \(what) SQS queue \(name) at \(endpoint): \(error)")
        } catch let error as CredentialsError {
            throw QueueError(.unusable, "cannot \(what) SQS queue \(name): \(error)")
        } catch let error as QueueError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // NIO's connection errors (refused, reset) are not all wrapped by the transport.
            throw QueueError(.transient, "cannot \(what) SQS queue \(name) at \(endpoint): \(error)")
        }
    }

    private func mapped(_ error: SQSServiceError, doing what: String) -> QueueError {
        if error.isAuthorizationFailure {
            return QueueError(.unusable, "cannot \(what) SQS queue \(name): \(error); check the AWS credentials and their permissions")
        }
        if error.isMissingQueue {
            queueURLCache.withLock { $0 = nil }
            return QueueError(.unusable, "SQS queue \(name) does not exist at \(endpoint) (\(error))")
        }
        if error.carriesNoErrorCode && !RetryPolicy.isRetryable(status: error.status) {
            return QueueError(.unusable, "cannot \(what) SQS queue \(name): \(endpoint) answered HTTP \(error.status) without an SQS error, "
                              + "so it is not an SQS endpoint; check AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL or the config's endpoint")
        }
        if error.code == "MessageNotInflight" || error.code == "ReceiptHandleIsInvalid" {
            return QueueError(.leaseLost, "cannot \(what) SQS queue \(name): the message is no longer leased to this worker (\(error.code))")
        }
        if error.action == "ChangeMessageVisibility", error.code == "InvalidParameterValue",
           error.message.contains("VisibilityTimeout") || error.message.contains("43200") {
            return QueueError(.leaseLost, "cannot \(what) SQS queue \(name): SQS's 12-hour visibility cap is reached "
                              + "(a message cannot stay leased more than 12 h after it was received); the message will be "
                              + "redelivered to another worker: \(error.message)")
        }
        return QueueError(.transient, "cannot \(what) SQS queue \(name): \(error)")
    }

    private static func visibilityCapError(_ message: QueueMessage) -> QueueError {
        QueueError(.leaseLost, "cannot extend the lease on message \(message.id): SQS's 12-hour visibility cap would be exceeded "
                   + "(a message cannot stay leased more than 12 h after it was received); it will be redelivered")
    }
}
