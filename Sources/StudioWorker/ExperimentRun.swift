#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioInit
import StudioModel
import StudioStorage

/// One experiment's run on this worker, from record check to final record.
struct ExperimentRun: Sendable {
    /// What the message processor does next.
    enum Result: Sendable {
        /// The outcome is stored: acknowledge. Carries the experiment's exit code.
        case done(exitCode: Int32)
        /// The worker is shutting down: hand the message back at once for another worker.
        case handBack(exitCode: Int32)
        /// No outcome could be reached or stored: try again later, or settle it as failed.
        case failed(MessageFailure)
    }

    let key: String
    let message: StudioMessage
    let config: StudioConfig
    let stores: ExperimentStores
    let options: WorkerOptions
    /// What it holds on this worker: its GPUs, for one.
    let reservation: Reservation
    /// The worker's preemption notice, once there is one.
    let preemption: Preemption
    let log: WorkerLog

    var layout: RunLayout { RunLayout(home: options.home, key: key) }
    var records: RecordBook { RecordBook(store: stores.database) }

    func execute(shutdown: StopSwitch) async -> Result {
        let experiment: Experiment
        do { experiment = try await startingRecord() } catch {
            return .failed(MessageFailure("cannot read or create the record of \(key)", error))
        }
        if experiment.status.isFinal {
            log.info("already \(experiment.status.rawValue): acknowledging without running it again")
            return .done(exitCode: 0)
        }
        let maxDuration: StudioDuration?
        do { maxDuration = try checkBeforeStart(experiment) } catch {
            log.warning("not running it: \(error)")
            return await settle(status: .failed, info: ["reason": .string("\(error)")], exitCode: 1)
        }
        do { try await markRunning(experiment) } catch {
            return .failed(MessageFailure("cannot mark \(key) running", error))
        }
        let artifacts: ArtifactSet
        do { artifacts = try await prepare(experiment) } catch {
            let failure = MessageFailure("cannot prepare the experiment", error)
            log.error("\(failure)")
            if failure.isTransient {
                // The record store answered a moment ago: it should not say running while the message waits.
                try? await records.update(key) { record in
                    record.status = .waiting
                    record.info["last_error"] = .string(failure.description)
                }
                return .failed(failure)
            }
            return await settle(status: .failed, info: ["reason": .string(failure.description)], exitCode: 1)
        }
        if options.pip == .missing, !experiment.pythonenv.isEmpty {
            let pip = await PipInstaller(python: pythonExecutable(for: experiment), environment: environment(for: experiment, artifacts: artifacts), outputPath: layout.outputFile, workspace: layout.workspace, log: log)
                .installMissing(experiment.pythonenv)
            if case .failed(let why) = pip {
                let checkpointed = await checkpoint(artifacts, recordingTime: false)
                return await settle(status: .failed, info: ["reason": .string(why)], checkpointed: checkpointed, exitCode: 1)
            }
        }
        return await run(experiment, artifacts: artifacts, maxDuration: maxDuration, shutdown: shutdown)
    }

    /// Spawns the experiment, supervises it to its end and records the outcome.
    private func run(_ experiment: Experiment, artifacts: ArtifactSet, maxDuration: StudioDuration?,
                     shutdown: StopSwitch) async -> Result {
        let launch = launch(for: experiment, artifacts: artifacts, maxDuration: maxDuration)
        let end: ExperimentEnd
        let experimentStop = StopSwitch()
        // This experiment's own switch (`studio stop` and max_duration trip it for this one alone);
        // the worker's shutdown trips it too.
        let forwardShutdown = Task { if let reason = await shutdown.wait() { experimentStop.trip(reason) } }
        defer { forwardShutdown.cancel() }
        // The live log and charts: only new bytes go to storage every 2 s (LiveLog.swift).
        let charts = LiveChartPieces.tags.map { (tag: $0, path: layout.path(for: $0)) }
        let liveLog = LiveUploader.start(store: stores.storage, key: key, outputPath: layout.outputFile, charts: charts, log: log)
        do {
            end = try await ExperimentProcess.run(launch, stop: experimentStop, log: log)
            await liveLog.finish()
        } catch {
            await liveLog.finish()
            let why = "cannot start \(launch.arguments.first ?? "the experiment"): \(error)"
            log.error(why)
            return await settle(status: .failed, info: ["reason": .string(why)], exitCode: (error as? SpawnError)?.exitCode ?? 1)
        }
        // Every periodic checkpoint has ended (ExperimentProcess waits for them): this one is the
        // last, and its time goes into the final record's own update (one round trip fewer).
        let checkpointed = await finalCheckpoint(artifacts, stoppedFor: end.stoppedFor)
        let code = end.status.shellCode
        if case .workerShutdown? = end.stoppedFor {
            // Not the experiment's fault: another worker runs it again, from its last checkpoint.
            await recordHandBack(checkpointed: checkpointed)
            return .handBack(exitCode: code)
        }
        var info: [String: JSONValue] = ["exit_code": .int(Int64(code))]
        if case .signaled(let signal) = end.status { info["signal"] = .int(Int64(signal)) }
        let status: ExperimentStatus
        switch end.stoppedFor {
        case .stopRequested?: status = .stopped; info["reason"] = .string("stopped on request")
        case .maxDuration?: status = .failed; info["reason"] = .string("ran past max_duration \(maxDuration.map { "\($0)" } ?? "")")
        default: status = code == 0 ? .finished : .failed
        }
        log.info("experiment \(status.rawValue)", ["exit_code": String(code)])
        let result = await settle(status: status, info: info, checkpointed: checkpointed, exitCode: code)
        // The window in which a worker killed outright would run a finished experiment again.
        log.debug("outcome recorded", ["after_exit_ms": String(Int((ContinuousClock.now - end.endedAt) / .milliseconds(1)))])
        return result
    }

    /// The stored record, which is the truth (the message is a copy made at submit time); the
    /// message's copy is stored first when there is none.
    private func startingRecord() async throws -> Experiment {
        if let stored = try await records.read(key) { return stored }
        try await records.write(message.experiment)
        return message.experiment
    }

    /// Refuses an experiment whose lifetime ran out while it waited, or whose `max_duration` is
    /// unreadable; returns its `max_duration`.
    private func checkBeforeStart(_ experiment: Experiment) throws -> StudioDuration? {
        if let lifetime = try? config.experimentLifetime, let added = experiment.timeAdded,
           Date.now.timeIntervalSince1970 > added + Double(lifetime.seconds) {
            throw WorkerError("experimentLifetime \(lifetime) expired before the experiment started")
        }
        return try experiment.maxDuration
    }

    /// This machine's name (a pod's name in Kubernetes), as the web UI shows where an experiment runs.
    static func hostName() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "unknown" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Running from here on: written over the record just read (one round trip, not a re-read).
    private func markRunning(_ experiment: Experiment) async throws {
        var running = experiment
        running.status = .running
        running.timeStarted = Date.now.timeIntervalSince1970
        // A preempted attempt's reason is history now (`preempted_by` stays): this attempt has its own.
        if running.info["reason"] == .string("preempted") { running.info["reason"] = nil }
        running.info["worker_host"] = .string(Self.hostName())
        if running.redactedConfig == nil { running.redactedConfig = config.source } // submitted by StudioML's client
        try await records.write(running)
    }

    /// The run's directories, its immutable artifacts in place, and the artifact map.
    private func prepare(_ experiment: Experiment) async throws -> ArtifactSet {
        try layout.prepare()
        let artifacts = ArtifactSet(experiment: experiment, layout: layout, storage: stores.storage,
                                    storageConfig: config.storage, compression: config.storage.compression)
        try await artifacts.fetchImmutable(log: log)
        if experiment.timeLastCheckpoint != nil { try await artifacts.restoreCheckpoint(log: log) }
        try artifacts.writeMapping()
        return artifacts
    }

    private func launch(for experiment: Experiment, artifacts: ArtifactSet, maxDuration: StudioDuration?) -> ExperimentLaunch {
        unlink(preemptionFile) // an earlier attempt's notice is not this one's
        return ExperimentLaunch(
            arguments: commandLine(for: experiment),
            environment: environment(for: experiment, artifacts: artifacts),
            workingDirectory: layout.workspace,
            outputPath: layout.outputFile,
            maxDuration: maxDuration.map(\.duration),
            grace: options.grace,
            stopCheckInterval: options.stopCheckInterval,
            stopRequested: { [records, key] in (try? await records.read(key))?.status == .stopped },
            checkpointInterval: (try? config.saveWorkspaceFrequency).flatMap { $0.seconds > 0 ? $0.duration : nil },
            checkpoint: { _ = await checkpoint(artifacts) },
            metricsPath: layout.metricsFile,
            metricsInterval: (try? config.saveMetricsFrequency).flatMap { $0.seconds > 0 ? $0.duration : nil },
            beforeShutdown: { pid in await prepareForShutdown(pid: pid) },
            gpus: reservation.gpus.map(\.index))
    }

    /// Saves every mutable artifact that exists locally, then (unless the caller records it itself)
    /// the record's `time_last_checkpoint`. Returns that time, or nil when the checkpoint failed.
    @discardableResult
    func checkpoint(_ artifacts: ArtifactSet, recordingTime: Bool = true) async -> Double? {
        do {
            try await artifacts.uploadMutable(log: log)
            let now = Date.now.timeIntervalSince1970
            if recordingTime { try await records.update(key) { $0.timeLastCheckpoint = now } }
            return now
        } catch {
            log.warning("checkpoint failed (the next one retries): \(error)")
            return nil
        }
    }

    /// Stores the final status, retried because acknowledging depends on it: `.done` once stored,
    /// `.failed` (transient, so the message is offered again later) when it could not be.
    private func settle(status: ExperimentStatus, info: [String: JSONValue], checkpointed: Double? = nil,
                        exitCode: Int32) async -> Result {
        var lastError: any Error = WorkerError("no attempt was made")
        for attempt in 1...5 {
            do {
                try await records.update(key) { record in
                    if let checkpointed { record.timeLastCheckpoint = checkpointed }
                    record.status = status
                    record.timeFinished = Date.now.timeIntervalSince1970
                    for (name, value) in info { record.info[name] = value }
                }
                return .done(exitCode: exitCode)
            } catch {
                lastError = error
                log.warning("cannot store the final record (attempt \(attempt) of 5): \(error)")
                if attempt < 5 { try? await Task.sleep(for: Backoff.delay(attempt: attempt)) }
            }
        }
        return .failed(MessageFailure("cannot store the final record (\(status.rawValue)): \(lastError)", transient: true))
    }

    /// `python3` for Python 3 experiments (and when the version is unknown), `python` for 2.x.
    private func pythonExecutable(for experiment: Experiment) -> String {
        (experiment.pythonver ?? "3").hasPrefix("2") ? "python" : "python3"
    }

    /// The experiment's command line, arguments exactly as the submitter typed them: the record
    /// holds them shell-quoted (StudioML's format), undone here once.
    private func commandLine(for experiment: Experiment) -> [String] {
        [pythonExecutable(for: experiment), experiment.filename] + experiment.args.map(ShellWord.unquote)
    }

    /// The worker's environment, the config's `env`, and what StudioML experiments expect.
    private func environment(for experiment: Experiment, artifacts: ArtifactSet) -> [String: String] {
        var environment = options.environment
        for (name, value) in config.env { environment[name] = value }
        environment["STUDIOML_EXPERIMENT"] = key
        environment["STUDIOML_HOME"] = options.home
        environment["STUDIOML_ARTIFACT_MAPPING"] = layout.artifactMapping
        environment["PYTHONUNBUFFERED"] = "TRUE"
        environment["STUDIOML_PREEMPTION_FILE"] = preemptionFile
        for (name, value) in reservation.environment { environment[name] = value }
        return environment
    }
}
