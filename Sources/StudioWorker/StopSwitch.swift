import Synchronization

/// Why a running experiment is being stopped before it ends by itself.
public enum StopReason: Sendable, Equatable {
    /// `studio stop KEY` set the record's status to `stopped`.
    case stopRequested
    /// The experiment ran past its `max_duration`.
    case maxDuration
    /// The worker itself received SIGTERM or SIGINT: the message goes back to the queue.
    case workerShutdown(signal: Int32)
}

/// A one-way switch that any task can trip and any task can wait on. The first reason wins.
final class StopSwitch: Sendable {
    private let state = Mutex<(reason: StopReason?, waiters: [CheckedContinuation<StopReason, Never>])>((nil, []))

    /// The reason it was tripped with, if it was.
    var reason: StopReason? { state.withLock { $0.reason } }

    /// Trips the switch; later calls keep the first reason.
    func trip(_ reason: StopReason) {
        let waiters = state.withLock { state -> [CheckedContinuation<StopReason, Never>] in
            guard state.reason == nil else { return [] }
            state.reason = reason
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: reason) }
    }

    /// Waits until the switch is tripped (returns at once if it already was).
    func wait() async -> StopReason {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> StopReason? in
                if let reason = state.reason { return reason }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
