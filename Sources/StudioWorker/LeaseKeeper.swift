import StudioQueues

/// Keeps a received message invisible to other workers for as long as its experiment runs, by
/// extending the lease well before it runs out (every third of the lease). Cloud queues cap a
/// single extension, never the number of extensions, so an experiment may run for hours, while
/// the lease itself stays short: a message held by a worker that was killed outright is offered
/// again as soon as the lease runs out (30 s by default).
final class LeaseKeeper: Sendable {
    private let task: Task<Void, Never>

    /// Starts extending `message`'s lease on `queue` by `lease` seconds every `lease / 3` seconds.
    init(queue: any JobQueue, message: QueueMessage, lease: Int, log: WorkerLog) {
        task = Task {
            // Pub/Sub caps one extension at 600 s: renew well within that, whatever the lease.
            let period = max(1, min(lease, 600) / 3)
            var failures = 0
            while !Task.isCancelled {
                // After a failed extension, retry sooner: the lease still has two thirds left.
                let wait: Duration = failures == 0 ? .seconds(period) : .milliseconds(min(period * 1000 / 4, 250 << min(failures, 6)))
                await CancellableSleep.sleep(for: wait)
                if Task.isCancelled { return }
                do {
                    try await queue.extendLease(message, seconds: lease)
                    failures = 0
                } catch let error as QueueError where error.code == .leaseLost {
                    log.warning("lost the lease on message \(message.id): \(error); another worker may run it too")
                    return
                } catch {
                    failures += 1
                    log.warning("could not extend the lease on message \(message.id) (attempt \(failures)): \(error)")
                }
            }
        }
    }

    /// Stops extending and waits until no extension is under way, so none can land after the
    /// caller acknowledges, releases or delays the message. Calling it again does nothing more.
    func stop() async {
        task.cancel()
        await task.value
    }
}
