#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioInit
import StudioModel
import StudioQueues
import StudioStorage

/// What became of one message: the exit code `--single-run` exits with.
struct MessageOutcome: Sendable {
    var exitCode: Int32
}

/// Takes one message through its whole life: checks, lease, workspace, run, checkpoints, final
/// record, acknowledgement. The message is acknowledged only once its outcome is stored, or once
/// it is settled as failed and kept (see `MessageFailure` for the rule). Nothing that comes with a
/// message stops the worker.
struct MessageProcessor: Sendable {
    let queue: any JobQueue
    let options: WorkerOptions
    let log: WorkerLog
    let deliveries = DeliveryCounter()
    let housekeeping: RunHousekeeping
    let rejected: RejectedMessages
    let preemption: Preemption

    init(queue: any JobQueue, options: WorkerOptions, log: WorkerLog, preemption: Preemption = Preemption()) {
        self.queue = queue
        self.preemption = preemption
        self.options = options
        self.log = log
        housekeeping = RunHousekeeping(keepRuns: options.keepRuns, cacheBytes: options.cacheBytes)
        rejected = RejectedMessages(home: options.home, limit: options.keepRejected)
    }

    /// Takes `message` to an outcome, its experiment holding `reservation` (its GPUs, for one).
    func process(_ message: QueueMessage, reservation: Reservation, shutdown: StopSwitch) async -> MessageOutcome {
        let delivery = deliveries.record(message.id, reported: message.deliveryAttempt)
        // Held from the first moment until the message is settled: settling can take as long as
        // running. Every path below ends it (`await lease.stop()`) before it settles the message.
        let lease = LeaseKeeper(queue: queue, message: message, lease: options.leaseSeconds, log: log)
        let parsed: StudioMessage
        let config: StudioConfig
        do {
            parsed = try StudioMessage(parsing: message.body)
            config = try parsed.config
        } catch {
            return await settleFailed(message, delivery: delivery, reason: "not a StudioML experiment: \(error)", record: nil, lease: lease)
        }
        let key = parsed.experiment.key
        var fields = ["experiment": key, "message": message.id]
        if delivery > 1 { fields["delivery"] = String(delivery) }
        let log = log.with(fields)
        log.info("received experiment")
        defer { housekeeping.settled(RunLayout(home: options.home, key: key), log: log) }

        let stores: ExperimentStores
        do { stores = try ExperimentStores(config: config, home: options.home) } catch {
            let reason = "cannot open the experiment's stores: \(error)"
            let database = try? ExperimentStores.open(config.database, role: "database", home: options.home)
            return await settleFailed(message, delivery: delivery, reason: reason,
                                      record: database.map { (RecordBook(store: $0), parsed.experiment) }, lease: lease)
        }
        let record = (RecordBook(store: stores.database), parsed.experiment)
        if delivery > options.maxDeliveries {
            let reason = "delivered \(delivery) times without an outcome (--max-deliveries \(options.maxDeliveries)): the workers that took it died or lost it"
            return await settleFailed(message, delivery: delivery, reason: reason, record: record, lease: lease)
        }

        let run = ExperimentRun(key: key, message: parsed, config: config, stores: stores, options: options,
                                reservation: reservation, preemption: preemption, log: log)
        switch await run.execute(shutdown: shutdown) {
        case .done(let exitCode):
            await lease.stop()
            do {
                try await queue.acknowledge(message)
                log.info("acknowledged")
            } catch {
                // The outcome is stored; a redelivery finds a final record and is acknowledged then.
                log.warning("could not acknowledge: \(error)")
            }
            deliveries.forget(message.id)
            return MessageOutcome(exitCode: exitCode)
        case .handBack(let exitCode):
            await lease.stop()
            log.warning("handing the message back to the queue: the worker is shutting down")
            do { try await queue.release(message) } catch {
                log.warning("could not release the message (it returns when its lease runs out): \(error)")
            }
            return MessageOutcome(exitCode: exitCode)
        case .failed(let failure) where failure.isTransient && delivery < options.maxDeliveries:
            return await retryLater(message, delivery: delivery, failure: failure, lease: lease, log: log)
        case .failed(let failure):
            return await settleFailed(message, delivery: delivery, reason: failure.description, record: record, lease: lease)
        }
    }

    /// Offers the message again after a delay that grows with each delivery, never at once, so a
    /// store that is down is not hammered by every worker of the fleet.
    private func retryLater(_ message: QueueMessage, delivery: Int, failure: MessageFailure,
                            lease: LeaseKeeper, log: WorkerLog) async -> MessageOutcome {
        let delay = RedeliveryDelay.seconds(base: options.retryDelaySeconds, afterDelivery: delivery)
        log.warning("will try again in \(delay) s (delivery \(delivery) of at most \(options.maxDeliveries)): \(failure)")
        await lease.stop()
        do { try await queue.extendLease(message, seconds: delay) } catch {
            log.warning("could not delay the message (it returns when its lease runs out): \(error)")
        }
        return MessageOutcome(exitCode: RemoteWorker.ExitCode.retryLater)
    }

    /// Settles a message that will never succeed: its record says `failed` with the reason (where
    /// the record store is reachable), the message is kept under `rejected/`, then acknowledged.
    /// Only when it can be neither recorded nor kept does it go back to the queue, after a delay.
    private func settleFailed(_ message: QueueMessage, delivery: Int, reason: String,
                              record: (RecordBook, Experiment)?, lease: LeaseKeeper) async -> MessageOutcome {
        var recorded = false
        if let (records, experiment) = record {
            recorded = await recordFailure(records, experiment, reason: reason, delivery: delivery)
        }
        var kept: String?
        do { kept = try rejected.keep(message, queue: queue.name, reason: reason, deliveries: delivery) } catch {
            log.error("cannot keep message \(message.id) under \(rejected.directory): \(error)")
        }
        await lease.stop()
        guard recorded || kept != nil else {
            let delay = RedeliveryDelay.seconds(base: options.retryDelaySeconds, afterDelivery: delivery)
            try? await queue.extendLease(message, seconds: delay)
            return MessageOutcome(exitCode: RemoteWorker.ExitCode.retryLater)
        }
        do {
            try await queue.acknowledge(message)
            log.error("settled message \(message.id) as failed: \(reason)" + (recorded ? "; recorded" : "") + (kept.map { "; kept at \($0)" } ?? ""))
        } catch {
            log.warning("could not acknowledge the failed message \(message.id): \(error)")
        }
        deliveries.forget(message.id)
        return MessageOutcome(exitCode: RemoteWorker.ExitCode.messageFailed)
    }

    /// Writes `failed` with the reason into the record: over the stored one, or over the message's
    /// copy when there is none or it cannot be read. False when the store did not take it.
    private func recordFailure(_ records: RecordBook, _ experiment: Experiment, reason: String, delivery: Int) async -> Bool {
        let stored: Experiment?
        do { stored = try await records.read(experiment.key) } catch let error where MessageFailure.isTransient(error) {
            return false
        } catch {
            stored = nil // unreadable: replaced by the message's copy
        }
        if let stored, stored.status.isFinal { return true }
        var failed = stored ?? experiment
        failed.status = .failed
        failed.timeFinished = Date.now.timeIntervalSince1970
        failed.info["reason"] = .string(reason)
        failed.info["deliveries"] = .int(Int64(delivery))
        do { try await records.write(failed) } catch { return false }
        return true
    }
}

/// `text` with every character that is unsafe in a file name replaced by `_`.
func safeFileName(_ text: String) -> String {
    let safe = String(text.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
    return safe.isEmpty || safe.hasPrefix(".") ? "_" + safe : safe
}
