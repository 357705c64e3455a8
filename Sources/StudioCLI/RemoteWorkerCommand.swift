import ArgumentParser
import StudioInit
import StudioQueues
import StudioWorker

/// `studio remote-worker`: take experiments from a queue and run them here, as PID 1 if need be.
struct RemoteWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote-worker",
        abstract: "Run experiments from a queue in this container.",
        discussion: """
            Drains every outstanding message from the queue, running each experiment in place, then
            quits once --timeout seconds pass with no message (--timeout -1 listens forever). With
            --single-run it quits after one experiment, with that experiment's exit code.

            The worker is a complete init: as PID 1 it reaps every zombie, and on SIGTERM or SIGINT it
            stops the running experiment (SIGTERM, then SIGKILL after --grace), hands its message back
            to the queue, and exits 128+signal. A message is acknowledged only after the experiment's
            outcome is recorded, so a crash loses nothing: the message returns when its lease expires.

            QUEUES: `local` or any name starting with `local` is a directory queue under
            $STUDIOML_HOME/queue/<name>/ (no set-up needed).

            EXIT STATUS:
              0        the queue was drained (or --single-run found no message)
              N        with --single-run: the experiment's exit code (128+N if killed by signal N)
              42       fatal configuration: unusable queue, store or credentials (do not retry)
              64       bad command line
              65       with --single-run: the message was not a StudioML experiment (kept under
                       $STUDIOML_HOME/rejected/)
              130/143  stopped by SIGINT/SIGTERM; the message in hand went back to the queue
            """)

    @Option(name: .long, help: "The queue to take experiments from.")
    var queue: String

    @Flag(name: .long, help: "Quit after one experiment (a fresh container per experiment).")
    var singleRun = false

    // Unconditional, or the documented `--timeout -1` is taken for an option and refused.
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Seconds with no message before quitting; -1 listens forever.", valueName: "seconds"))
    var timeout: Int = 100

    @Option(name: .long, help: ArgumentHelp("Worker config file (YAML or JSON); experiments use the config in their message.", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Seconds an experiment has between SIGTERM and SIGKILL when stopped.", valueName: "seconds"))
    var grace: Double = 10

    @Option(name: .long, help: ArgumentHelp("Seconds a message stays leased; renewed every third of it while its experiment runs.", valueName: "seconds"))
    var lease: Int = 240

    @Option(name: .long, help: ArgumentHelp("When to pip-install an experiment's requirements: missing or never.", valueName: "policy"))
    var pip: WorkerOptions.PipPolicy = .missing

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if timeout < -1 { throw ValidationError("--timeout must be -1 (forever) or a number of seconds ≥ 0") }
        if lease < 3 || lease > 43_200 { throw ValidationError("--lease must be between 3 and 43200 seconds") }
        if grace < 0 { throw ValidationError("--grace must be ≥ 0 seconds") }
    }

    func run() async throws {
        let environment = Environment.current
        let home = Environment.studioHome(environment)
        let log = logging.workerLog
        var options = WorkerOptions(home: home, environment: environment)
        options.singleRun = singleRun
        options.idleTimeout = timeout < 0 ? nil : timeout
        options.grace = .milliseconds(Int(grace * 1000))
        options.leaseSeconds = lease
        options.pip = pip
        let jobQueue: any JobQueue
        do {
            jobQueue = try QueueSelector.open(queue, home: home)
        } catch {
            log.error("\(error)")
            throw ExitCode(RemoteWorker.ExitCode.configuration)
        }
        let worker = RemoteWorker(queue: jobQueue, options: options, log: log)
        ProcessSupervisor.shared.start { signal in worker.requestShutdown(signal: signal) }
        TerminationSignalRelay.install { signal in worker.requestShutdown(signal: signal) }
        let code = await worker.run()
        throw ExitCode(code)
    }
}

extension WorkerOptions.PipPolicy: ExpressibleByArgument {}
