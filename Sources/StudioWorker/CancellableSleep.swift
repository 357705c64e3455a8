import Dispatch
import Synchronization

/// A sleep whose cancellation frees its timer at once. `Task.sleep` keeps a timer task (~170
/// bytes) alive until the deadline even when cancelled, so the per-experiment watchers (stop
/// checks, metrics, checkpoints, the lease) of a worker that runs many short experiments would
/// carry a window of up to a minute of dead timers.
enum CancellableSleep {
    /// Returns after `duration`, or at once when the task is (or gets) cancelled.
    static func sleep(for duration: Duration) async {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = max(0, seconds) * 1_000_000_000 + max(0, attoseconds) / 1_000_000_000
        let alarm = Alarm()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                alarm.set(continuation, after: Int(clamping: nanoseconds))
                if Task.isCancelled { alarm.ring() }
            }
        } onCancel: {
            alarm.ring()
        }
    }

    /// One timer and the continuation it resumes, once, whichever comes first: the deadline or
    /// the cancellation. The Dispatch timer is only touched under the lock.
    private final class Alarm: Sendable {
        private let state = Mutex<(timer: DispatchSourceTimer?, waiter: CheckedContinuation<Void, Never>?, rung: Bool)>((nil, nil, false))

        func set(_ waiter: CheckedContinuation<Void, Never>, after nanoseconds: Int) {
            state.withLock { state in
                if state.rung {
                    waiter.resume()
                    return
                }
                // Made only when it will run: libdispatch traps on freeing a source never resumed.
                let timer = DispatchSource.makeTimerSource(queue: .global())
                timer.setEventHandler { [self] in ring() }
                timer.schedule(deadline: .now() + .nanoseconds(nanoseconds))
                state.timer = timer
                state.waiter = waiter
                timer.resume()
            }
        }

        func ring() {
            // Cancelling a Dispatch source and resuming a continuation neither block nor call
            // back into this lock, so both are done under it (the timer is not Sendable).
            state.withLock { state in
                state.rung = true
                state.timer?.cancel()
                state.waiter?.resume()
                state.timer = nil
                state.waiter = nil
            }
        }
    }
}
