#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioCredentials
import StudioHTTP
import StudioModel
import Synchronization

/// A Google Cloud Pub/Sub queue over REST v1 (docs/google.md#pubsub-over-rest): topic `<queue>`, subscription `<queue>_sub`,
/// both created when missing. The lease is the ack deadline: `pull` then `modifyAckDeadline`, extended by
/// `modifyAckDeadline` (≤ 600 s a call), acknowledged by `acknowledge`, released by `modifyAckDeadline` 0.
/// `PUBSUB_EMULATOR_HOST` switches to plain HTTP without credentials.
public final class PubSubQueue: JobQueue, Sendable {
    /// The queue name as given: the topic name.
    public let name: String
    /// The subscription the workers pull from: `<queue>_sub`.
    public var subscriptionName: String { name + "_sub" }
    /// The API client (base URL, tokens, retries).
    public let client: GoogleAPIClient

    /// The longest ack deadline one call may set.
    public static let maxAckDeadline = 600
    /// The subscription's ack deadline bounds (the API rejects others).
    static let subscriptionAckDeadlineRange = 10...600

    private let configuredProject: String?
    private let tokens: GoogleTokenProvider?
    private let project = Mutex<String?>(nil)
    private let created = Mutex<Bool>(false)

    /// A queue on `client`'s endpoint; `project` nil = ask the token provider (credentials file, metadata server).
    public init(name: String, project: String?, client: GoogleAPIClient) throws {
        try Self.validate(name)
        self.name = name
        self.configuredProject = project
        self.tokens = client.tokens
        self.client = client
    }

    /// The queue `name` as `environment` configures it: `PUBSUB_EMULATOR_HOST` (no auth), else Application
    /// Default Credentials; the project from `GOOGLE_CLOUD_PROJECT`, the credentials or the metadata server.
    public convenience init(name: String, environment: [String: String], retry: RetryPolicy = .standard) throws {
        let endpoint = GoogleAPIClient.endpoint(emulatorHost: environment["PUBSUB_EMULATOR_HOST"],
                                                defaultURL: "https://pubsub.googleapis.com")
        let project = ["GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "PUBSUB_PROJECT_ID"]
            .compactMap { environment[$0] }.first { !$0.isEmpty }
        let tokens: GoogleTokenProvider?
        if endpoint.isEmulator {
            tokens = nil
        } else {
            do {
                tokens = try GoogleTokenProvider.applicationDefault(environment: environment)
            } catch {
                throw QueueError(.unusable, "Pub/Sub queue \(name): \(error)")
            }
        }
        try self.init(name: name, project: project ?? (endpoint.isEmulator ? "studio-emulator" : nil),
                      client: GoogleAPIClient(baseURL: endpoint.url, tokens: tokens, retry: retry))
    }

    /// The queue `name` as this process's environment configures it (see `init(name:environment:)`).
    public static func fromProcessEnvironment(name: String) throws -> PubSubQueue {
        try PubSubQueue(name: name, environment: ProcessInfo.processInfo.environment)
    }

    /// Pub/Sub resource names: 3–255 characters, a letter first, then letters, digits, `-_.~+%`; not `goog…`.
    static func validate(_ name: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~+%")
        guard (3...250).contains(name.count), name.first?.isLetter == true, name.allSatisfy(allowed.contains),
              !name.lowercased().hasPrefix("goog") else {
            throw QueueError(.unusable, "queue name '\(name)' is not a valid Pub/Sub topic name: use 3-250 letters, digits "
                             + "and -_.~+%, starting with a letter and not with 'goog'")
        }
    }

    // MARK: JobQueue

    public func send(_ body: Data) async throws {
        let paths = try await ready(lease: 60)
        let json = #"{"messages":[{"data":"# + Self.quote(body.base64EncodedString()) + "}]}"
        let reply = try await call { try await self.client.sendJSON("POST", paths.topic + ":publish", json: json) }
        guard reply.isSuccess else { throw failure(reply, doing: "publish to") }
    }

    public func receive(lease: Int, wait: Int) async throws -> QueueMessage? {
        let paths = try await ready(lease: lease)
        let deadline = ContinuousClock.now + .seconds(max(0, wait))
        // Pulls are retried here rather than in the client, so a pull the server held until the client timeout
        // counts as "nothing yet" and the whole receive stays within `wait` (plus one pull's timeout).
        let pullClient = GoogleAPIClient(baseURL: client.baseURL, tokens: tokens, transport: client.transport,
                                         retry: RetryPolicy(maxAttempts: 1))
        var failures = 0
        while true {
            let remaining = deadline - ContinuousClock.now
            // The server holds a pull open while it waits for messages; the client timeout bounds that hold.
            let timeout = min(max(remaining, .seconds(1)), .seconds(90)) + .seconds(10)
            var transientError: QueueError?
            do {
                let reply = try await call {
                    try await pullClient.sendJSON("POST", paths.subscription + ":pull", json: #"{"maxMessages":1}"#, timeout: timeout)
                }
                if RetryPolicy.isRetryable(status: reply.status) {
                    transientError = failure(reply, doing: "pull from")
                } else {
                    guard reply.isSuccess else { throw failure(reply, doing: "pull from") }
                    failures = 0
                    if let message = try parsePull(reply.body) {
                        do {
                            // Start the lease the worker asked for now: the subscription's default may be shorter.
                            try await modifyAckDeadline(message.receipt, seconds: min(max(lease, 1), Self.maxAckDeadline))
                            return message
                        } catch let error as QueueError where error.code == .leaseLost {
                            continue  // an exactly-once subscription already expired this ack id
                        }
                    }
                }
            } catch let error as QueueError where error.code == .transient {
                transientError = error
            }
            let now = ContinuousClock.now
            if let transientError {
                failures += 1
                // One timed-out long poll at the end of the wait is an empty answer; repeated failures are not.
                if now >= deadline { if failures > 1 { throw transientError } else { return nil } }
                try await Task.sleep(for: min(client.retry.delay(after: failures), deadline - now))
                continue
            }
            if now >= deadline { return nil }
            // An empty answer may come at once (the server's hold is best effort): pause, never spin.
            try await Task.sleep(for: min(deadline - now, .seconds(1)))
        }
    }

    public func extendLease(_ message: QueueMessage, seconds: Int) async throws {
        try await modifyAckDeadline(message.receipt, seconds: min(max(seconds, 0), Self.maxAckDeadline))
    }

    public func acknowledge(_ message: QueueMessage) async throws {
        let paths = try await ready(lease: 60)
        try await ackCall(paths.subscription + ":acknowledge", json: #"{"ackIds":["# + Self.quote(message.receipt) + "]}",
                          ackId: message.receipt, doing: "acknowledge on")
    }

    public func release(_ message: QueueMessage) async throws {
        try await modifyAckDeadline(message.receipt, seconds: 0)
    }

    // MARK: Calls

    private func modifyAckDeadline(_ ackId: String, seconds: Int) async throws {
        let paths = try await ready(lease: 60)
        let json = #"{"ackIds":["# + Self.quote(ackId) + #"],"ackDeadlineSeconds":\#(seconds)}"#
        try await ackCall(paths.subscription + ":modifyAckDeadline", json: json, ackId: ackId, doing: "modifyAckDeadline on")
    }

    /// An acknowledge or modifyAckDeadline: per-ack-id exactly-once failures are retried when `TRANSIENT_…` and
    /// mean a lost lease otherwise; an invalid ack id also means the lease is gone.
    private func ackCall(_ path: String, json: String, ackId: String, doing: String) async throws {
        let reply = try await call {
            try await self.client.retry.run(classify: { outcome in
                guard case .success(let reply) = outcome, !reply.isSuccess,
                      PubSubErrors.ackIdFailure(reply.body, ackId: ackId) == .transient else { return .final }
                return .retry
            }) { try await self.client.sendJSON("POST", path, json: json) }
        }
        if reply.isSuccess { return }
        switch PubSubErrors.ackIdFailure(reply.body, ackId: ackId) {
        case .transient?:
            throw QueueError(.transient, "\(doing) \(subscriptionName): the ack id stayed in a transient failure")
        case .permanent(let reason)?:
            throw QueueError(.leaseLost, "\(doing) \(subscriptionName): the lease is gone (\(reason)); the message was or will be redelivered")
        case nil:
            if reply.status == 400 && reply.bodyText.lowercased().contains("ack") {
                throw QueueError(.leaseLost, "\(doing) \(subscriptionName): \(GoogleAPIClient.errorSummary(reply))")
            }
            throw failure(reply, doing: doing)
        }
    }

    /// Runs an API call, turning transport and credential failures into queue errors.
    private func call(_ body: @Sendable () async throws -> HTTPReply) async throws -> HTTPReply {
        do {
            return try await body()
        } catch let error as HTTPTransportError {
            throw QueueError(.transient, "Pub/Sub queue \(name): \(error)")
        } catch let error as CredentialsError {
            throw QueueError(.unusable, "Pub/Sub queue \(name): \(error)")
        }
    }

    private func failure(_ reply: HTTPReply, doing: String) -> QueueError {
        let what = "\(doing) Pub/Sub \(doing.hasPrefix("publish") ? "topic \(name)" : "subscription \(subscriptionName)")"
        let summary = GoogleAPIClient.errorSummary(reply)
        switch reply.status {
        case 401, 403:
            return QueueError(.unusable, "cannot \(what): \(summary); grant the credentials roles/pubsub.editor (or publisher and subscriber)")
        case 404:
            return QueueError(.unusable, "cannot \(what): \(summary); the topic or subscription was deleted")
        case _ where RetryPolicy.isRetryable(status: reply.status):
            return QueueError(.transient, "cannot \(what): \(summary)")
        default:
            return QueueError(.unusable, "cannot \(what): \(summary)")
        }
    }

    /// Resolves the project and creates the topic and subscription, once.
    private func ready(lease: Int) async throws -> (topic: String, subscription: String) {
        let projectId: String
        if let known = project.withLock({ $0 }) {
            projectId = known
        } else if let configuredProject {
            projectId = configuredProject
        } else if let tokens {
            do { projectId = try await tokens.projectId() } catch let error as CredentialsError {
                throw QueueError(.unusable, "Pub/Sub queue \(name): \(error)")
            } catch {
                throw QueueError(.transient, "Pub/Sub queue \(name): cannot find the project: \(error)")
            }
        } else {
            throw QueueError(.unusable, "Pub/Sub queue \(name): no project; set GOOGLE_CLOUD_PROJECT")
        }
        project.withLock { $0 = projectId }
        let paths = ("/v1/projects/\(projectId)/topics/\(name)", "/v1/projects/\(projectId)/subscriptions/\(subscriptionName)")
        if created.withLock({ $0 }) { return paths }
        try await create(topic: paths.0, subscription: paths.1, projectId: projectId, lease: lease)
        created.withLock { $0 = true }
        return paths
    }

    private func create(topic: String, subscription: String, projectId: String, lease: Int) async throws {
        let topicReply = try await call { try await self.client.sendJSON("PUT", topic, json: "{}") }
        // 409: it exists. 403: a worker may lack pubsub.topics.create yet use an existing topic.
        guard topicReply.isSuccess || topicReply.status == 409 || topicReply.status == 403 else {
            throw failure(topicReply, doing: "create")
        }
        let deadline = min(max(lease, Self.subscriptionAckDeadlineRange.lowerBound), Self.subscriptionAckDeadlineRange.upperBound)
        let json = #"{"topic":"# + Self.quote("projects/\(projectId)/topics/\(name)")
            + #","ackDeadlineSeconds":\#(deadline),"expirationPolicy":{}}"#
        var reply = try await call { try await self.client.sendJSON("PUT", subscription, json: json) }
        // A topic created a moment ago may not be visible yet (NOT_FOUND "right after create", docs/google.md#errors-and-retries).
        for attempt in 1...5 where reply.status == 404 && topicReply.isSuccess {
            try await Task.sleep(for: .seconds(attempt))
            reply = try await call { try await self.client.sendJSON("PUT", subscription, json: json) }
        }
        if reply.isSuccess || reply.status == 409 { return }
        if reply.status == 403 {
            let existing = try await call { try await self.client.send("GET", subscription) }
            if existing.isSuccess { return }
        }
        throw failure(reply, doing: "create")
    }

    /// The one message of a pull answer, or nil for `{}`.
    func parsePull(_ body: [UInt8]) throws -> QueueMessage? {
        let json: JSONValue
        do { json = try JSONValue(parsing: Data(body)) } catch {
            throw QueueError(.transient, "pull from \(subscriptionName) answered invalid JSON")
        }
        guard let received = json["receivedMessages"]?.arrayValue?.first,
              let ackId = received["ackId"]?.stringValue, let message = received["message"] else { return nil }
        let data = message["data"]?.stringValue.flatMap(Self.decodeBase64) ?? Data()
        let attempt = received["deliveryAttempt"]?.int64Value.map(Int.init) ?? 0
        return QueueMessage(id: message["messageId"]?.stringValue ?? ackId, body: data, receipt: ackId,
                            deliveryAttempt: max(1, attempt))
    }

    /// Standard or URL-safe base64, padded or not (proto3 JSON).
    static func decodeBase64(_ text: String) -> Data? {
        var standard = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while standard.count % 4 != 0 { standard.append("=") }
        return Data(base64Encoded: standard)
    }

    static func quote(_ text: String) -> String {
        JSONValue.string(text).serialized(.compact)
    }
}

/// Reads the per-ack-id outcome of an exactly-once subscription's failed acknowledge / modifyAckDeadline (docs/google.md#exactly-once-subscriptions):
/// a `google.rpc.ErrorInfo` detail whose `metadata` maps ack ids to `TRANSIENT_…` or `PERMANENT_…` reasons.
enum PubSubErrors {
    enum AckIdFailure: Equatable {
        case transient
        case permanent(String)
    }

    /// The failure recorded for `ackId`, or nil when the body has no ErrorInfo entry for it.
    static func ackIdFailure(_ body: [UInt8], ackId: String) -> AckIdFailure? {
        guard let json = try? JSONValue(parsing: Data(body)),
              let details = json["error"]?["details"]?.arrayValue else { return nil }
        for detail in details {
            guard let reason = detail["metadata"]?[ackId]?.stringValue else { continue }
            return reason.hasPrefix("TRANSIENT_") ? .transient : .permanent(reason)
        }
        return nil
    }
}
