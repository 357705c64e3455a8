import CStudioInit
#if canImport(Glibc)
import Glibc
#endif

/// What to run: arguments, environment, working directory and the stdio fds to hand over.
public struct SpawnRequest: Sendable {
    /// argv; argv[0] is looked up in the PATH of `environment` unless it contains a `/`.
    public var arguments: [String]
    /// The child's complete environment.
    public var environment: [String: String]
    /// The child's working directory; nil keeps the caller's.
    public var workingDirectory: String?
    /// fds to dup2 onto the child's 0, 1 and 2; nil inherits the caller's.
    public var stdin: Int32?
    public var stdout: Int32?
    public var stderr: Int32?

    /// A request; every field but the arguments is optional.
    public init(
        arguments: [String], environment: [String: String] = [:], workingDirectory: String? = nil,
        stdin: Int32? = nil, stdout: Int32? = nil, stderr: Int32? = nil
    ) {
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// A spawn that failed; `exitCode` is what a shell would report for it.
public struct SpawnError: Error, CustomStringConvertible, Sendable {
    /// Where it failed.
    public enum Stage: Sendable, Equatable { case fork, setup, workingDirectory, exec }
    /// 127: command not found; 126: found but not executable; 125: failed before exec (fork, fds, cwd).
    public var exitCode: Int32
    /// The failing step.
    public var stage: Stage
    /// The errno of the failing step.
    public var errorNumber: Int32
    /// The command (argv[0]) that was to run.
    public var command: String
    /// The working directory asked for, if any.
    public var workingDirectory: String?

    /// One line: what failed and what to check.
    public var description: String {
        let reason = String(cString: strerror(errorNumber))
        switch stage {
        case .exec where exitCode == 127:
            return "\(command): command not found (\(reason)); check the name and PATH"
        case .exec:
            return "\(command): cannot execute (\(reason)); check that it is an executable file with the x bit set"
        case .workingDirectory:
            return "\(command): cannot change to working directory \(workingDirectory ?? "?") (\(reason))"
        case .fork:
            return "\(command): cannot fork (\(reason))"
        case .setup:
            return "\(command): cannot prepare the child process (\(reason))"
        }
    }
}

/// Spawns through the C shim, with a clean signal slate. `terminalMode`: a `studio_session_mode` (own process group by default). Returns the pid, or throws; a child whose exec failed has exited
/// and still needs reaping (by the caller's reaper).
func spawnProcess(
    arguments: [String], environment: [String], workingDirectory: String?,
    stdin: Int32?, stdout: Int32?, stderr: Int32?, terminalMode: Int32 = 0
) -> (pid: pid_t, error: SpawnError?) {
    let envp = CStringArray(environment)
    defer { envp.free() }
    return spawnProcess(arguments: arguments, environmentPointer: envp.pointer, workingDirectory: workingDirectory,
                        stdin: stdin, stdout: stdout, stderr: stderr, terminalMode: terminalMode, keepCallerSignals: false)
}

/// As above, with a ready-made `char *envp[]` (the init passes its own `environ` untouched).
/// `keepCallerSignals`: the child gets the signal mask and the SIG_IGNs this process started with
/// (the init's command, as with tini) instead of a clean slate.
func spawnProcess(
    arguments: [String], environmentPointer: UnsafePointer<UnsafeMutablePointer<CChar>?>,
    workingDirectory: String?, stdin: Int32?, stdout: Int32?, stderr: Int32?, terminalMode: Int32,
    keepCallerSignals: Bool
) -> (pid: pid_t, error: SpawnError?) {
    let command = arguments.first ?? ""
    let argv = CStringArray(arguments)
    defer { argv.free() }
    let result: studio_spawn_result = withOptionalCString(workingDirectory) { directory in
        var request = studio_spawn_request(
            argv: argv.pointer, envp: environmentPointer, working_directory: directory,
            stdin_fd: stdin ?? -1, stdout_fd: stdout ?? -1, stderr_fd: stderr ?? -1,
            session_mode: terminalMode, keep_caller_signals: keepCallerSignals ? 1 : 0)
        return studio_spawn(&request)
    }
    let stage: SpawnError.Stage
    let exitCode: Int32
    switch Int(result.stage) {
    case Int(STUDIO_STAGE_NONE.rawValue): return (result.pid, nil)
    case Int(STUDIO_STAGE_EXEC.rawValue):
        stage = .exec
        exitCode = (result.error == ENOENT || result.error == ENOTDIR) ? 127 : 126
    case Int(STUDIO_STAGE_CHDIR.rawValue): stage = .workingDirectory; exitCode = 125
    case Int(STUDIO_STAGE_FORK.rawValue): stage = .fork; exitCode = 125
    default: stage = .setup; exitCode = 125
    }
    return (result.pid, SpawnError(
        exitCode: exitCode, stage: stage, errorNumber: result.error, command: command,
        workingDirectory: workingDirectory))
}

/// A NULL-terminated `char *[]` owned until `free()`.
struct CStringArray {
    let pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let count: Int

    init(_ strings: [String]) {
        count = strings.count
        pointer = .allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() { pointer[index] = strdup(string) }
        pointer[strings.count] = nil
    }

    func free() {
        for index in 0..<count { Glibc.free(pointer[index]) }
        pointer.deallocate()
    }
}

private func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}
