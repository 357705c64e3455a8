import StudioHTTP
import StudioModel
import StudioStorage

/// Why a message could not be taken to an outcome, and whether trying it again later may help.
///
/// The rule of the fleet: whatever comes with a message (its config, stores, record, artifacts,
/// tar) can fail only that message, never the worker. A transient failure (a store unreachable,
/// throttled or answering 5xx) sends the message back with a growing delay; a permanent one (a
/// bad config, 403, a corrupt record or tar) or one transient too often settles the message as
/// failed: recorded where the record store is reachable, kept under `rejected/`, acknowledged.
struct MessageFailure: Error, CustomStringConvertible, Sendable {
    /// What went wrong, in one line, for the log, the record's `info.reason` and `rejected/`.
    var description: String
    /// Whether another try later may succeed.
    var isTransient: Bool

    init(_ description: String, transient: Bool) {
        self.description = description
        self.isTransient = transient
    }

    /// `doing: error`, transient when the error says the store or network may recover.
    init(_ doing: String, _ error: any Error) {
        self.init("\(doing): \(error)", transient: Self.isTransient(error))
    }

    /// Store and network errors carry their own verdict; an error we know nothing about is
    /// treated as transient, since its retries are bounded by `--max-deliveries` anyway.
    static func isTransient(_ error: any Error) -> Bool {
        switch error {
        case let error as MessageFailure: return error.isTransient
        case let error as StorageError: return error.isTransient
        case is HTTPTransportError, is CancellationError: return true
        case is WorkerError, is ModelError, is TarError: return false
        default: return true
        }
    }
}

/// The wait before a transiently failed message is offered again: `base` after its first
/// delivery, doubling with each delivery after, at most 10 minutes (Pub/Sub's longest ack deadline).
enum RedeliveryDelay {
    static let longest = 600

    static func seconds(base: Int, afterDelivery delivery: Int) -> Int {
        let doublings = min(max(delivery - 1, 0), 16)
        return min(longest, max(1, base) << doublings)
    }
}
