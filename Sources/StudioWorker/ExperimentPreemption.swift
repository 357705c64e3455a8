#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioInit
import StudioModel

/// What an experiment goes through when its worker is preempted (a GCE or EC2 spot notice, or
/// SIGTERM): `STUDIOML_PREEMPTED=1` in the file `STUDIOML_PREEMPTION_FILE` names, the
/// `--checkpoint-signal` to its process group and a third of the budget to act on it, a final
/// checkpoint of its mutable artifacts within what is left (3 s kept for the record and the
/// release), and a record saying `info.reason: preempted`, its message back on the queue.
extension ExperimentRun {
    /// The file the experiment may poll; it appears only on a preemption.
    var preemptionFile: String { layout.root + "/.preempted" }

    /// Called before the worker's shutdown stops the experiment; returns the grace to stop it with.
    func prepareForShutdown(pid: Int32) async -> Duration {
        guard let notice = preemption.notice else { return options.grace }
        let share = notice.remaining / 3
        let fd = open(preemptionFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd >= 0 {
            let text = Array("STUDIOML_PREEMPTED=1\n".utf8)
            text.withUnsafeBytes { writeAll(fd, $0.baseAddress!, $0.count) }
            close(fd)
        }
        if let signal = options.checkpointSignal {
            log.info("preempted: sending the experiment its checkpoint signal", ["signal": Signal.name(of: signal), "source": notice.source])
            _ = kill(-pid, signal)
            // The experiment may end by itself meanwhile: then this sleep is cancelled with the stopper.
            await CancellableSleep.sleep(for: share)
        }
        return min(options.grace, notice.remaining / 3)
    }

    /// The last checkpoint, bounded by the preemption budget after a shutdown: cut short (and
    /// reported) when it would outlast the machine.
    func finalCheckpoint(_ artifacts: ArtifactSet, stoppedFor: StopReason?) async -> Double? {
        guard case .workerShutdown? = stoppedFor, let notice = preemption.notice else {
            return await checkpoint(artifacts, recordingTime: false)
        }
        let limit = max(.seconds(1), notice.remaining - .seconds(3))
        let outcome = await withTaskGroup(of: Double??.self) { group in
            group.addTask { .some(await checkpoint(artifacts, recordingTime: false)) }
            group.addTask {
                await CancellableSleep.sleep(for: limit)
                return Task.isCancelled ? .some(nil) : nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let outcome else {
            log.warning("preempted: the final checkpoint did not finish within \(limit); handing the message back without it")
            return nil
        }
        if outcome != nil { log.info("preempted: final checkpoint uploaded", ["source": notice.source]) }
        return outcome
    }

    /// The record after the worker's shutdown stopped the experiment: `waiting` again, with why.
    func recordHandBack(checkpointed: Double?) async {
        let notice = preemption.notice
        try? await records.update(key) { record in
            if let checkpointed { record.timeLastCheckpoint = checkpointed }
            record.status = .waiting
            record.info["interrupted"] = .string("worker stopped at \(Date.now.timeIntervalSince1970); message returned to the queue")
            if let notice {
                record.info["reason"] = .string("preempted")
                record.info["preempted_by"] = .string(notice.source)
            }
        }
    }
}
