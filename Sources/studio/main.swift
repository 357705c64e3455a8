import StudioCLI
import StudioInit
#if canImport(Glibc)
import Glibc
#endif

// First, before any thread exists: every thread created later inherits a fully blocked mask, so the
// init loop and the supervisor's reaper thread are the only places signals are ever taken.
SignalMask.blockAllForSupervision()

let arguments = CommandLine.arguments
let multiCallName = StudioCommand.multiCallSubcommand(forInvocationName: arguments.first ?? "studio")

// Fast path: `studio init` / `studio-init` runs without the argument-parser and async machinery.
if let initArguments = InitMain.initArguments(arguments, multiCallName: multiCallName) {
    switch InitMain.run(arguments: initArguments) {
    case .exit(let code): exit(code)
    case .showHelp: await StudioCommand.main(arguments: ["studio", "init", "--help"]); exit(0)
    case .showVersion: print("studio version \(StudioCommand.version)"); exit(0)
    }
}

// Only supervising subcommands keep signals blocked; the others (run, status, logs, ...) must die on Ctrl-C.
let subcommand = multiCallName ?? (arguments.count >= 2 ? arguments[1] : nil)
if subcommand != "remote-worker" && subcommand != "run" {
    SignalMask.unblockAll()
}

await StudioCommand.main(arguments: arguments)
