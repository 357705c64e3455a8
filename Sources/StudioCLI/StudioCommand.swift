import ArgumentParser

/// The `studio` command: every subcommand, and the multi-call names that select one.
public struct StudioCommand: AsyncParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "studio",
        abstract: "Run StudioML experiments from a queue in any container, as PID 1.",
        discussion: """
            studio is one static executable. Submit experiments with `studio run`, work \
            them with `studio remote-worker` (a complete init, safe as a container's \
            ENTRYPOINT), follow them with `studio status` and `studio logs`.

            Invoked through a link named studio-init, studio-remote-worker, studio-runner \
            or studio-start-remote-worker, it behaves as the matching subcommand.

            EXIT STATUS: see `studio help <subcommand>`; the full table is in the README.
            """,
        version: version,
        subcommands: [
            InitCommand.self, RemoteWorkerCommand.self, RunCommand.self,
            StatusCommand.self, LogsCommand.self, StopCommand.self, StartRemoteWorkerCommand.self, TarCommand.self, UICommand.self,
        ]
    )

    public init() {}

    /// The subcommand selected by the name this executable was invoked under, if any.
    public static func multiCallSubcommand(forInvocationName path: String) -> String? {
        // The last path component, without split(): it runs before every `studio init`.
        let name = path.lastIndex(of: "/").map { path[path.index(after: $0)...] } ?? path[...]
        switch name {
        case "studio-init": return "init"
        case "studio-remote-worker": return "remote-worker"
        case "studio-runner": return "run"
        case "studio-start-remote-worker": return "start-remote-worker"
        default: return nil
        }
    }

    /// Runs the command line: applies the multi-call name, then parses and runs.
    public static func main(arguments: [String]) async {
        var arguments = arguments
        let invokedAs = arguments.isEmpty ? "studio" : arguments.removeFirst()
        if let subcommand = multiCallSubcommand(forInvocationName: invokedAs) {
            arguments.insert(subcommand, at: 0)
        }
        if arguments.first == "run", RunCommand.asksForItsOwnHelp(Array(arguments.dropFirst())) { arguments = ["help", "run"] }
        await main(arguments)
    }
}
