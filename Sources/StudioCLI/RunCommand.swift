#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import Glibc
import StudioInit
import StudioModel
import StudioQueues
import StudioWorker

/// `studio run`: submit an experiment, or run it here and now.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Submit an experiment to a queue, or run it here.",
        discussion: """
            Packs the current directory (minus what .studioml_ignore lists), stores it \
            content-addressed, writes the experiment's record and puts a message on \
            --queue; prints the experiment key and returns. Without --queue the experiment \
            runs here and now, on a private local queue worked in this process: its output \
            streams to this terminal, and studio exits with the experiment's exit code.

            Run a module with `-m pkg::mod` (StudioML's form) or `-m pkg.mod`.

            Ctrl-C (or SIGTERM) before the message is sent stops the submission: the \
            message is sent last, and the record written before it is removed, so nothing \
            is left half-submitted (an uploaded workspace blob stays; it is \
            content-addressed and reused). Once the message is being sent, the submission \
            finishes and prints the key.

            EXIT STATUS: 0 submitted; with no --queue, the experiment's own exit code \
            (128+N if it died of signal N); 128+N interrupted by signal N before anything \
            was queued (130 for Ctrl-C); 42 unusable queue, store or configuration; 64 bad \
            command line.
            """)

    @Option(name: .long, help: "The queue to submit to; without it the experiment runs here.")
    var queue: String?

    @Option(name: .long, help: ArgumentHelp("Config file (YAML or JSON, StudioML's keys); default $STUDIOML_HOME/config.yaml if present.", valueName: "file"))
    var config: String?

    @Option(name: [.customShort("e"), .long], help: ArgumentHelp("The experiment's key (default: <epoch>_<uuid>).", valueName: "name"))
    var experiment: String?

    @Option(name: .long, help: "Project the experiment belongs to.")
    var project: String?

    @Option(name: .long, help: ArgumentHelp("Stop the experiment after this long (25s, 5h, 48h2m10s).", valueName: "duration"))
    var maxDuration: String?

    @Option(name: .long, help: ArgumentHelp("Do not start the experiment once this long has passed since submission.", valueName: "duration"))
    var lifetime: String?

    @Option(name: .long, help: ArgumentHelp("The TensorBoard tag the UI's list shows: its last value, or its min or max.", valueName: "name[:min|:max]"))
    var metric: String?

    @Option(name: .long, help: ArgumentHelp("Save PATH as artifact TAG at checkpoints; repeatable.", valueName: "path:tag"))
    var capture: [String] = []

    @Option(name: .long, help: ArgumentHelp("Upload PATH once as fixed artifact TAG; repeatable.", valueName: "path:tag"))
    var captureOnce: [String] = []

    @Option(name: .long, help: "GPUs the experiment needs.") var gpus: Int?
    @Option(name: .long, help: "CPUs the experiment needs.") var cpus: Int?
    @Option(name: .long, help: ArgumentHelp("Memory the experiment needs (e.g. 4g).", valueName: "size")) var ram: String?
    @Option(name: .long, help: ArgumentHelp("Disk the experiment needs (e.g. 10g).", valueName: "size")) var hdd: String?

    @Option(name: .customShort("m"), help: ArgumentHelp("Run a module instead of a script: pkg::mod or pkg.mod.", valueName: "module"))
    var module: String?

    @OptionGroup var logging: LoggingOptions

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The script and its arguments, passed exactly as typed.", valueName: "script args"))
    var command: [String] = []

    /// Whether `-h`/`--help` among run's arguments is meant for run itself: it comes before the script
    /// (`studio run --help`, `studio run --gpus 1 -h`), not after it (`studio run train.py --help` passes it
    /// to the script; so does `studio run -m pkg.mod --help` to the module). The script argument captures
    /// everything from its first word on, help flags included, so the parser alone cannot tell.
    static func asksForItsOwnHelp(_ arguments: [String]) -> Bool {
        guard let index = arguments.firstIndex(where: { $0 == "--help" || $0 == "-h" }) else { return false }
        let probe = "studio-help-probe"
        guard let parsed = try? RunCommand.parse(Array(arguments[..<index]) + [probe]) else { return true }
        return parsed.module == nil && parsed.command == [probe]
    }

    func validate() throws {
        if module == nil && command.isEmpty { throw ValidationError("name a script to run (studio run script.py args...), or a module with -m pkg::mod") }
        for pair in capture + captureOnce where splitCapture(pair) == nil {
            throw ValidationError("--capture takes PATH:TAG, got \(pair)")
        }
        if let metric, metric.isEmpty || metric.hasPrefix(":") || (metric.contains(":") && !metric.hasSuffix(":min") && !metric.hasSuffix(":max")) {
            throw ValidationError("--metric takes NAME, NAME:min or NAME:max, got '\(metric)'")
        }
    }

    func run() async throws {
        let environment = Environment.current
        let home = Environment.studioHome(environment)
        let log = logging.workerLog
        let studioConfig: StudioConfig
        do {
            studioConfig = try ConfigLoader.load(path: config, home: home, environment: environment)
        } catch {
            log.error("\(error)")
            throw ExitCode(RemoteWorker.ExitCode.configuration)
        }
        var submission = Submission(script: module ?? command.first ?? "", workspace: FileManager.default.currentDirectoryPath)
        submission.module = module != nil
        submission.arguments = module != nil ? command : Array(command.dropFirst())
        submission.experimentName = experiment
        submission.project = project
        submission.maxDuration = maxDuration
        submission.metric = metric
        submission.lifetime = lifetime
        submission.captures = capture.compactMap(splitCapture)
        submission.capturesOnce = captureOnce.compactMap(splitCapture)
        if let gpus { submission.resources["gpus"] = .int(Int64(gpus)) }
        if let cpus { submission.resources["cpus"] = .int(Int64(cpus)) }
        if let ram { submission.resources["ram"] = .string(ram) }
        if let hdd { submission.resources["hdd"] = .string(hdd) }

        let submitter = Submitter(config: studioConfig, home: home, log: log, progress: TerminalProgress.ifTerminal())
        guard let queue else {
            throw ExitCode(await runHere(submission, submitter: submitter, home: home, environment: environment, log: log))
        }
        let jobQueue: any JobQueue
        do {
            // The submitter's config may carry the SQS credentials or the RabbitMQ URL.
            jobQueue = try ConfigLoader.openQueue(queue, home: home, config: studioConfig)
        } catch {
            log.error("\(error)")
            throw ExitCode(RemoteWorker.ExitCode.configuration)
        }
        // Ctrl-C or SIGTERM before the message is sent stops the submission and leaves nothing half-published;
        // after it, the submission finishes and the key is printed (see Submitter.submit for the order).
        let interruption = SubmissionInterruption()
        ProcessSupervisor.shared.start { signal in interruption.interrupt(by: signal) }
        do {
            let key = try await interruption.run { [submission] in try await submitter.submit(submission, to: jobQueue, interruption: interruption) }
            print(key)
            if let page = UIPageAddress.experiment(key, environment: environment, config: studioConfig.json) {
                printError("studio run: follow it at \(page)") // stdout stays the key alone, for scripts
            }
        } catch let error as SubmissionInterrupted {
            log.error("studio run \(error)")
            throw ExitCode(error.exitCode)
        } catch {
            log.error("cannot submit: \(error)")
            throw ExitCode(RemoteWorker.ExitCode.configuration)
        }
    }

    /// Submits to a private local queue and works it in this process.
    private func runHere(_ submission: Submission, submitter: Submitter, home: String, environment: [String: String], log: WorkerLog) async -> Int32 {
        let queueName = "local-run-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: home + "/queue/" + queueName) }
        do {
            let queue = try QueueSelector.open(queueName, home: home)
            let interruption = SubmissionInterruption()
            ProcessSupervisor.shared.start { signal in interruption.interrupt(by: signal) }
            let key = try await interruption.run { try await submitter.submit(submission, to: queue, interruption: interruption) }
            log.info("running experiment \(key) here")
            var options = WorkerOptions(home: home, environment: environment)
            options.singleRun = true
            options.idleTimeout = 0
            let worker = RemoteWorker(queue: queue, options: options, log: log)
            ProcessSupervisor.shared.start { signal in worker.requestShutdown(signal: signal) }
            // A signal that came while the message was being sent: the experiment never starts, and its private
            // queue goes with this process, so its record goes too (no `waiting` record for a message nobody has).
            if let late = interruption.signal {
                await submitter.withdraw(key, project: submission.project)
                log.error("studio run interrupted by \(Signal.name(of: late)) before the experiment started: nothing was run")
                return 128 + late
            }
            return await worker.run()
        } catch let error as SubmissionInterrupted {
            log.error("studio run \(error)")
            return error.exitCode
        } catch {
            log.error("cannot run the experiment: \(error)")
            return RemoteWorker.ExitCode.configuration
        }
    }

    private func splitCapture(_ pair: String) -> (path: String, tag: String)? {
        guard let colon = pair.lastIndex(of: ":") else { return nil }
        let path = String(pair[..<colon]), tag = String(pair[pair.index(after: colon)...])
        return path.isEmpty || tag.isEmpty ? nil : (path, tag)
    }
}
