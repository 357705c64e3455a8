import CStudioInit

/// The last words of a process that dies of a fault (a bug, such as a Swift trap).
public enum FatalSignals {
    /// From now on a fault writes one line naming its signal to stderr, `<prefix>: died of signal
    /// SIGILL (…)`, before the process dies of it as it would have anyway.
    public static func logBeforeDying(as prefix: String) {
        _ = studio_log_fatal_signals(prefix)
    }
}
