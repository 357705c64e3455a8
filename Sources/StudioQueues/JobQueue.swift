#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One message taken from a queue, with the handle needed to extend, acknowledge or release it.
public struct QueueMessage: Sendable, Equatable {
    /// The queue's id for the message (stable across redeliveries where the backend allows).
    public var id: String
    /// The message body as sent: for StudioML, the JSON `{experiment, config}`.
    public var body: Data
    /// The handle of this delivery (SQS receipt handle, Pub/Sub ack id, local claim file name).
    public var receipt: String
    /// How many times the message has been delivered, counting this delivery (1 when unknown).
    public var deliveryAttempt: Int

    public init(id: String, body: Data, receipt: String, deliveryAttempt: Int = 1) {
        self.id = id
        self.body = body
        self.receipt = receipt
        self.deliveryAttempt = deliveryAttempt
    }
}

/// A work queue with leases: a received message stays invisible to other workers until its
/// lease runs out, and comes back unless it is acknowledged first.
public protocol JobQueue: Sendable {
    /// The queue's name as the user gave it (`local`, `sqs_x`, `my-topic`).
    var name: String { get }
    /// Puts one message on the queue.
    func send(_ body: Data) async throws
    /// Takes at most one message, leasing it for `lease` seconds; waits up to `wait` seconds for one.
    func receive(lease: Int, wait: Int) async throws -> QueueMessage?
    /// Makes the lease of a received message run until `seconds` from now.
    func extendLease(_ message: QueueMessage, seconds: Int) async throws
    /// Deletes a received message for good: its outcome is recorded.
    func acknowledge(_ message: QueueMessage) async throws
    /// Hands a received message back to the queue at once, for another worker.
    func release(_ message: QueueMessage) async throws
    /// Makes sure the queue can be sent to (looks it up, creates it where that is the backend's way), so a
    /// submitter finds a bad queue before it packs and uploads a workspace.
    func prepare() async throws
}

extension JobQueue {
    /// Nothing to look up: the queue is ready once opened.
    public func prepare() async throws {}
}

/// Why a queue operation failed, in words a user can act on.
public struct QueueError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable { case unusable, leaseLost, transient }
    public var code: Code
    public var description: String
    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}

/// How many messages a queue holds, for `studio status` and tests (approximate for cloud queues).
public struct QueueCounts: Sendable, Equatable {
    /// Messages a receive could take now.
    public var ready: Int
    /// Messages received and still under a lease.
    public var leased: Int
    /// All messages not yet acknowledged.
    public var total: Int { ready + leased }

    /// Counts of `ready` and `leased` messages.
    public init(ready: Int, leased: Int) {
        self.ready = ready
        self.leased = leased
    }
}

/// A queue that can say how many messages it holds.
public protocol CountableQueue: JobQueue {
    /// The numbers of ready and leased messages.
    func counts() async throws -> QueueCounts
}
