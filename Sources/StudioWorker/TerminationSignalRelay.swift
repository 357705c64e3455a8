import Glibc
import Synchronization

/// Routes SIGTERM, SIGINT, SIGHUP and SIGQUIT to a callback, whichever thread the kernel picks.
///
/// Every thread blocks every signal so that the supervisor's signalfd takes them, but an async
/// `main` parks the main thread in libdispatch's `sigsuspend` with an empty mask: a signal sent to
/// the process lands there, and its default action killed the worker on the spot, its experiment
/// orphaned and its message left leased (as PID 1 the kernel dropped it instead). A handler keeps
/// that thread from acting on it: it only writes the signal number to a pipe (async-signal-safe),
/// and a thread of its own reads the pipe and calls back.
public enum TerminationSignalRelay {
    /// The signals relayed: those that ask the worker to stop.
    public static let signals: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGQUIT]

    private static let callback = Mutex<(@Sendable (Int32) -> Void)?>(nil)

    /// Installs the handlers (once per process) and makes `onSignal` the callback (replacing any earlier one).
    public static func install(_ onSignal: @escaping @Sendable (Int32) -> Void) {
        let first = callback.withLock { current -> Bool in
            defer { current = onSignal }
            return current == nil
        }
        guard first else { return }
        var fds: [Int32] = [0, 0]
        guard makePipe(&fds) else { return }
        // A full pipe must never block the handler: a flood of signals loses only duplicates.
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        relayWriteEnd.store(fds[1], ordering: .sequentiallyConsistent)
        let readEnd = fds[0]
        Task.detached {
            await BlockingThread.run {
                var number: UInt8 = 0
                while true {
                    let count = read(readEnd, &number, 1)
                    if count < 0 && errno == EINTR { continue }
                    if count <= 0 { return }
                    let handler = callback.withLock { $0 }
                    handler?(Int32(number))
                }
            }
        }
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = relaySignal
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            _ = sigaction(signal, &action, nil)
        }
    }
}

/// The write end of the relay's pipe; -1 until installed.
private let relayWriteEnd = Atomic<Int32>(-1)

/// The signal handler: one byte to the pipe, errno kept.
private func relaySignal(_ number: Int32) {
    let saved = errno
    var byte = UInt8(truncatingIfNeeded: number)
    let fd = relayWriteEnd.load(ordering: .relaxed)
    if fd >= 0 { _ = write(fd, &byte, 1) }
    errno = saved
}
