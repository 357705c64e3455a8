import ArgumentParser

/// `studio init`: placeholder until the init core lands.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Run a command as a container init (PID 1).")
    @Argument(parsing: .captureForPassthrough) var command: [String] = []
    func run() throws {}
}
