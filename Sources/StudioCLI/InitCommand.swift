import ArgumentParser

/// `studio init`: help text only. The command itself runs on a hand-parsed fast path
/// (`StudioInit.InitMain`, dispatched from main.swift) so that PID 1 starts as fast as tini.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Run a command as a container init (PID 1).",
        usage: "studio init [OPTIONS] [--] COMMAND [ARGS...]",
        discussion: """
            Spawns COMMAND in its own process group, forwards signals to it, reaps every zombie, \
            and exits with COMMAND's status. When not PID 1 it becomes a child subreaper by itself. \
            Option parsing stops at the first non-option, so `studio init cmd -x` and \
            `studio init -- cmd -x` both work.

            Forwarded: every catchable signal except SIGCHLD and the synchronous ones \
            (FPE ILL SEGV BUS ABRT TRAP SYS). TSTP/TTIN/TTOU go to the terminal's foreground group \
            when stdin is a TTY, else become SIGSTOP for the child; the init itself never stops.

            Stopping: the first SIGTERM or SIGINT is forwarded and starts the grace period; when it \
            runs out, every descendant gets SIGKILL. A second SIGINT kills at once. When COMMAND exits, \
            the remaining descendants get SIGTERM, up to the grace period, then SIGKILL.

            EXIT STATUS
              N        COMMAND exited with N (0 when N was given to -e)
              128+N    COMMAND was killed by signal N
              125      the init itself failed (bad usage, cannot fork)
              126      COMMAND was found but cannot be executed
              127      COMMAND was not found

            ENVIRONMENT
              TINI_SUBREAPER, TINI_KILL_PROCESS_GROUP (= -g) and TINI_VERBOSITY
              (>= 2 = -v) are honoured.
            """
    )

    @Flag(name: [.customShort("s"), .customLong("subreaper")], help: "Accepted for tini compatibility; the init is a subreaper whenever it is not PID 1.")
    var subreaper = false

    @Flag(name: [.customShort("g"), .customLong("group")], help: "Forward signals to COMMAND's process group instead of COMMAND alone (tini -g).")
    var group = false

    @Flag(name: [.customShort("w"), .customLong("warn-on-reap")], help: "Warn on stderr about every reaped process other than COMMAND: \"Reaped zombie process with pid=N\" (tini -w).")
    var warnOnReap = false

    @Option(name: [.customShort("e"), .customLong("remap-exit")], help: ArgumentHelp("Exit with 0 when COMMAND exits with CODE (repeatable).", valueName: "CODE"))
    var remapExit: [Int] = []

    @Option(name: [.customShort("p"), .customLong("parent-death-signal")], help: ArgumentHelp("PR_SET_PDEATHSIG: signal sent when the parent dies.", valueName: "SIGNAL"))
    var parentDeathSignal: String?

    @Option(name: [.customShort("r"), .customLong("rewrite")], help: ArgumentHelp("Rewrite signal FROM to TO before forwarding; TO 0 drops it (repeatable; names or numbers, e.g. TERM:QUIT, WINCH:0).", valueName: "FROM:TO"))
    var rewrite: [String] = []

    @Option(name: .customLong("grace"), help: ArgumentHelp("Time between SIGTERM and SIGKILL: 10, 10s, 1.5s, 500ms (default 10s).", valueName: "DURATION"))
    var grace: String?

    @Option(name: .customLong("log-format"), help: ArgumentHelp("Event log on stderr: quiet (default), text or json.", valueName: "FORMAT"))
    var logFormat: String?

    @Flag(name: [.customShort("v"), .customLong("verbose")], help: "Log one human line per spawn, signal, reap, escalation and exit on stderr.")
    var verbose = false

    @Argument(parsing: .captureForPassthrough, help: "The command to run and its arguments.")
    var command: [String] = []

    func run() throws {
        // Reached only if main.swift did not take the fast path; it always does for `init`.
        throw CleanExit.helpRequest(self)
    }
}
