import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// `studio start-remote-worker`: runs `studio remote-worker` in Docker containers on this host, one after another.
struct StartRemoteWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start-remote-worker",
        abstract: "Run remote workers for a queue in Docker on this host.",
        usage: "studio start-remote-worker [<options>] [<queue>] [-- <worker-arg> ...]",
        discussion: """
            Runs `docker run --rm IMAGE remote-worker --queue QUEUE` and starts a new container each time one \
            ends (the queue was drained, or the worker stopped), until a worker reports a configuration error, \
            docker itself fails, or this command receives SIGINT or SIGTERM, which it passes on to the running \
            container. With --single-run it runs one container, for one experiment, and exits with its code.

            Into the container it passes: the key file named by GOOGLE_APPLICATION_CREDENTIALS (mounted \
            read-only under /creds), ~/.aws (read-only), the AWS credential variables that are set (by name \
            only: values never appear on a command line), AWS_REGION, AWS_DEFAULT_REGION and \
            GOOGLE_CLOUD_PROJECT, the host's $STUDIOML_HOME/blobcache, and `--gpus all` when this host has an \
            NVIDIA GPU. For a local* queue it shares the whole $STUDIOML_HOME, at the same path.

            EXIT STATUS: 0 after a --single-run experiment succeeded; its exit code when it failed; 42 when \
            docker is missing, a key file is unreadable or the worker reported a configuration error; 64 for a \
            bad command line (here or in the container); 125, 126, 127 when docker could not run the \
            container; 130 or 143 after SIGINT or SIGTERM.
            """
    )

    @Argument(help: ArgumentHelp("The queue to work (the same as --queue).", valueName: "queue-name"))
    var queueName: String?

    @Option(help: "The queue to work: local* (a directory queue), sqs_* or ec2_* (AWS SQS), any other name (Google Pub/Sub).")
    var queue: String?

    @Option(help: "The worker image: any image with /studio in it, whose entrypoint runs /studio or entrypoint.sh.")
    var image: String = "studioml/studio-worker:latest"

    @Flag(help: "Run one container for one experiment, and exit with the experiment's exit code.")
    var singleRun = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds a worker waits for work before it exits (-1: for ever).", valueName: "seconds"))
    var timeout: Int?

    @Flag(help: "Mount no credentials and pass no credential variables: they are in the image.")
    var bakedCredentials = false

    @Flag(help: "Do not mount this host's $STUDIOML_HOME/blobcache into the container.")
    var noCache = false

    @Option(help: ArgumentHelp("GPUs for docker's --gpus: auto (all, when this host has an NVIDIA GPU), none, all, a count, or device=0,1.", valueName: "gpus"))
    var gpus: String = "auto"

    @Option(name: .customLong("docker"), help: ArgumentHelp("The docker executable (default: docker, found on PATH).", valueName: "path"))
    var dockerExecutable: String?

    @Option(help: ArgumentHelp("Seconds to wait before restarting a container that ended within a minute; doubles on each quick end, up to 300.", valueName: "seconds"))
    var restartDelay: Double = 5

    @Argument(parsing: .postTerminator, help: ArgumentHelp("More remote-worker arguments, after --.", valueName: "worker-argument"))
    var workerArguments: [String] = []

    init() {}

    func validate() throws {
        switch (queueName, queue) {
        case (nil, nil):
            throw ValidationError("name the queue to work: studio start-remote-worker <queue-name> (or --queue <queue-name>)")
        case (let positional?, let option?) where positional != option:
            throw ValidationError("two different queues given (\(positional) and --queue \(option)); give one")
        default: break
        }
        if let name = queueName ?? queue, name.isEmpty { throw ValidationError("the queue name is empty") }
        if image.isEmpty { throw ValidationError("--image is empty") }
        if restartDelay < 0 { throw ValidationError("--restart-delay must be 0 or more seconds") }
    }

    func run() throws {
        do {
            try launch()
        } catch let error as LauncherError {
            printLine("error: \(error.description)")
            throw ExitCode(error.exitCode)
        }
    }

    private func launch() throws {
        let environment = ProcessInfo.processInfo.environment
        let docker = dockerExecutable ?? "docker"
        guard let dockerPath = findExecutable(docker, path: environment["PATH"] ?? "") else {
            throw LauncherError(
                exitCode: 42,
                description: dockerExecutable == nil
                    ? "docker not found on PATH; install Docker or pass --docker PATH"
                    : "docker not found at \(docker) (not an executable file); install Docker or pass --docker PATH")
        }
        let request = WorkerContainerRequest(
            queue: (queueName ?? queue)!, image: image, singleRun: singleRun, timeout: timeout,
            bakedCredentials: bakedCredentials, noCache: noCache, gpus: gpus, workerArguments: workerArguments)
        let command = try makeDockerRunCommand(
            for: request, environment: environment, currentDirectory: FileManager.default.currentDirectoryPath)
        for warning in command.warnings { printLine("warning: \(warning)") }

        installStopSignalForwarding()
        var quickEndDelay = restartDelay
        var runNumber = 0
        while stopSignalReceived() == nil {
            runNumber += 1
            printLine("starting worker container \(runNumber): \(shellQuoted([docker] + command.arguments))")
            let started = monotonicSeconds()
            let status = try runChildProcess(dockerPath, command.arguments)
            if let signalNumber = stopSignalReceived() {
                printLine("stopped by signal \(signalNumber), which was passed on to the worker container")
                throw ExitCode(128 + signalNumber)
            }
            if let reason = reasonToStop(afterExitStatus: status) {
                printLine(reason)
                throw ExitCode(status)
            }
            if singleRun { throw ExitCode(status) }

            // A container that ends quickly again and again (a crashing worker, an image without /studio) would
            // otherwise restart in a tight loop.
            if monotonicSeconds() - started >= 60 {
                quickEndDelay = restartDelay
                printLine("worker container \(runNumber) ended with \(status); starting another")
            } else {
                printLine("worker container \(runNumber) ended with \(status) within a minute; starting another in \(formatSeconds(quickEndDelay)) s")
                sleepUnlessStopped(seconds: quickEndDelay)
                quickEndDelay = min(max(quickEndDelay * 2, restartDelay), 300)
            }
        }
        throw ExitCode(128 + (stopSignalReceived() ?? SIGTERM))
    }

    /// Why the container's exit status ends the restart loop, or nil when another container should start.
    private func reasonToStop(afterExitStatus status: Int32) -> String? {
        switch status {
        case 42:
            return "the worker reported a configuration error (exit 42: queue, store or credentials); fix it, then start again"
        case 64:
            return "the worker rejected its command line (exit 64); check --image (does it carry a current /studio?) and the arguments after --"
        case 125:
            return "docker could not run the container (exit 125); check that the Docker daemon runs and that --image \(image) exists"
        case 126, 127:
            return "the container's command could not run (exit \(status)); check that --image \(image) has /studio and runs it as its entrypoint"
        case 130, 143:
            return "the worker container was stopped from outside (exit \(status)); not restarting it"
        default:
            return nil
        }
    }
}

/// One line on standard error, prefixed with the command's name.
private func printLine(_ message: String) {
    var line = "studio start-remote-worker: \(message)\n"
    line.withUTF8 { bytes in _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
}

private func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
}
