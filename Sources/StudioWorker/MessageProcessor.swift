#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioInit
import StudioModel
import StudioQueues
import StudioStorage

/// What became of one message.
struct MessageOutcome: Sendable {
    /// The experiment's exit code (what `--single-run` exits with).
    var exitCode: Int32
    /// Set when the worker must stop altogether (its configuration cannot work).
    var fatalExitCode: Int32?
}

/// Takes one message through its whole life: checks, lease, workspace, run, checkpoints, final
/// record, acknowledgement. The message is acknowledged only once the outcome is stored; when
/// the outcome cannot be stored, it goes back to the queue. One bad message never stops the worker.
struct MessageProcessor: Sendable {
    let queue: any JobQueue
    let options: WorkerOptions
    let log: WorkerLog

    /// Exit code for a message that is not a StudioML experiment (EX_DATAERR).
    static let malformedMessageExitCode: Int32 = 65

    func process(_ message: QueueMessage, shutdown: StopSwitch) async -> MessageOutcome {
        let parsed: StudioMessage
        let config: StudioConfig
        do {
            parsed = try StudioMessage(parsing: message.body)
            config = try parsed.config
        } catch {
            await reject(message, because: "\(error)")
            return MessageOutcome(exitCode: Self.malformedMessageExitCode)
        }
        let key = parsed.experiment.key
        var fields = ["experiment": key, "message": message.id]
        if message.deliveryAttempt > 1 { fields["attempt"] = String(message.deliveryAttempt) }
        log.info("received experiment", fields)

        let stores: ExperimentStores
        do {
            stores = try ExperimentStores(config: config, home: options.home)
        } catch {
            log.error("cannot open the experiment's stores: \(error)", fields)
            try? await queue.release(message)
            return MessageOutcome(exitCode: RemoteWorker.ExitCode.configuration, fatalExitCode: RemoteWorker.ExitCode.configuration)
        }

        let run = ExperimentRun(
            key: key, message: parsed, config: config, stores: stores, options: options, log: log.with(fields))
        let lease = LeaseKeeper(queue: queue, message: message, lease: options.leaseSeconds, log: log)
        let result = await run.execute(shutdown: shutdown)
        lease.stop()

        switch result {
        case .done(let exitCode):
            do {
                try await queue.acknowledge(message)
                log.info("acknowledged", fields)
            } catch {
                // The outcome is stored; a redelivery finds a final record and is acknowledged then.
                log.warning("could not acknowledge: \(error)", fields)
            }
            return MessageOutcome(exitCode: exitCode)
        case .handBack(let exitCode, let why):
            log.warning("handing the message back to the queue: \(why)", fields)
            do { try await queue.release(message) } catch {
                log.warning("could not release the message (it returns when its lease runs out): \(error)", fields)
            }
            return MessageOutcome(exitCode: exitCode)
        }
    }

    /// Keeps a message that is not a StudioML experiment under `$STUDIOML_HOME/rejected/` and
    /// acknowledges it: redelivering it could never succeed, and nothing is lost.
    private func reject(_ message: QueueMessage, because reason: String) async {
        let directory = options.home + "/rejected"
        let path = directory + "/" + safeFileName(message.id) + ".json"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try message.body.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            log.error("malformed message \(message.id) (\(reason)) could not be kept at \(path): \(error); leaving it on the queue")
            try? await queue.release(message)
            return
        }
        log.error("malformed message \(message.id): \(reason); kept at \(path) and acknowledged")
        try? await queue.acknowledge(message)
    }
}

/// `text` with every character that is unsafe in a file name replaced by `_`.
func safeFileName(_ text: String) -> String {
    let safe = String(text.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
    return safe.isEmpty || safe.hasPrefix(".") ? "_" + safe : safe
}
