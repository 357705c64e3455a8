import Glibc
import Synchronization

// `start-remote-worker` runs on a host, never as PID 1, so it waits for its own docker child with waitpid(pid)
// directly. A SIGINT or SIGTERM is recorded and forwarded to that child by a C signal handler; both values are
// atomics because the handler may run on any thread of this (Swift concurrency) process.
private let runningChildPID = Atomic<Int32>(0)
private let receivedStopSignal = Atomic<Int32>(0)

private func forwardStopSignal(_ signalNumber: Int32) {
    receivedStopSignal.store(signalNumber, ordering: .sequentiallyConsistent)
    let child = runningChildPID.load(ordering: .sequentiallyConsistent)
    if child > 0 { kill(child, signalNumber) }  // async-signal-safe
}

/// Catches SIGINT and SIGTERM from now on: each is passed on to the running child and remembered.
func installStopSignalForwarding() {
    signal(SIGINT, forwardStopSignal)
    signal(SIGTERM, forwardStopSignal)
}

/// The SIGINT or SIGTERM received so far, if any.
func stopSignalReceived() -> Int32? {
    let signalNumber = receivedStopSignal.load(ordering: .sequentiallyConsistent)
    return signalNumber == 0 ? nil : signalNumber
}

/// Runs `executable` with `arguments` (argv[1...]) in this process's environment and waits for it.
///
/// Returns its exit status, or 128+N when it was killed by signal N. The child gets its own process group, so a
/// Ctrl-C at the terminal reaches it once (forwarded by us) rather than twice (from the terminal and from us).
func runChildProcess(_ executable: String, _ arguments: [String]) throws -> Int32 {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    // Default dispositions for the stop signals (a launcher started with `nohup` or `&` may ignore SIGINT, and
    // ignored signals survive exec) and an empty signal mask.
    var defaultSignals = sigset_t()
    sigemptyset(&defaultSignals)
    for signalNumber in [SIGINT, SIGTERM, SIGPIPE] { sigaddset(&defaultSignals, signalNumber) }
    posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
    var emptyMask = sigset_t()
    sigemptyset(&emptyMask)
    posix_spawnattr_setsigmask(&attributes, &emptyMask)
    posix_spawnattr_setpgroup(&attributes, 0)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }

    var pid: pid_t = 0
    let spawnError = posix_spawnp(&pid, executable, nil, &attributes, argv, environ)
    guard spawnError == 0 else {
        throw LauncherError(
            exitCode: 42,
            description: "cannot run \(executable): \(String(cString: strerror(spawnError))); check --docker")
    }
    runningChildPID.store(pid, ordering: .sequentiallyConsistent)
    // A signal that arrived between the spawn and the store above found no child to forward to.
    if let signalNumber = stopSignalReceived() { kill(pid, signalNumber) }
    defer { runningChildPID.store(0, ordering: .sequentiallyConsistent) }

    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        guard errno == EINTR else {
            throw LauncherError(exitCode: 1, description: "waiting for \(executable) failed: \(String(cString: strerror(errno)))")
        }
    }
    let terminatingSignal = status & 0x7f
    return terminatingSignal == 0 ? (status >> 8) & 0xff : 128 + terminatingSignal
}

/// Sleeps up to `seconds`, returning early when a stop signal arrives.
func sleepUnlessStopped(seconds: Double) {
    var remaining = seconds
    while remaining > 0 && stopSignalReceived() == nil {
        let slice = min(remaining, 0.1)
        var request = timespec(tv_sec: Int(slice), tv_nsec: Int((slice - Double(Int(slice))) * 1e9))
        nanosleep(&request, nil)
        remaining -= slice
    }
}

/// Seconds on the monotonic clock, for measuring how long a container ran.
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
