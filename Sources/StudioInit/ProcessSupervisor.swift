import CStudioInit
import StudioThreads
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The process-wide child supervisor for an async PID 1 (the worker): one reaper thread that is the
/// only `waitpid(-1)` caller, spawning in new process groups, per-pid exit statuses, graceful stop.
public final class ProcessSupervisor: Sendable {
    /// The one supervisor of this process.
    public static let shared = ProcessSupervisor()

    /// Signals that mean "stop": handed to `onTerminationSignal`.
    public static let terminationSignals: Set<Int32> = [SIGTERM, SIGINT, SIGHUP, SIGQUIT]

    private struct Child {
        var status: ExitStatus?
        var waiters: [CheckedContinuation<ExitStatus, Never>] = []
        /// A pidfd that becomes readable when the child exits; -1 without one.
        var pidfd: Int32
        /// The spawn failed: reap it silently.
        var abandoned = false
    }

    private struct State {
        var running = false
        var children: [pid_t: Child] = [:]
        var onTerminationSignal: (@Sendable (Int32) -> Void)?
        var wakeFD: Int32 = -1
        /// Set by `start`: this process took on init duties, so it reaps every child (orphans
        /// included) and is a subreaper. Until then it waits only for the pids it spawned, and
        /// leaves other code's children to their own `waitpid` (a test process, say).
        var reapsEverything = false
    }

    private let state = Mutex(State())

    init() {}

    /// Starts the one reaper thread (signalfd + poll): reaps every child, becomes subreaper if not
    /// PID 1, and calls `onTerminationSignal` (on that thread) for SIGTERM, SIGINT, SIGHUP, SIGQUIT.
    /// Idempotent: later calls only replace the handler.
    public func start(onTerminationSignal: @escaping @Sendable (Int32) -> Void) {
        let claimed = state.withLock { state -> Bool in
            state.onTerminationSignal = onTerminationSignal
            defer { state.reapsEverything = true }
            return !state.reapsEverything
        }
        if claimed && getpid() != 1 { _ = studio_set_child_subreaper() }
        startReaperIfNeeded()
    }

    /// Gives init duties back (for tests that share one process): from now on only the pids
    /// spawned here are waited for. The subreaper flag stays; the kernel keeps it for the process.
    func relinquishInitDuties() {
        state.withLock { $0.reapsEverything = false }
    }

    /// Spawns in a new process group (its pgid = pid) and returns the pid. The status is kept until
    /// `waitForExit` takes it. Throws `SpawnError` (exitCode 127 / 126 / 125) when it cannot run.
    public func spawn(_ request: SpawnRequest) throws -> Int32 {
        startReaperIfNeeded()
        let environment = request.environment.map { "\($0.key)=\($0.value)" }
        // Under the lock from before fork until the pid is registered: the reaper may already have
        // reaped the child, but it cannot record (or drop) the status before we registered it.
        let outcome: (pid: pid_t, error: SpawnError?) = state.withLock { state in
            let spawned = spawnProcess(
                arguments: request.arguments, environment: environment, workingDirectory: request.workingDirectory,
                stdin: request.stdin, stdout: request.stdout, stderr: request.stderr)
            guard spawned.pid > 0 else { return spawned }
            var child = Child(pidfd: spawned.error == nil ? studio_pidfd_open(spawned.pid) : -1)
            child.abandoned = spawned.error != nil
            state.children[spawned.pid] = child
            Self.wake(state.wakeFD)
            return spawned
        }
        if let error = outcome.error { throw error }
        return outcome.pid
    }

    /// The exit status of a spawned pid, once it has exited; it is handed out to every waiter present
    /// when it exits, or to the first one to ask afterwards. A pid this supervisor does not know (or
    /// whose status was already taken) yields `.exited(127)`.
    public func waitForExit(_ pid: Int32) async -> ExitStatus {
        await withCheckedContinuation { (continuation: CheckedContinuation<ExitStatus, Never>) in
            let ready: ExitStatus? = state.withLock { state in
                guard var child = state.children[pid] else { return .exited(127) }
                if let status = child.status {
                    state.children[pid] = nil
                    return status
                }
                child.waiters.append(continuation)
                state.children[pid] = child
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// SIGTERM to the child's process group and every descendant found in /proc (orphans it left
    /// with us included), waits up to `grace`, then SIGKILLs them all; returns the child's status.
    public func terminate(_ pid: Int32, grace: Duration) async -> ExitStatus {
        var tracked = aliveTree(of: pid, tracked: [pid])
        if tracked.isEmpty { return await waitForExit(pid) } // the usual end: nothing left to stop
        signal(tracked, pid: pid, SIGTERM)
        let (seconds, attoseconds) = grace.components
        let deadline = studio_monotonic_milliseconds() + seconds * 1000 + attoseconds / 1_000_000_000_000_000
        var killed = false
        while true {
            tracked = aliveTree(of: pid, tracked: tracked)
            if tracked.isEmpty { break }
            let now = studio_monotonic_milliseconds()
            if now >= deadline {
                signal(tracked, pid: pid, SIGKILL)
                // After SIGKILL, give the kernel a moment; re-kill anything forked meanwhile.
                if killed && now >= deadline + 2000 { break }
                killed = true
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return await waitForExit(pid)
    }

    // MARK: - Internals

    private func signal(_ pids: Set<pid_t>, pid: pid_t, _ number: Int32) {
        _ = kill(-pid, number)
        // Members of the group already got it: a second SIGTERM could land inside their handler.
        for target in pids where ProcessTree.readStat(target)?.processGroup != pid { _ = kill(target, number) }
    }

    /// The still-running (non-zombie) members of the child's tree: tracked pids, their descendants,
    /// the child's process group, and orphans adopted by us that nobody spawned through us.
    private func aliveTree(of pid: pid_t, tracked: Set<pid_t>) -> Set<pid_t> {
        let tree = ProcessTree.snapshot()
        let ownPID = getpid()
        let registered = state.withLock { Set($0.children.keys) }
        var roots = tracked
        for process in tree.members(ofGroup: pid) { roots.insert(process.pid) }
        for process in tree.processes where process.parentPID == ownPID && !registered.contains(process.pid) {
            roots.insert(process.pid)
        }
        let running = Dictionary(tree.processes.map { ($0.pid, $0) }, uniquingKeysWith: { first, _ in first })
        var alive: Set<pid_t> = []
        for root in roots where running[root].map({ $0.state != "Z" && $0.pid != ownPID }) ?? false {
            alive.insert(root)
        }
        for process in tree.descendants(of: roots) where process.state != "Z" { alive.insert(process.pid) }
        return alive
    }

    private func startReaperIfNeeded() {
        let wakeFD: Int32? = state.withLock { state -> Int32? in
            if state.running { return nil }
            state.running = true
            state.wakeFD = studio_eventfd()
            return state.wakeFD
        }
        guard let wakeFD else { return }
        _ = studio_install_sigchld_wakeup(wakeFD)
        let signalFD = studio_signalfd_all()
        startThread { [self] in self.reaperLoop(signalFD: signalFD, wakeFD: wakeFD) }
    }

    private func reaperLoop(signalFD: Int32, wakeFD: Int32) -> Never {
        // Signals are read from the signalfd only; block them here in case the process did not.
        _ = studio_block_all_signals()
        while true {
            var fds = [pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            let pidfds = state.withLock { $0.children.values.filter { $0.status == nil && $0.pidfd >= 0 }.map(\.pidfd) }
            fds += pidfds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 && errno != EINTR { usleep(10_000) } // never spin on an unexpected error

            var received: [Int32] = []
            while signalFD >= 0 {
                let number = studio_signalfd_read(signalFD)
                if number <= 0 { break }
                received.append(number)
            }
            var counter: UInt64 = 0
            _ = read(wakeFD, &counter, 8)
            reapAll()
            let handler = state.withLock { $0.onTerminationSignal }
            for number in received where Self.terminationSignals.contains(number) { handler?(number) }
        }
    }

    private func reapAll() {
        let (everything, pending) = state.withLock { state in
            (state.reapsEverything, state.children.filter { $0.value.status == nil }.map(\.key))
        }
        var ownChildren = pending.makeIterator()
        while true {
            var status: Int32 = 0
            let pid: pid_t
            if everything {
                pid = waitpid(-1, &status, WNOHANG)
            } else {
                guard let next = ownChildren.next() else { return }
                let reaped = waitpid(next, &status, WNOHANG)
                if reaped <= 0 { continue }
                pid = reaped
            }
            if pid == 0 { return }
            if pid < 0 {
                if errno == EINTR { continue }
                return // ECHILD: nothing left
            }
            let exit = ExitStatus(waitStatus: status)
            let waiters: [CheckedContinuation<ExitStatus, Never>] = state.withLock { state in
                guard var child = state.children[pid] else { return [] } // an orphan: reaped, nothing to report
                if child.pidfd >= 0 { close(child.pidfd); child.pidfd = -1 }
                if child.abandoned || !child.waiters.isEmpty {
                    state.children[pid] = nil
                    return child.waiters
                }
                child.status = exit
                state.children[pid] = child
                return []
            }
            for waiter in waiters { waiter.resume(returning: exit) }
        }
    }

    private static func wake(_ fd: Int32) {
        guard fd >= 0 else { return }
        var one: UInt64 = 1
        _ = write(fd, &one, 8)
    }
}

/// Runs `body` on a new detached pthread; logs when none can be had.
private func startThread(_ body: @escaping @Sendable () -> Void) {
    let result = DetachedThread.start(body)
    if result != 0 { InitLogger(format: .quiet).error("cannot start the reaper thread: \(errorText(result))") }
}
