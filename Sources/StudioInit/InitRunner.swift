import CStudioInit
#if canImport(Glibc)
import Glibc
#endif

/// The `studio init` loop: one thread, all signals blocked and read with sigtimedwait, the only
/// `waitpid(-1)` in the process. Spawns the command, forwards signals, reaps everything, stops the
/// tree gracefully (TERM, grace, KILL) and returns the exit code the init must exit with.
public struct InitRunner {
    /// The init exits with this when its own setup fails (bad usage, spawn failure).
    public static let internalErrorExitCode: Int32 = 125

    private let options: InitOptions
    private let logger: InitLogger
    private let isPID1 = getpid() == 1
    private var mainPID: pid_t = -1
    private var mainStatus: ExitStatus?
    private var stdinIsTTY = false
    /// Set by the first SIGTERM/SIGINT: when it passes, everything gets SIGKILL.
    private var stopDeadline: Int64?
    /// Set when the main child has exited: the others must be gone by then.
    private var drainDeadline: Int64?
    /// SIGKILL has gone to the whole tree; we only reap from now on.
    private var killedAll = false
    /// Whether the start-up code's pages have been handed back (once the init first sits idle).
    private var codePagesReleased = false
    /// How long the init must have waited with nothing to do before it hands those pages back: a
    /// short-lived command never pays for it, a long-running one is lean for all of its life.
    private static let idleBeforeReleaseMilliseconds: Int64 = 100

    /// A runner for these options; call `run()` once.
    public init(options: InitOptions) {
        self.options = options
        self.logger = InitLogger(format: options.logFormat)
    }

    /// Runs the command to completion and returns the init's exit code.
    public mutating func run() -> Int32 {
        if let signal = options.parentDeathSignal, studio_set_parent_death_signal(signal) != 0 {
            logger.error("cannot set the parent-death signal \(Signal.name(of: signal)): \(errorText())")
            return Self.internalErrorExitCode
        }
        if studio_take_sigchld() != 0 {
            logger.error("cannot take SIGCHLD back from SIG_IGN: \(errorText())")
            return Self.internalErrorExitCode
        }
        // Orphans below us must come to us, not to the host's init: automatic when not PID 1.
        if !isPID1 && studio_set_child_subreaper() != 0 {
            logger.error("warning: cannot become a child subreaper (\(errorText())); orphans will not be reaped here")
        }
        stdinIsTTY = studio_isatty(0) == 1
        var mustRelease: Int32 = 0
        let terminalMode = studio_terminal_session_mode(&mustRelease)
        if mustRelease != 0 && studio_release_controlling_tty() != 0 {
            logger.error("warning: cannot hand the terminal to the child (TIOCNOTTY: \(errorText()))")
        }

        let spawned = spawnProcess(
            arguments: options.command, environmentPointer: studio_environment(), workingDirectory: nil,
            stdin: nil, stdout: nil, stderr: nil, terminalMode: terminalMode, keepCallerSignals: true)
        if let error = spawned.error {
            logger.error(error.description)
            if spawned.pid > 0 {
                var status: Int32 = 0
                while waitpid(spawned.pid, &status, 0) < 0 && errno == EINTR {}
            }
            return error.exitCode
        }
        mainPID = spawned.pid
        logger.event("spawn", ["pid": .int(mainPID), "command": .string(options.command.joined(separator: " ")),
                               "pid1": .string(isPID1 ? "true" : "false"), "tty": .string(stdinIsTTY ? "true" : "false")])

        // Hygiene: don't pin the original cwd (a mount) or hold the fds we were given; the child has them.
        if chdir("/") != 0 { logger.error("warning: chdir(\"/\") failed: \(errorText())") }
        _ = studio_close_fds_from(3)

        return loop()
    }

    private mutating func loop() -> Int32 {
        while true {
            let noChildrenLeft = reapAll()
            if let status = mainStatus {
                if noChildrenLeft { return finish(status) }
                if drainDeadline == nil && !killedAll { beginDrain() }
            } else if noChildrenLeft {
                // Cannot happen (the main child is our child until reaped); never spin on it.
                logger.error("the main child vanished without an exit status")
                return finish(.exited(Self.internalErrorExitCode))
            }

            let now = studio_monotonic_milliseconds()
            var timeout: Int64 = -1
            if killedAll {
                timeout = 100 // re-sweep: a process may have forked while we killed its parent
            } else if let deadline = earliestDeadline {
                timeout = max(0, deadline - now)
            }
            let received = waitForSignal(timeout: timeout)
            if received > 0 {
                handle(signal: received)
            } else if received == 0 {
                if killedAll {
                    killTree(SIGKILL)
                } else if let deadline = earliestDeadline,
                          studio_monotonic_milliseconds() >= deadline {
                    escalate(reason: mainStatus == nil ? "stop grace period expired" : "descendants outlived the grace period")
                }
            } else {
                logger.error("sigtimedwait failed: \(errorText())")
            }
        }
    }

    /// studio_wait_signal, except that the first time the init has sat idle for a while it hands
    /// back start-up's pages (code, and data it only read) and then goes on waiting.
    private mutating func waitForSignal(timeout: Int64) -> Int32 {
        let idle = Self.idleBeforeReleaseMilliseconds
        if codePagesReleased || (timeout >= 0 && timeout <= idle) { return studio_wait_signal(Int(timeout)) }
        let received = studio_wait_signal(Int(idle))
        if received != 0 { return received }
        codePagesReleased = true
        // One thread (the init's), so releasing the writable segments' clean pages is safe.
        return studio_wait_signal_after_releasing_pages(Int(timeout < 0 ? -1 : timeout - idle))
    }

    /// The stop or drain deadline that comes first, if either is set.
    private var earliestDeadline: Int64? {
        switch (stopDeadline, drainDeadline) {
        case let (stop?, drain?): return min(stop, drain)
        case let (stop, drain): return stop ?? drain
        }
    }

    /// Reaps every exited child; true when there are no children left at all.
    private mutating func reapAll() -> Bool {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0 {
                let exit = ExitStatus(waitStatus: status)
                if pid == mainPID { mainStatus = exit }
                else if options.warnOnReap { logger.warning("Reaped zombie process with pid=\(pid)") } // tini -w's words
                if logger.isEnabled {
                    logger.event("reap", ["pid": .int(pid), "status": .string(exit.description),
                                          "main": .string(pid == mainPID ? "true" : "false")])
                }
                continue
            }
            if pid == 0 { return false }
            if errno == EINTR { continue }
            if errno == ECHILD { return true }
            logger.error("waitpid failed: \(errorText())")
            return false
        }
    }

    private mutating func handle(signal received: Int32) {
        if received == SIGCHLD { return } // the loop reaps on every wake-up
        if Signal.synchronous.contains(received) {
            logger.event("signal", ["signal": .string(Signal.name(of: received)), "action": "ignored (synchronous)"])
            return
        }
        let mainRunning = mainStatus == nil
        let rewritten = options.rewrites[received]
        let outgoing = rewritten ?? received

        if outgoing == 0 {
            logger.event("signal", ["signal": .string(Signal.name(of: received)), "action": "dropped"])
        } else if mainRunning {
            if rewritten == nil && Signal.jobControl.contains(received) {
                forwardJobControl(received)
            } else {
                let target = options.target == .processGroup ? -mainPID : mainPID
                send(outgoing, to: target, received: received)
            }
        }

        guard received == SIGTERM || received == SIGINT, !killedAll else { return }
        if received == SIGINT && stopDeadline != nil {
            escalate(reason: "second SIGINT")
        } else if stopDeadline == nil && outgoing != 0 {
            stopDeadline = studio_monotonic_milliseconds() + options.graceMilliseconds
            logger.event("stop", ["signal": .string(Signal.name(of: received)), "grace_ms": .int(options.graceMilliseconds)])
        }
    }

    /// TSTP/TTIN/TTOU: to the terminal's foreground group when there is one, else SIGSTOP to the child.
    private func forwardJobControl(_ received: Int32) {
        if stdinIsTTY, let stat = ProcessTree.readStat(mainPID), stat.terminalForegroundGroup > 0 {
            send(received, to: -stat.terminalForegroundGroup, received: received)
        } else {
            send(SIGSTOP, to: options.target == .processGroup ? -mainPID : mainPID, received: received)
        }
    }

    private func send(_ signal: Int32, to target: pid_t, received: Int32) {
        let result = kill(target, signal)
        if logger.isEnabled {
            logger.event("signal", ["signal": .string(Signal.name(of: received)), "forwarded": .string(Signal.name(of: signal)),
                                    "target": .int(target), "result": .string(result == 0 ? "ok" : errorText())])
        }
    }

    /// The main child exited: every other process gets SIGTERM and up to the grace period.
    private mutating func beginDrain() {
        let now = studio_monotonic_milliseconds()
        drainDeadline = min(now + options.graceMilliseconds, stopDeadline ?? Int64.max)
        logger.event("drain", ["signal": "SIGTERM", "grace_ms": .int(drainDeadline! - now)])
        killTree(SIGTERM)
    }

    private mutating func escalate(reason: String) {
        logger.event("escalate", ["signal": "SIGKILL", "reason": .string(reason)])
        killedAll = true
        killTree(SIGKILL)
    }

    /// Signals every process below the init: as PID 1 everyone in the namespace (kill(-1)); else the
    /// descendants found in /proc (adopted orphans included, as we are their subreaper).
    private func killTree(_ signal: Int32) {
        if isPID1 {
            _ = kill(-1, signal)
            return
        }
        if signal == SIGKILL && mainStatus == nil { _ = kill(-mainPID, signal) }
        for process in ProcessTree.snapshot().descendants(of: [getpid()]) where process.state != "Z" {
            _ = kill(process.pid, signal)
        }
    }

    private func finish(_ status: ExitStatus) -> Int32 {
        var code = status.shellCode
        if options.exitCodesMappedToZero.contains(code) { code = 0 }
        logger.event("exit", ["pid": .int(mainPID), "status": .string(status.description), "code": .int(code)])
        return code
    }
}

/// strerror(errno) as a String.
func errorText(_ number: Int32 = errno) -> String {
    String(cString: strerror(number))
}
