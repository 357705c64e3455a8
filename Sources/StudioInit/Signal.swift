import CStudioInit
#if canImport(Glibc)
import Glibc
#endif

/// Signal names and numbers, and the sets the init treats specially.
public enum Signal {
    private static let names: [(String, Int32)] = [
        ("HUP", SIGHUP), ("INT", SIGINT), ("QUIT", SIGQUIT), ("ILL", SIGILL), ("TRAP", SIGTRAP),
        ("ABRT", SIGABRT), ("BUS", SIGBUS), ("FPE", SIGFPE), ("KILL", SIGKILL), ("USR1", SIGUSR1),
        ("SEGV", SIGSEGV), ("USR2", SIGUSR2), ("PIPE", SIGPIPE), ("ALRM", SIGALRM), ("TERM", SIGTERM),
        ("STKFLT", SIGSTKFLT), ("CHLD", SIGCHLD), ("CONT", SIGCONT), ("STOP", SIGSTOP), ("TSTP", SIGTSTP),
        ("TTIN", SIGTTIN), ("TTOU", SIGTTOU), ("URG", SIGURG), ("XCPU", SIGXCPU), ("XFSZ", SIGXFSZ),
        ("VTALRM", SIGVTALRM), ("PROF", SIGPROF), ("WINCH", SIGWINCH), ("IO", SIGIO), ("PWR", SIGPWR),
        ("SYS", SIGSYS),
    ]

    /// Synchronous signals: raised by a fault in the receiver itself, so never forwarded.
    public static let synchronous: Set<Int32> = [SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS]

    /// Job-control signals that would stop the receiver.
    public static let jobControl: Set<Int32> = [SIGTSTP, SIGTTIN, SIGTTOU]

    /// The highest signal number (SIGRTMAX on Linux).
    public static let maximum: Int32 = 64

    /// Parses `TERM`, `SIGTERM`, `sigterm`, `15` or `RTMIN+2`; nil when it names no signal.
    public static func number(named text: String) -> Int32? {
        if let value = Int32(text) { return (0...maximum).contains(value) ? value : nil }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        if let match = names.first(where: { $0.0 == name }) { return match.1 }
        switch name {
        case "CLD": return SIGCHLD
        case "IOT": return SIGABRT
        case "POLL": return SIGIO
        default: break
        }
        if name.hasPrefix("RTMIN") || name.hasPrefix("RTMAX") {
            let base: Int32 = name.hasPrefix("RTMIN") ? 34 : maximum
            let rest = name.dropFirst(5)
            if rest.isEmpty { return base }
            guard let offset = Int32(rest), (34...maximum).contains(base + offset) else { return nil }
            return base + offset
        }
        return nil
    }

    /// `SIGTERM`, or `SIG42` for an unnamed number.
    public static func name(of number: Int32) -> String {
        if let match = names.first(where: { $0.1 == number }) { return "SIG" + match.0 }
        return "SIG\(number)"
    }
}

/// The process signal mask a supervising process needs.
public enum SignalMask {
    /// Blocks every signal in the calling thread. Call it first thing in `main`, before any thread
    /// exists, so every later thread inherits the mask and signals are only ever read synchronously
    /// (sigtimedwait in the init loop, signalfd in the supervisor's reaper thread).
    public static func blockAllForSupervision() {
        _ = studio_block_all_signals()
    }

    /// Unblocks every signal in the calling thread: for subcommands that do not supervise.
    public static func unblockAll() {
        _ = studio_unblock_all_signals()
    }
}
