#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioInit
import StudioQueues

/// The worker loop: take a message when a slot is free, ask the slot pool whether it fits, run
/// it beside the others (`--parallel`), acknowledge it; quit when the queue has stayed empty for
/// the idle timeout with nothing running, after one experiment with `singleRun`, or on
/// SIGTERM/SIGINT (after every running experiment has handed its message back to the queue).
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
        /// With `--single-run`: a transient failure, or a message this worker cannot fit; the
        /// message returns to the queue, for this or another worker. EX_TEMPFAIL.
        public static let retryLater: Int32 = 75
        /// Stopped by SIGTERM (or 128 + the signal that stopped it).
        public static func stopped(by signal: Int32) -> Int32 { 128 + signal }
    }

    private let queue: any JobQueue
    private let options: WorkerOptions
    private let log: WorkerLog
    private let shutdown = StopSwitch()
    private let processor: MessageProcessor
    private let preemption = Preemption()

    public init(queue: any JobQueue, options: WorkerOptions, log: WorkerLog) {
        self.queue = queue
        self.options = options
        self.log = log
        self.processor = MessageProcessor(queue: queue, options: options, log: log, preemption: preemption)
    }

    /// Asks the worker to stop: every running experiment is terminated and its message released.
    /// The one path a termination signal takes: the init core's supervisor calls this. SIGTERM is
    /// how Kubernetes preempts a pod: the experiments get the preemption treatment (see
    /// `ExperimentRun`) within Kubernetes' default grace of 30 s.
    public func requestShutdown(signal: Int32) {
        if signal == SIGTERM { preemption.record(PreemptionNotice(source: "SIGTERM", budget: .seconds(30))) }
        shutdown.trip(.workerShutdown(signal: signal))
    }

    /// A cloud's preemption notice: stop everything as for SIGTERM, within the notice's budget.
    private func preempted(_ notice: PreemptionNotice) {
        log.warning("preemption notice from \(notice.source): checkpointing and handing back every experiment within \(notice.budget)")
        preemption.record(notice)
        shutdown.trip(.workerShutdown(signal: SIGTERM))
    }

    /// Runs until done; returns the process exit code.
    public func run() async -> Int32 {
        log.info("worker listening", ["queue": queue.name])
        let pool = await makeSlotPool()
        log.debug("worker settings", ["lease_s": String(options.leaseSeconds), "max_deliveries": String(options.maxDeliveries),
                                      "retry_delay_s": String(options.retryDelaySeconds), "keep_runs": String(options.keepRuns),
                                      "cache_bytes": String(options.cacheBytes), "home": options.home,
                                      "parallel": String(pool.parallel)])
        CodePages.releaseResident() // start-up's code (argument parsing, configuration) is done with
        let watch = options.watchPreemption ? PreemptionWatch.start(environment: options.environment, log: log) { [self] in preempted($0) } : nil
        defer { watch?.cancel() }
        if options.singleRun { return await runOne(pool) }
        let code = await withDiscardingTaskGroup { group in await serve(pool, group: &group) }
        // The group has waited for every experiment: each message is settled or handed back.
        if case .workerShutdown(let signal)? = shutdown.reason { return ExitCode.stopped(by: signal) }
        return code
    }

    private func makeSlotPool() async -> SlotPool {
        let machine = await MachineResources.discover(home: options.home, environment: options.environment, log: log)
        let parallel = options.singleRun ? 1 : options.parallel ?? SlotPool.automaticParallel(for: machine)
        log.info("resources", ["cpus": formatCPUs(machine.cpus), "ram": formatBytes(machine.memoryBytes),
                               "hdd_free": formatBytes(machine.diskFreeBytes), "gpus": String(machine.gpus.count),
                               "parallel": String(parallel)])
        return SlotPool(machine: machine, parallel: parallel, acceptUnfit: options.acceptUnfit)
    }

    /// `--single-run`: one message, run here; a message that does not fit goes back (exit 75).
    private func runOne(_ pool: SlotPool) async -> Int32 {
        var waiting = WaitState()
        while true {
            switch await nextStep(pool, waiting: &waiting) {
            case .stop(let code): return code
            case .idle: continue
            case .handedBack: return ExitCode.retryLater
            case .admitted(let message, let reservation):
                let outcome = await processor.process(message, reservation: reservation, shutdown: shutdown)
                pool.release(reservation)
                if case .workerShutdown(let signal)? = shutdown.reason { return ExitCode.stopped(by: signal) }
                return outcome.exitCode
            }
        }
    }

    /// Takes messages while slots are free, each experiment in a child task of `group`.
    private func serve(_ pool: SlotPool, group: inout DiscardingTaskGroup) async -> Int32 {
        var waiting = WaitState()
        var unfit = 0
        while shutdown.reason == nil {
            if pool.running > 0 { waiting.lastWork = ContinuousClock.now } // not idle while anything runs
            let releases = pool.releaseCount // read first: a release after it ends the wait below
            if !pool.hasFreeSlot {
                await waitForSlot(pool, after: releases, atMost: nil)
                continue
            }
            switch await nextStep(pool, waiting: &waiting) {
            case .stop(let code): return code
            case .idle:
                // `--timeout 0` receives without waiting: while experiments run, wait for one to
                // end (or a second) rather than ask an empty queue again at once.
                if options.idleTimeout == 0 && pool.running > 0 { await waitForSlot(pool, after: pool.releaseCount, atMost: .seconds(1)) }
                continue
            case .handedBack(let verdict):
                // Messages it cannot fit do not keep the worker alive: it quits on the idle timeout.
                if let timeout = options.idleTimeout, pool.running == 0, ContinuousClock.now - waiting.lastWork >= .seconds(timeout) {
                    log.info("nothing this worker can run for \(timeout) s: done", ["queue": queue.name])
                    return ExitCode.drained
                }
                // Busy: try again once a running experiment ends. Never: another worker should
                // take it, so wait a little longer each time before receiving again.
                unfit += 1
                let pause = Duration.milliseconds(min(20_000, 250 << min(unfit, 7)))
                log.debug("waiting before the next receive", ["ms": String(pause / .milliseconds(1)), "verdict": "\(verdict)"])
                await waitForSlot(pool, after: releases, atMost: pause)
            case .admitted(let message, let reservation):
                unfit = 0
                group.addTask { [processor, shutdown] in
                    _ = await processor.process(message, reservation: reservation, shutdown: shutdown)
                    pool.release(reservation)
                    CodePages.releaseResident() // so what one experiment touched does not stay for all the next
                    // Freed heap goes back to the system too, so a worker that ran a thousand
                    // experiments holds what one needs (glibc keeps freed chunks in its arenas otherwise).
                    FreeHeap.release()
                }
            }
        }
        return ExitCode.drained
    }

    private enum Step {
        case stop(Int32)
        case idle
        case handedBack(FitVerdict)
        case admitted(QueueMessage, Reservation)
    }

    /// When the loop last had work, and how many receives in a row failed.
    private struct WaitState {
        var lastWork = ContinuousClock.now
        var failures = 0
    }

    /// One receive and, for a message, its admission.
    private func nextStep(_ pool: SlotPool, waiting: inout WaitState) async -> Step {
        if case .workerShutdown(let signal)? = shutdown.reason { return .stop(ExitCode.stopped(by: signal)) }
        // `--timeout 0` drains without waiting at all; otherwise wait in steps of at most 20 s.
        let waitSeconds = options.idleTimeout.map { timeout in
            timeout == 0 ? 0 : max(1, min(20, timeout - Int((ContinuousClock.now - waiting.lastWork).components.seconds)))
        } ?? 20
        let message: QueueMessage?
        do {
            message = try await receiveUnlessShutdown(wait: waitSeconds)
            waiting.failures = 0
        } catch let error as QueueError where error.code == .unusable {
            log.error("\(error)", ["queue": queue.name])
            return .stop(ExitCode.configuration)
        } catch {
            // A shutdown cancels the receive: that is no queue failure to warn about and retry.
            if case .workerShutdown(let signal)? = shutdown.reason { return .stop(ExitCode.stopped(by: signal)) }
            waiting.failures += 1
            let backoff = Backoff.delay(attempt: waiting.failures)
            log.warning("cannot receive from queue \(queue.name) (attempt \(waiting.failures), retrying in \(backoff)): \(error)")
            await waitForSlot(pool, after: pool.releaseCount, atMost: backoff)
            return .idle
        }
        guard let message else {
            if let timeout = options.idleTimeout, pool.running == 0, ContinuousClock.now - waiting.lastWork >= .seconds(timeout) {
                log.info("no message for \(timeout) s: the queue is drained", ["queue": queue.name])
                return .stop(ExitCode.drained)
            }
            return .idle
        }
        // Only a message it runs is work: one handed back for fit leaves the idle clock running,
        // so a worker that fits nothing on the queue still drains and quits.
        switch await processor.admit(message, pool: pool) {
        case .run(let reservation):
            waiting.lastWork = ContinuousClock.now
            return .admitted(message, reservation)
        case .handedBack(let verdict): return .handedBack(verdict)
        }
    }

    /// Waits until a running experiment releases its slot (a release after `count`), the worker
    /// is shut down, or `atMost` has passed.
    private func waitForSlot(_ pool: SlotPool, after count: Int, atMost: Duration?) async {
        await withTaskGroup(of: Void.self) { group in
            // With nothing running no release can come (and the pool would answer at once).
            if atMost == nil || pool.running > 0 { group.addTask { await pool.waitForRelease(after: count) } }
            group.addTask { [shutdown] in _ = await shutdown.wait() }
            if let atMost { group.addTask { await CancellableSleep.sleep(for: atMost) } }
            await group.next()
            group.cancelAll()
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
