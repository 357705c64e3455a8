import ArgumentParser
import StudioWorker

/// `--log-format` and `--verbose`, shared by the commands that log.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Log lines as text or json (one object a line).", valueName: "format"))
    var logFormat: WorkerLog.Format = .text

    @Flag(name: .shortAndLong, help: "Log debug detail too.")
    var verbose = false

    var workerLog: WorkerLog { WorkerLog(format: logFormat, level: verbose ? .debug : .info) }
}

extension WorkerLog.Format: ExpressibleByArgument {}
