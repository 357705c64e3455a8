import Glibc
import StudioInit
import Synchronization

/// Stops a submission part-way when a termination signal (Ctrl-C, SIGTERM) arrives before its message is sent.
///
/// Sending the message is the point of no return (`commit`): before it, a signal cancels the submission, which
/// removes what it stored (see `Submitter.submit`) and ends with `SubmissionInterrupted`; from it on, signals
/// are noted and the submission finishes, so a message on the queue always has its key printed.
public final class SubmissionInterruption: Sendable {
    private enum Phase { case open, interrupted, committed }
    private struct State {
        var phase = Phase.open
        var signal: Int32?
        var cancel: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    public init() {}

    /// The first signal that came, if any (before or after the commit).
    public var signal: Int32? { state.withLock { $0.signal } }

    /// Whether a signal came before the commit: the submission is being stopped.
    public var isInterrupted: Bool { state.withLock { $0.phase == .interrupted } }

    /// Runs `body` (the submission) in a task that a signal before the commit cancels.
    public func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await body() }
        let cancelNow = state.withLock { state -> Bool in
            state.cancel = { task.cancel() }
            return state.phase == .interrupted
        }
        if cancelNow { task.cancel() }
        return try await task.value
    }

    /// Takes a termination signal: before the commit it stops the submission (true); after it, it is only noted.
    @discardableResult
    public func interrupt(by signal: Int32) -> Bool {
        let (stopped, cancel) = state.withLock { state -> (Bool, (@Sendable () -> Void)?) in
            if state.signal == nil { state.signal = signal }
            guard state.phase == .open else { return (false, nil) }
            state.phase = .interrupted
            return (true, state.cancel)
        }
        cancel?()  // outside the lock: cancellation handlers may run at once
        return stopped
    }

    /// Marks the point of no return; throws when a signal came first.
    func commit() throws {
        let signal = state.withLock { state -> Int32? in
            if state.phase == .interrupted { return state.signal }
            state.phase = .committed
            return nil
        }
        if let signal { throw SubmissionInterrupted(signal: signal) }
    }

    /// Throws when a signal came before the commit: for the submission's checks between steps.
    func check() throws {
        if let signal = state.withLock({ $0.phase == .interrupted ? $0.signal : nil }) { throw SubmissionInterrupted(signal: signal) }
    }
}

/// A submission stopped by a signal before its message was sent: nothing is on the queue.
public struct SubmissionInterrupted: Error, CustomStringConvertible, Sendable {
    /// The signal that stopped it.
    public var signal: Int32
    public var description: String {
        "interrupted by \(Signal.name(of: signal)) before the experiment was queued: nothing was submitted"
    }
    /// The shell's exit code for it: 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
    public var exitCode: Int32 { 128 + signal }
}
