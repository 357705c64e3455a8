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
        /// The outcome could not be reached or stored: release the message for another try.
        case handBack(exitCode: Int32, why: String)
    }

    let key: String
    let message: StudioMessage
    let config: StudioConfig
    let stores: ExperimentStores
    let options: WorkerOptions
    let log: WorkerLog

    func execute(shutdown: StopSwitch) async -> Result {
        let records = RecordBook(store: stores.database)
        // The stored record is the truth (the message is a copy made at submit time).
        let experiment: Experiment
        do {
            if let stored = try await records.read(key) {
                experiment = stored
            } else {
                experiment = message.experiment
                try await records.write(experiment)
            }
        } catch {
            return .handBack(exitCode: 1, why: "cannot read the record of \(key): \(error)")
        }

        if experiment.status.isFinal {
            log.info("already \(experiment.status.rawValue): acknowledging without running it again")
            return .done(exitCode: 0)
        }
        if let lifetime = try? config.experimentLifetime, let added = experiment.timeAdded,
           Date.now.timeIntervalSince1970 > added + Double(lifetime.seconds) {
            log.warning("experimentLifetime \(lifetime) expired before it started: not running it")
            let stored = await finish(records, status: .failed, info: ["reason": .string("experimentLifetime expired before the experiment started")])
            return stored ? .done(exitCode: 1) : .handBack(exitCode: 1, why: "cannot store the record")
        }

        let maxDuration: StudioDuration?
        do { maxDuration = try experiment.maxDuration } catch {
            let stored = await finish(records, status: .failed, info: ["reason": .string("\(error)")])
            return stored ? .done(exitCode: 1) : .handBack(exitCode: 1, why: "cannot store the record")
        }

        // Running from here on: written over the record just read (one round trip, not a re-read).
        do {
            var running = experiment
            running.status = .running
            running.timeStarted = Date.now.timeIntervalSince1970
            try await records.write(running)
        } catch {
            return .handBack(exitCode: 1, why: "cannot mark \(key) running: \(error)")
        }

        let layout = RunLayout(home: options.home, key: key)
        let artifacts: ArtifactSet
        do {
            try layout.prepare()
            artifacts = ArtifactSet(experiment: experiment, layout: layout, storage: stores.storage,
                                     storageConfig: config.storage, compression: config.storage.compression)
            try await artifacts.fetchImmutable(log: log)
            try artifacts.writeMapping()
        } catch {
            log.error("cannot prepare the experiment: \(error)")
            let stored = await finish(records, status: .failed, info: ["reason": .string("cannot prepare the experiment: \(error)")])
            return stored ? .done(exitCode: 1) : .handBack(exitCode: 1, why: "cannot store the record")
        }

        if options.pip == .missing, !experiment.pythonenv.isEmpty {
            let pip = await PipInstaller(python: pythonExecutable(for: experiment), environment: environment(for: experiment, layout: layout, artifacts: artifacts), outputPath: layout.outputFile, workspace: layout.workspace, log: log)
                .installMissing(experiment.pythonenv)
            if case .failed(let why) = pip {
                let checkpointed = await checkpoint(records, artifacts, recordingTime: false)
                let stored = await finish(records, status: .failed, info: ["reason": .string(why)], checkpointed: checkpointed)
                return stored ? .done(exitCode: 1) : .handBack(exitCode: 1, why: "cannot store the record")
            }
        }

        let launch = ExperimentLaunch(
            arguments: commandLine(for: experiment, layout: layout),
            environment: environment(for: experiment, layout: layout, artifacts: artifacts),
            workingDirectory: layout.workspace,
            outputPath: layout.outputFile,
            maxDuration: maxDuration.map(\.duration),
            grace: options.grace,
            stopCheckInterval: options.stopCheckInterval,
            stopRequested: { [records, key] in (try? await records.read(key))?.status == .stopped },
            checkpointInterval: (try? config.saveWorkspaceFrequency).flatMap { $0.seconds > 0 ? $0.duration : nil },
            checkpoint: { _ = await checkpoint(records, artifacts) },
            metricsPath: layout.metricsFile,
            metricsInterval: (try? config.saveMetricsFrequency).flatMap { $0.seconds > 0 ? $0.duration : nil })
        let end: ExperimentEnd
        let experimentStop = StopSwitch()
        let relay = Task { experimentStop.trip(await shutdown.wait()) }
        do {
            end = try await ExperimentProcess.run(launch, stop: experimentStop, log: log)
        } catch {
            relay.cancel()
            let why = "cannot start \(launch.arguments.first ?? "the experiment"): \(error)"
            log.error(why)
            let stored = await finish(records, status: .failed, info: ["reason": .string(why)])
            return stored ? .done(exitCode: (error as? SpawnError)?.exitCode ?? 1) : .handBack(exitCode: 1, why: "cannot store the record")
        }
        relay.cancel()
        // The last checkpoint's time goes into the final record's own update (one round trip fewer).
        let checkpointed = await checkpoint(records, artifacts, recordingTime: false)

        let code = end.status.shellCode
        if case .workerShutdown? = end.stoppedFor {
            // Not the experiment's fault: another worker runs it again from the start.
            try? await records.update(key) { record in
                if let checkpointed { record.timeLastCheckpoint = checkpointed }
                record.status = .waiting
                record.info["interrupted"] = .string("worker stopped at \(Date.now.timeIntervalSince1970); message returned to the queue")
            }
            return .handBack(exitCode: code, why: "the worker is shutting down")
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
        guard await finish(records, status: status, info: info, checkpointed: checkpointed) else {
            return .handBack(exitCode: code, why: "cannot store the final record")
        }
        return .done(exitCode: code)
    }

    /// Saves every mutable artifact that exists locally, then (unless the caller records it itself)
    /// the record's `time_last_checkpoint`. Returns that time, or nil when the checkpoint failed.
    @discardableResult
    private func checkpoint(_ records: RecordBook, _ artifacts: ArtifactSet, recordingTime: Bool = true) async -> Double? {
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

    /// Stores the final status; retried, because acknowledging depends on it. False when it could not.
    private func finish(_ records: RecordBook, status: ExperimentStatus, info: [String: JSONValue],
                        checkpointed: Double? = nil) async -> Bool {
        for attempt in 1...5 {
            do {
                try await records.update(key) { record in
                    if let checkpointed { record.timeLastCheckpoint = checkpointed }
                    record.status = status
                    record.timeFinished = Date.now.timeIntervalSince1970
                    for (name, value) in info { record.info[name] = value }
                }
                return true
            } catch {
                log.warning("cannot store the final record (attempt \(attempt) of 5): \(error)")
                try? await Task.sleep(for: Backoff.delay(attempt: attempt))
            }
        }
        return false
    }

    /// `python3` for Python 3 experiments (and when the version is unknown), `python` for 2.x.
    private func pythonExecutable(for experiment: Experiment) -> String {
        (experiment.pythonver ?? "3").hasPrefix("2") ? "python" : "python3"
    }

    /// The experiment's command line, arguments exactly as the submitter typed them: the record
    /// holds them shell-quoted (StudioML's format), undone here once.
    private func commandLine(for experiment: Experiment, layout: RunLayout) -> [String] {
        [pythonExecutable(for: experiment), experiment.filename] + experiment.args.map(ShellWord.unquote)
    }

    /// The worker's environment, the config's `env`, and what StudioML experiments expect.
    private func environment(for experiment: Experiment, layout: RunLayout, artifacts: ArtifactSet) -> [String: String] {
        var environment = options.environment
        for (name, value) in config.env { environment[name] = value }
        environment["STUDIOML_EXPERIMENT"] = key
        environment["STUDIOML_HOME"] = options.home
        environment["STUDIOML_ARTIFACT_MAPPING"] = layout.artifactMapping
        environment["PYTHONUNBUFFERED"] = "TRUE"
        return environment
    }
}
