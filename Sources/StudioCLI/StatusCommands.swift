#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import Glibc
import StudioModel
import StudioWorker

/// Options shared by the commands that read experiments.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Config file naming the database and storage (default $STUDIOML_HOME/config.yaml if present).", valueName: "file"))
    var config: String?

    func browser() throws -> ExperimentBrowser {
        let environment = Environment.current
        let home = Environment.studioHome(environment)
        do {
            return try ExperimentBrowser(config: ConfigLoader.load(path: config, home: home, environment: environment), home: home)
        } catch {
            printError("studio: \(error)")
            throw ExitCode(42)
        }
    }
}

/// `studio status [KEY]`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show recent experiments, or one in detail.",
        discussion: "EXIT STATUS: 0 shown; 1 no such experiment; 42 unusable store or config.")

    @OptionGroup var store: StoreOptions
    @Option(name: .long, help: "How many experiments to list.") var limit = 20
    @Argument(help: "An experiment key; without it, recent experiments.") var key: String?

    func run() async throws {
        let browser = try store.browser()
        if let key {
            guard let record = try await browser.record(key) else {
                printError("studio: no experiment \(key) in the database")
                throw ExitCode(1)
            }
            print(ExperimentTable.detail(record))
            return
        }
        print(ExperimentTable.table(try await browser.recent(limit: limit)), terminator: "")
    }
}

/// `studio logs [-f] KEY`.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print an experiment's output; -f follows it live.",
        discussion: "EXIT STATUS: 0 printed; 1 no such experiment; 42 unusable store or config.")

    @OptionGroup var store: StoreOptions
    @Flag(name: .shortAndLong, help: "Keep printing new output until the experiment ends.") var follow = false
    @Argument(help: "The experiment key.") var key: String

    func run() async throws {
        let browser = try store.browser()
        guard try await browser.record(key) != nil else {
            printError("studio: no experiment \(key) in the database")
            throw ExitCode(1)
        }
        var offset = 0
        while true {
            let bytes = try await browser.output(key, from: offset)
            writeOut(bytes)
            offset += bytes.count
            guard follow else { return }
            if let record = try await browser.record(key), record.hasEnded {
                writeOut(try await browser.output(key, from: offset))
                return
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}

/// `studio stop KEY`.
struct StopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Ask the worker running an experiment to stop it.",
        discussion: """
            Sets the experiment's status to `stopped`; the worker running it notices \
            within seconds, sends it SIGTERM, then SIGKILL after its grace period, and \
            saves its artifacts. A waiting experiment is then skipped by the worker that \
            receives it.

            EXIT STATUS: 0 requested (or over); 1 no such experiment; 42 unusable store.
            """)

    @OptionGroup var store: StoreOptions
    @Argument(help: "The experiment key.") var key: String

    func run() async throws {
        let browser = try store.browser()
        guard let before = try await browser.requestStop(key) else {
            printError("studio: no experiment \(key) in the database")
            throw ExitCode(1)
        }
        if before.isFinal {
            print("\(key) is already \(before.rawValue)")
        } else {
            print("\(key): stop requested (was \(before.rawValue))")
        }
    }
}

/// Writes one line to stderr.
func printError(_ line: String) {
    writeOut(Array((line + "\n").utf8), to: STDERR_FILENO)
}

/// Writes bytes whole to a file descriptor (stdout by default), unbuffered.
func writeOut(_ bytes: [UInt8], to fd: Int32 = STDOUT_FILENO) {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 { if errno == EINTR { continue }; return }
            offset += written
        }
    }
}
