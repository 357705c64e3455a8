#if canImport(Glibc)
import Glibc
#endif

/// The fast path for `studio init` / `studio-init`: parses by hand and runs without the CLI stack.
public enum InitMain {
    /// What the caller must do after `run`.
    public enum Outcome: Sendable, Equatable {
        /// Exit with this code.
        case exit(Int32)
        /// Show the help (the CLI layer owns the help text).
        case showHelp
        /// Show the version.
        case showVersion
    }

    /// The arguments after `init` (or after `studio-init`): parse, run, and say how to exit.
    public static func run(arguments: [String]) -> Outcome {
        var environment: [String: String] = [:]
        for name in ["TINI_SUBREAPER", "TINI_KILL_PROCESS_GROUP", "TINI_VERBOSITY"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        let invocation: InitInvocation
        do {
            invocation = try InitOptions.parse(arguments, environment: environment)
        } catch {
            InitLogger(format: .quiet).error(error.description)
            return .exit(InitRunner.internalErrorExitCode)
        }
        switch invocation {
        case .help: return .showHelp
        case .version: return .showVersion
        case .run(let options):
            var runner = InitRunner(options: options)
            return .exit(runner.run())
        }
    }

    /// If `arguments` (a full argv) invoke `init`, the arguments after it; else nil.
    /// `multiCallName` is the subcommand selected by argv[0]'s name, if any.
    public static func initArguments(_ arguments: [String], multiCallName: String?) -> [String]? {
        if multiCallName == "init" { return Array(arguments.dropFirst()) }
        if multiCallName == nil, arguments.count >= 2, arguments[1] == "init" { return Array(arguments.dropFirst(2)) }
        return nil
    }
}
