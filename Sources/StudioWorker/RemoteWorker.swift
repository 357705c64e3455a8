#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioInit
import StudioQueues

/// The worker loop: take a message, run its experiment, acknowledge it; quit when the queue has
/// stayed empty for the idle timeout, after one experiment with `singleRun`, or on SIGTERM/SIGINT
/// (after handing the message in hand back to the queue).
public final class RemoteWorker: Sendable {
    /// Exit codes of `studio remote-worker`, lined up with Kubernetes Job pod-failure policies.
    public enum ExitCode {
        /// The queue was drained (or `--single-run` found nothing to do).
        public static let drained: Int32 = 0
        /// The worker's own configuration cannot work: its queue, the credentials for its queue, its
        /// command line. Never anything that came with a message.
        public static let configuration: Int32 = 42
        /// With `--single-run`: the message could not be run and was settled as failed (recorded
        /// where possible, kept under `$STUDIOML_HOME/rejected/`, acknowledged). EX_DATAERR.
        public static let messageFailed: Int32 = 65
        /// With `--single-run`: a transient failure; the message returns to the queue after a
        /// delay, for this or another worker. EX_TEMPFAIL.
        public static let retryLater: Int32 = 75
        /// Stopped by SIGTERM (or 128 + the signal that stopped it).
        public static func stopped(by signal: Int32) -> Int32 { 128 + signal }
    }

    private let queue: any JobQueue
    private let options: WorkerOptions
    private let log: WorkerLog
    private let shutdown = StopSwitch()
    private let processor: MessageProcessor

    public init(queue: any JobQueue, options: WorkerOptions, log: WorkerLog) {
        self.queue = queue
        self.options = options
        self.log = log
        self.processor = MessageProcessor(queue: queue, options: options, log: log)
    }

    /// Asks the worker to stop: the experiment in hand is terminated and its message released.
    public func requestShutdown(signal: Int32) {
        shutdown.trip(.workerShutdown(signal: signal))
    }

    /// Runs until done; returns the process exit code.
    public func run() async -> Int32 {
        var lastWork = ContinuousClock.now
        var failures = 0
        log.info("worker listening", ["queue": queue.name])
        log.debug("worker settings", ["lease_s": String(options.leaseSeconds), "max_deliveries": String(options.maxDeliveries),
                                      "retry_delay_s": String(options.retryDelaySeconds), "keep_runs": String(options.keepRuns),
                                      "cache_bytes": String(options.cacheBytes), "home": options.home])
        CodePages.releaseResident() // start-up's code (argument parsing, configuration) is done with
        while true {
            if case .workerShutdown(let signal)? = shutdown.reason { return ExitCode.stopped(by: signal) }
            // `--timeout 0` drains without waiting at all; otherwise wait in steps of at most 20 s.
            let waitSeconds = options.idleTimeout.map { timeout in
                timeout == 0 ? 0 : max(1, min(20, timeout - Int((ContinuousClock.now - lastWork).components.seconds)))
            } ?? 20
            let message: QueueMessage?
            do {
                message = try await receiveUnlessShutdown(wait: waitSeconds)
                failures = 0
            } catch let error as QueueError where error.code == .unusable {
                log.error("\(error)", ["queue": queue.name])
                return ExitCode.configuration
            } catch {
                // A shutdown cancels the receive: that is no queue failure to warn about and retry.
                if case .workerShutdown(let signal)? = shutdown.reason { return ExitCode.stopped(by: signal) }
                failures += 1
                let backoff = Backoff.delay(attempt: failures)
                log.warning("cannot receive from queue \(queue.name) (attempt \(failures), retrying in \(backoff)): \(error)")
                try? await Task.sleep(for: backoff)
                continue
            }
            guard let message else {
                if let timeout = options.idleTimeout, ContinuousClock.now - lastWork >= .seconds(timeout) {
                    log.info("no message for \(timeout) s: the queue is drained", ["queue": queue.name])
                    return ExitCode.drained
                }
                continue
            }

            let outcome = await processor.process(message, shutdown: shutdown)
            if case .workerShutdown(let signal)? = shutdown.reason { return ExitCode.stopped(by: signal) }
            if options.singleRun { return outcome.exitCode }
            lastWork = ContinuousClock.now
            CodePages.releaseResident() // so what one experiment touched does not stay for all the next
            // Freed heap goes back to the system too, so a worker that ran a thousand experiments
            // holds what one needs (glibc keeps freed chunks in its arenas otherwise).
            FreeHeap.release()
        }
    }

    /// Receives one message, unless a shutdown comes first; a message that arrives after the
    /// shutdown is handed straight back.
    private func receiveUnlessShutdown(wait: Int) async throws -> QueueMessage? {
        let receiving = Task { [queue, options] in try await queue.receive(lease: options.leaseSeconds, wait: wait) }
        let watcher = Task { [shutdown] in
            if await shutdown.wait() != nil { receiving.cancel() }
        }
        defer { watcher.cancel() }
        let message = try await receiving.value
        if let message, shutdown.reason != nil {
            try? await queue.release(message)
            return nil
        }
        return message
    }
}

/// Exponential backoff with full jitter, capped at 30 s.
enum Backoff {
    static func delay(attempt: Int) -> Duration {
        let cap = 30_000.0
        let base = min(cap, 250.0 * Double(1 << min(attempt, 10)))
        return .milliseconds(Int(Double.random(in: base / 2...base)))
    }
}
