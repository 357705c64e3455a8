/// The options of `studio init`, parsed by hand (getopt-style) so the PID-1 path stays lean.
public struct InitOptions: Sendable, Equatable {
    /// Where forwarded signals go.
    public enum Target: Sendable, Equatable {
        /// The main child only.
        case child
        /// The main child's process group (`-g`).
        case processGroup
    }

    /// How events are logged on stderr.
    public enum LogFormat: String, Sendable, Equatable {
        /// Nothing but errors (the default).
        case quiet
        /// One human line per event (`-v`).
        case text
        /// One JSON object per event (`--log-format json`).
        case json
    }

    /// The command and its arguments.
    public var command: [String] = []
    /// Forwarding target.
    public var target: Target = .child
    /// Exit codes that become 0 (`-e`).
    public var exitCodesMappedToZero: Set<Int32> = []
    /// Per-signal rewrites; a value of 0 drops the signal (`--rewrite TERM:QUIT`).
    public var rewrites: [Int32: Int32] = [:]
    /// Signal the kernel sends the init when its parent dies (`-p`).
    public var parentDeathSignal: Int32?
    /// How long descendants get between SIGTERM and SIGKILL, in milliseconds (`--grace`).
    public var graceMilliseconds: Int64 = 10_000
    /// Log format.
    public var logFormat: LogFormat = .quiet
    /// Whether `-s` or TINI_SUBREAPER asked for a subreaper (it is automatic anyway).
    public var subreaperRequested = false
    /// Warn on stderr about every reaped process other than the command itself (`-w`, as tini).
    public var warnOnReap = false

    /// A default set of options.
    public init() {}
}

/// What the command line asked for.
public enum InitInvocation: Sendable, Equatable {
    /// Run a command.
    case run(InitOptions)
    /// Print help.
    case help
    /// Print the version.
    case version
}

/// A bad `studio init` command line; the init exits 125.
public struct InitUsageError: Error, Equatable, CustomStringConvertible {
    /// The one-line problem.
    public var message: String
    /// The message, with a pointer to help.
    public var description: String { "\(message) (see `studio init --help`)" }
}

extension InitOptions {
    /// Parses the arguments after `init`; stops at the first non-option or after `--`.
    /// `environment` supplies TINI_SUBREAPER, TINI_KILL_PROCESS_GROUP and TINI_VERBOSITY.
    public static func parse(_ arguments: [String], environment: [String: String] = [:]) throws(InitUsageError) -> InitInvocation {
        var options = InitOptions()
        if environment["TINI_SUBREAPER"] != nil { options.subreaperRequested = true }
        if environment["TINI_KILL_PROCESS_GROUP"] != nil { options.target = .processGroup }
        if let verbosity = environment["TINI_VERBOSITY"].flatMap(Int.init), verbosity >= 2 { options.logFormat = .text }
        var explicitFormat: LogFormat?

        var index = 0
        func value(for option: String, inline: String?) throws(InitUsageError) -> String {
            if let inline { return inline }
            index += 1
            guard index < arguments.count else { throw InitUsageError(message: "option \(option) needs a value") }
            return arguments[index]
        }

        func apply(_ option: String, inline: String?) throws(InitUsageError) -> InitInvocation? {
            switch option {
            case "-h", "--help": return .help
            case "--version": return .version
            case "-s", "--subreaper": options.subreaperRequested = true
            case "-g", "--group": options.target = .processGroup
            case "-w", "--warn-on-reap": options.warnOnReap = true
            case "-v", "--verbose": if explicitFormat == nil { options.logFormat = .text }
            case "-e", "--remap-exit":
                let text = try value(for: option, inline: inline)
                guard let code = Int32(text), (0...255).contains(code) else {
                    throw InitUsageError(message: "invalid exit code for \(option): '\(text)' (expected 0-255)")
                }
                options.exitCodesMappedToZero.insert(code)
            case "-p", "--parent-death-signal":
                let text = try value(for: option, inline: inline)
                guard let signal = Signal.number(named: text), signal > 0 else {
                    throw InitUsageError(message: "invalid signal for \(option): '\(text)'")
                }
                options.parentDeathSignal = signal
            case "-r", "--rewrite":
                let text = try value(for: option, inline: inline)
                let parts = text.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2, let from = Signal.number(named: String(parts[0])), from > 0,
                      let to = Signal.number(named: String(parts[1])) else {
                    throw InitUsageError(message: "invalid rewrite '\(text)' (expected FROM:TO, e.g. TERM:QUIT or WINCH:0)")
                }
                options.rewrites[from] = to
            case "--grace":
                let text = try value(for: option, inline: inline)
                guard let milliseconds = parseGrace(text) else {
                    throw InitUsageError(message: "invalid grace period '\(text)' (expected e.g. 10, 10s, 1.5s, 500ms)")
                }
                options.graceMilliseconds = milliseconds
            case "--log-format":
                let text = try value(for: option, inline: inline)
                guard let format = LogFormat(rawValue: text) else {
                    throw InitUsageError(message: "invalid log format '\(text)' (expected text, json or quiet)")
                }
                explicitFormat = format
                options.logFormat = format
            default:
                throw InitUsageError(message: "unknown option '\(option)'")
            }
            return nil
        }

        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { index += 1; break }
            if argument.hasPrefix("--") {
                let parts = argument.split(separator: "=", maxSplits: 1)
                let inline = parts.count == 2 ? String(parts[1]) : nil
                if let result = try apply(String(parts[0]), inline: inline) { return result }
            } else if argument.hasPrefix("-") && argument.count > 1 {
                // Clustered short options: -sg, -vvv, -e3, -e 3.
                var rest = Substring(argument.dropFirst())
                while let letter = rest.first {
                    rest = rest.dropFirst()
                    // Compared one by one, not through a Set: its hashing costs the init's start-up time.
                    if letter == "e" || letter == "p" || letter == "r" {
                        if let result = try apply("-\(letter)", inline: rest.isEmpty ? nil : String(rest)) { return result }
                        break
                    }
                    if let result = try apply("-\(letter)", inline: nil) { return result }
                }
            } else {
                break
            }
            index += 1
        }
        options.command = Array(arguments[index...])
        guard !options.command.isEmpty else {
            throw InitUsageError(message: "no command given: usage is studio init [OPTIONS] [--] COMMAND [ARGS...]")
        }
        return .run(options)
    }

    /// Parses `10`, `10s`, `1.5s`, `500ms`, `2m` into milliseconds.
    public static func parseGrace(_ text: String) -> Int64? {
        var number = Substring(text)
        var scale = 1000.0
        if number.hasSuffix("ms") { number = number.dropLast(2); scale = 1 }
        else if number.hasSuffix("s") { number = number.dropLast(1) }
        else if number.hasSuffix("m") { number = number.dropLast(1); scale = 60_000 }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let value = Double(number), value >= 0, value * scale < 1e12 else { return nil }
        return Int64((value * scale).rounded())
    }
}
