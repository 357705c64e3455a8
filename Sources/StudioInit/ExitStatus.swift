/// How a process ended: it exited with a code, or a signal killed it.
public enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
    /// The process called exit(code).
    case exited(Int32)
    /// The process was killed by this signal.
    case signaled(Int32)

    /// The shell convention: the exit code N, or 128+N for signal N.
    public var shellCode: Int32 {
        switch self {
        case .exited(let code): return code
        case .signaled(let signal): return 128 + signal
        }
    }

    /// Decodes a raw `waitpid` status (exited or killed; stopped statuses never reach here: no WUNTRACED).
    public init(waitStatus status: Int32) {
        let terminationSignal = status & 0x7f
        if terminationSignal == 0 {
            self = .exited((status >> 8) & 0xff)
        } else {
            self = .signaled(terminationSignal)
        }
    }

    /// `exited 3` or `killed by SIGTERM (15)`.
    public var description: String {
        switch self {
        case .exited(let code): return "exited \(code)"
        case .signaled(let signal): return "killed by \(Signal.name(of: signal)) (\(signal))"
        }
    }
}
