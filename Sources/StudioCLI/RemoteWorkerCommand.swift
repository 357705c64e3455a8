import ArgumentParser
import StudioInit
import StudioModel
import StudioQueues
import StudioWorker

/// `studio remote-worker`: take experiments from a queue and run them here, as PID 1 if need be.
struct RemoteWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote-worker",
        abstract: "Run experiments from a queue in this container.",
        discussion: """
            Drains every outstanding message from the queue, running each experiment in \
            place, then quits once --timeout seconds pass with no message (-1 listens \
            forever). With --single-run it quits after one message. --parallel runs \
            several at once; a message whose resources_needed does not fit goes back \
            to the queue at once (docs/resources-and-gpus.md).

            The worker is a complete init: as PID 1 it reaps every zombie, and on SIGTERM \
            or SIGINT it stops every running experiment (SIGTERM, then SIGKILL after \
            --grace), hands each message back to the queue, and exits 128+signal. A message \
            is acknowledged only after its outcome is recorded; a worker killed outright \
            loses nothing, as the message returns when its --lease runs out.

            Nothing that comes with a message stops the worker. A failure that may pass (a \
            store unreachable or answering 5xx) offers the message again after \
            --retry-delay seconds, doubled at each delivery; a permanent one (a bad config, \
            403, a corrupt record or tar), or --max-deliveries deliveries, settles it as \
            failed: recorded where the record store is reachable, kept under \
            $STUDIOML_HOME/rejected/, acknowledged.

            QUEUES:
              local*       a directory queue under $STUDIOML_HOME/queue/<name>/
              sqs_<name>   AWS SQS
              other names  Google Pub/Sub

            EXIT STATUS:
              0        the queue was drained (or --single-run found no message)
              N        with --single-run: the experiment's exit code (128+N: killed by N)
              42       the worker's own configuration: unusable queue, queue credentials,
                       --config (never anything that came with a message)
              64       bad command line
              65       with --single-run: the message was settled as failed (see above)
              75       with --single-run: a transient failure, or a message this worker
                       cannot fit; the message returns to the queue
              130/143  stopped by SIGINT/SIGTERM; the message in hand is back in the queue
            """)

    @Option(name: .long, help: "The queue to take experiments from.")
    var queue: String = ""

    @Flag(name: .long, help: "Quit after one message: a container per experiment.")
    var singleRun = false

    @Option(name: .long, help: ArgumentHelp("Experiments run at once: a number, or auto (one per GPU; without GPUs, one per 2 CPUs and 2 GiB).", valueName: "n|auto"))
    var parallel: String = "1"

    @Flag(name: .long, help: "Run experiments whose resources_needed this machine can never satisfy, cut down to what it has (default: hand them back to the queue at once).")
    var acceptUnfit = false

    @Option(name: .long, help: ArgumentHelp("Signal sent to each experiment on a preemption notice or SIGTERM before it is stopped, e.g. SIGUSR1 (default: none; the STUDIOML_PREEMPTION_FILE file appears either way).", valueName: "signal"))
    var checkpointSignal: String?

    @Flag(name: .long, help: "Do not watch GCE's and EC2 spot's metadata servers for preemption notices.")
    var noPreemptionWatch = false

    @Flag(name: .long, help: "Print the CPUs, memory, disk and GPUs this worker would use, then exit.")
    var showResources = false

    // Unconditional, or the documented `--timeout -1` is taken for an option and refused.
    @Option(name: [.long, .short], parsing: .unconditional, help: ArgumentHelp("Seconds with no message before quitting; -1 listens forever.", valueName: "seconds"))
    var timeout: Int = 100

    @Option(name: .long, help: ArgumentHelp("Worker config (YAML or JSON; default $STUDIO_CONFIG, else $STUDIOML_HOME/config.yaml): its SQS credentials and verbose level. Experiments use the config in their message.", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Seconds an experiment has between SIGTERM and SIGKILL when stopped.", valueName: "seconds"))
    var grace: Double = 10

    @Option(name: .long, help: ArgumentHelp("Seconds a message stays leased; renewed every third of it while it is worked on.", valueName: "seconds"))
    var lease: Int = 30

    @Option(name: .long, help: ArgumentHelp("Deliveries of a message before a failure that may pass counts as permanent.", valueName: "count"))
    var maxDeliveries: Int = 5

    @Option(name: .long, help: ArgumentHelp("Seconds before a transiently failed message is offered again (doubled per delivery, at most 600).", valueName: "seconds"))
    var retryDelay: Int = 15

    @Option(name: .long, help: ArgumentHelp("Run directories of finished experiments kept for debugging.", valueName: "count"))
    var keepRuns: Int = 2

    @Option(name: .long, help: ArgumentHelp("Size limit of the blob cache, e.g. 500m or 2g (least recently used out).", valueName: "size"))
    var cacheSize: String = "2g"

    @Option(name: .long, help: ArgumentHelp("Files kept under $STUDIOML_HOME/rejected/ (the newest).", valueName: "count"))
    var keepRejected: Int = 200

    @Option(name: .long, help: ArgumentHelp("When to pip-install an experiment's requirements: missing or never.", valueName: "policy"))
    var pip: WorkerOptions.PipPolicy = .missing

    @Flag(name: .long, help: "Accepted for StudioML launch lines; it only told StudioML's worker to skip database authentication, which this worker never does.")
    var guest = false

    @Option(name: .long, help: ArgumentHelp("Log lines as text or json (one object a line).", valueName: "format"))
    var logFormat: WorkerLog.Format = .text

    @Option(name: [.long, .short], help: ArgumentHelp("Log level: debug, info, warn, error or crit (StudioML's words), or 10-50; default the config's verbose, else info.", valueName: "level"))
    var verbose: String?

    func validate() throws {
        if !showResources && queue.isEmpty { throw ValidationError("Missing expected argument '--queue <queue>'") }
        if parallel != "auto" && (Int(parallel) ?? 0) < 1 { throw ValidationError("--parallel must be a number ≥ 1 or auto, not '\(parallel)'") }
        if let checkpointSignal, Signal.number(named: checkpointSignal) == nil {
            throw ValidationError("--checkpoint-signal must be a signal name such as SIGUSR1 or a number, not '\(checkpointSignal)'")
        }
        if timeout < -1 { throw ValidationError("--timeout must be -1 (forever) or a number of seconds ≥ 0") }
        if lease < 3 || lease > 43_200 { throw ValidationError("--lease must be between 3 and 43200 seconds") }
        if grace < 0 { throw ValidationError("--grace must be ≥ 0 seconds") }
        if maxDeliveries < 1 { throw ValidationError("--max-deliveries must be at least 1") }
        if retryDelay < 1 || retryDelay > 600 { throw ValidationError("--retry-delay must be between 1 and 600 seconds") }
        if keepRejected < 1 { throw ValidationError("--keep-rejected must be at least 1") }
        if keepRuns < 0 { throw ValidationError("--keep-runs must be ≥ 0") }
        if (try? ByteSize.parse(cacheSize)) == nil { throw ValidationError("--cache-size must be a size such as 500m or 2g, not '\(cacheSize)'") }
        if let verbose, WorkerLog.Level(studioML: verbose) == nil {
            throw ValidationError("--verbose must be debug, info, warn, error, crit or a number 0-50, not '\(verbose)'")
        }
    }

    func run() async throws {
        FatalSignals.logBeforeDying(as: "studio remote-worker")
        FreeHeap.limitArenas(to: 2)
        let environment = Environment.current
        let home = Environment.studioHome(environment)
        if showResources {
            ProcessSupervisor.shared.start { _ in }
            let machine = await MachineResources.discover(home: home, environment: environment, log: WorkerLog(format: logFormat))
            print(machine.report)
            return
        }
        let workerConfig: StudioConfig
        do {
            workerConfig = try ConfigLoader.load(path: config ?? environment["STUDIO_CONFIG"].flatMap { $0.isEmpty ? nil : $0 },
                                                 home: home, environment: environment)
        } catch {
            WorkerLog(format: logFormat).error("--config: \(error)")
            throw ExitCode(RemoteWorker.ExitCode.configuration)
        }
        let level = verbose.flatMap(WorkerLog.Level.init(studioML:))
            ?? WorkerLog.Level(studioML: String(workerConfig.verbosityLevel)) ?? .info
        let log = WorkerLog(format: logFormat, level: level)
        var options = WorkerOptions(home: home, environment: environment)
        options.singleRun = singleRun
        options.idleTimeout = timeout < 0 ? nil : timeout
        options.grace = .milliseconds(Int(grace * 1000))
        options.leaseSeconds = lease
        options.maxDeliveries = maxDeliveries
        options.retryDelaySeconds = retryDelay
        options.keepRuns = keepRuns
        options.keepRejected = keepRejected
        options.cacheBytes = (try? ByteSize.parse(cacheSize)) ?? options.cacheBytes
        options.pip = pip
        options.parallel = parallel == "auto" ? nil : Int(parallel)
        options.acceptUnfit = acceptUnfit
        options.checkpointSignal = checkpointSignal.flatMap(Signal.number(named:))
        options.watchPreemption = !noPreemptionWatch
        let jobQueue: any JobQueue
        do {
            jobQueue = try ConfigLoader.openQueue(queue, home: home, config: workerConfig)
        } catch {
            log.error("\(error)")
            throw ExitCode(RemoteWorker.ExitCode.configuration)
        }
        let worker = RemoteWorker(queue: jobQueue, options: options, log: log)
        ProcessSupervisor.shared.start { signal in worker.requestShutdown(signal: signal) }
        let code = await worker.run()
        throw ExitCode(code)
    }
}

extension WorkerOptions.PipPolicy: ExpressibleByArgument {}

extension WorkerLog.Level {
    /// StudioML's `--verbose` words and Python logging levels: debug/10, info/20, warn/30,
    /// error/40, crit/50 (shown as error, the highest level here); a number between rounds down.
    init?(studioML text: String) {
        let words: [String: WorkerLog.Level] = ["debug": .debug, "info": .info, "warn": .warning, "warning": .warning,
                                                "error": .error, "crit": .error, "critical": .error]
        if let level = words[text.lowercased()] { self = level; return }
        guard let number = Int(text), (0...50).contains(number) else { return nil }
        self = number < 20 ? .debug : number < 30 ? .info : number < 40 ? .warning : .error
    }
}
