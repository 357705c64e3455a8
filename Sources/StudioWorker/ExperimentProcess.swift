#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioInit

/// What to run for one experiment, and the rules it runs under.
struct ExperimentLaunch: Sendable {
    var arguments: [String]
    var environment: [String: String]
    var workingDirectory: String
    var outputPath: String
    /// Longest the experiment may run; nil for no limit.
    var maxDuration: Duration?
    /// How long SIGTERM has to work before SIGKILL.
    var grace: Duration
    /// How often to look for a stop request.
    var stopCheckInterval: Duration
    /// Whether the record asks for the experiment to stop (`studio stop KEY`).
    var stopRequested: @Sendable () async -> Bool
    /// How often to checkpoint while it runs; nil for only at the end.
    var checkpointInterval: Duration?
    /// Saves the mutable artifacts and the record's `time_last_checkpoint`.
    var checkpoint: @Sendable () async -> Void
    /// Where resource-usage lines go (the `_metrics` artifact), and how often.
    var metricsPath: String
    var metricsInterval: Duration?
    /// Called before the worker's shutdown stops the experiment (a preemption's checkpoint signal);
    /// returns the grace to stop it with.
    var beforeShutdown: (@Sendable (Int32) async -> Duration)?
    /// The experiment's GPUs (nvidia-smi indexes), whose use goes into `_metrics` too.
    var gpus: [Int] = []
}

/// How an experiment's process ended.
struct ExperimentEnd: Sendable {
    var status: ExitStatus
    /// Set when the worker stopped it; nil when it ended by itself.
    var stoppedFor: StopReason?
    /// Bytes of output passed through.
    var outputBytes: Int
    /// When the experiment's main process ended.
    var endedAt: ContinuousClock.Instant
}

/// Runs one experiment as a child of the worker (which is PID 1 and its reaper): live output,
/// periodic checkpoints, stop requests, `max_duration`, and the worker's own shutdown.
enum ExperimentProcess {
    /// Spawns the experiment and supervises it to the end; throws only when it cannot be spawned.
    static func run(_ launch: ExperimentLaunch, stop: StopSwitch, log: WorkerLog) async throws -> ExperimentEnd {
        let pump = try OutputPump(outputPath: launch.outputPath)
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { if devNull >= 0 { close(devNull) } }
        let pid: Int32
        do {
            pid = try ProcessSupervisor.shared.spawn(SpawnRequest(
                arguments: launch.arguments, environment: launch.environment,
                workingDirectory: launch.workingDirectory,
                stdin: devNull >= 0 ? devNull : nil, stdout: pump.writeEnd, stderr: pump.writeEnd))
        } catch {
            pump.closeWriteEnd()
            _ = await pump.run()
            throw error
        }
        pump.closeWriteEnd()
        log.info("experiment started", ["pid": String(pid), "command": launch.arguments.joined(separator: " ")])
        let pumping = Task { await pump.run() }
        let sampler = ResourceSampler(group: pid, path: launch.metricsPath, gpus: launch.gpus, environment: launch.environment)
        sampler.sample()

        let watchers = startWatchers(launch, stop: stop, sampler: sampler)
        let stopper = Task {
            guard let reason = await stop.wait(), !Task.isCancelled else { return }
            log.info("stopping the experiment", ["pid": String(pid), "reason": "\(reason)"])
            var grace = launch.grace
            if case .workerShutdown = reason, let beforeShutdown = launch.beforeShutdown { grace = await beforeShutdown(pid) }
            _ = await ProcessSupervisor.shared.terminate(pid, grace: grace)
        }

        let status = await ProcessSupervisor.shared.waitForExit(pid)
        let endedAt = ContinuousClock.now
        sampler.sample()
        watchers.cancel()
        stopper.cancel()
        // No periodic checkpoint or record read may overlap the final checkpoint or land after the
        // final record: wait for every watcher to end first.
        await watchers.value
        // The main process is gone; anything it left behind still holds the output pipe open.
        _ = await ProcessSupervisor.shared.terminate(pid, grace: launch.grace)
        let bytes = await pumping.value
        return ExperimentEnd(status: status, stoppedFor: stop.reason, outputBytes: bytes, endedAt: endedAt)
    }

    /// The experiment's periodic duties until cancelled: `max_duration`, stop requests, metrics
    /// lines and checkpoints.
    private static func startWatchers(_ launch: ExperimentLaunch, stop: StopSwitch, sampler: ResourceSampler) -> Task<Void, Never> {
        Task {
            await withTaskGroup(of: Void.self) { group in
                if let limit = launch.maxDuration {
                    group.addTask {
                        await CancellableSleep.sleep(for: limit)
                        if !Task.isCancelled { stop.trip(.maxDuration) }
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        await CancellableSleep.sleep(for: launch.stopCheckInterval)
                        if Task.isCancelled { return }
                        if await launch.stopRequested() { stop.trip(.stopRequested); return }
                    }
                }
                if let interval = launch.metricsInterval {
                    group.addTask {
                        while !Task.isCancelled {
                            await CancellableSleep.sleep(for: interval)
                            if Task.isCancelled { return }
                            sampler.sample()
                        }
                    }
                }
                if let interval = launch.checkpointInterval {
                    group.addTask {
                        while !Task.isCancelled {
                            await CancellableSleep.sleep(for: interval)
                            if Task.isCancelled { return }
                            // In a task of its own, which the watchers' cancellation does not reach:
                            // a checkpoint under way completes, and the final one waits for it.
                            await Task { await launch.checkpoint() }.value
                        }
                    }
                }
                await group.waitForAll()
            }
        }
    }
}
