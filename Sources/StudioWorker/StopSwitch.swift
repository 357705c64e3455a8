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
    private struct State {
        var reason: StopReason?
        var waiters: [Int: CheckedContinuation<StopReason?, Never>] = [:]
        var nextWaiter = 0
    }
    private let state = Mutex(State())

    /// The reason it was tripped with, if it was.
    var reason: StopReason? { state.withLock { $0.reason } }

    /// Tasks waiting now (for tests: a cancelled waiter must not stay).
    var waiterCount: Int { state.withLock { $0.waiters.count } }

    /// Trips the switch; later calls keep the first reason.
    func trip(_ reason: StopReason) {
        let waiters = state.withLock { state -> [CheckedContinuation<StopReason?, Never>] in
            guard state.reason == nil else { return [] }
            state.reason = reason
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: reason) }
    }

    /// Waits until the switch is tripped (returns at once if it already was); nil when the waiting
    /// task is cancelled first. A cancelled waiter is dropped at once: a worker that waits on its
    /// shutdown switch around every receive would otherwise keep one suspended task per receive.
    func wait() async -> StopReason? {
        let id = state.withLock { state -> Int in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> (resume: Bool, reason: StopReason?) in
                    if let reason = state.reason { return (true, reason) }
                    if Task.isCancelled { return (true, nil) }
                    state.waiters[id] = continuation
                    return (false, nil)
                }
                if ready.resume { continuation.resume(returning: ready.reason) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: nil)
        }
    }
}
