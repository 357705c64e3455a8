import StudioCLI
import StudioInit
#if canImport(Glibc)
import Glibc
#endif

// This top-level code stays synchronous (no `await` here): an async main would start the
// concurrency runtime before the init fast path, which needs none of it.

// First, before any thread exists: every thread created later inherits a fully blocked mask, so the
// init loop and the supervisor's reaper thread are the only places signals are ever taken.
SignalMask.blockAllForSupervision()

let arguments = CommandLine.arguments
let multiCallName = StudioCommand.multiCallSubcommand(forInvocationName: arguments.first ?? "studio")

// Fast path: `studio init` / `studio-init` runs without the argument-parser and async machinery.
if let initArguments = InitMain.initArguments(arguments, multiCallName: multiCallName) {
    switch InitMain.run(arguments: initArguments) {
    case .exit(let code): exit(code)
    case .showHelp: runCommandLine(["studio", "init", "--help"])
    case .showVersion: print("studio version \(StudioCommand.version)"); exit(0)
    }
}

// Only supervising subcommands keep signals blocked; the others (run, status, logs, ...) must die on Ctrl-C.
let subcommand = multiCallName ?? (arguments.count >= 2 ? arguments[1] : nil)
if subcommand != "remote-worker" && subcommand != "run" {
    SignalMask.unblockAll()
}

runCommandLine(arguments)

/// Runs the argument-parser CLI in a task and parks the main thread until it exits the process.
/// Not `dispatchMain()` (nor an async main, which ends in it): that ends the main thread with
/// pthread_exit, a forced unwind. With the unwind tables linked in, it sorted all of them first,
/// some 60 ms of CPU at every start; without them (scripts/no-unwind-tables.ld) a parked thread is
/// still the plainer path. Nothing here runs on the main actor, so nothing needs the main queue drained.
func runCommandLine(_ arguments: [String]) -> Never {
    Task.detached {
        await StudioCommand.main(arguments: arguments)
        exit(0)
    }
    while true { pause() }
}
