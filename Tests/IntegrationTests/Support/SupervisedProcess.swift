#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
import Glibc
import StudioInit
import Synchronization

/// Runs a test's child process through `ProcessSupervisor.shared`. The test process may already
/// have started the supervisor (the init tests do), and then its reaper is the only `waitpid(-1)`:
/// a child spawned any other way would be reaped under a plain `waitpid(pid)`'s feet.
enum SupervisedProcess {
    /// Spawns `argv` with exactly `environment`, stdin from /dev/null, stdout and stderr into
    /// `outputDirectory/stdout` and `outputDirectory/stderr`.
    static func spawn(_ argv: [String], environment: [String: String], outputDirectory: String) throws -> pid_t {
        let stdin = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let stdout = open(outputDirectory + "/stdout", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        let stderr = open(outputDirectory + "/stderr", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        defer { [stdin, stdout, stderr].filter { $0 >= 0 }.forEach { close($0) } }
        return try ProcessSupervisor.shared.spawn(SpawnRequest(
            arguments: argv, environment: environment, workingDirectory: nil,
            stdin: stdin, stdout: stdout, stderr: stderr))
    }

    /// The shell-style status (N, or 128+signal) of a spawned pid, or nil if it is still running
    /// after `timeout` seconds (its status is then still kept for a later wait).
    static func wait(_ pid: pid_t, timeout: Double) -> Int32? {
        let result = Mutex<Int32?>(nil)
        let done = DispatchSemaphore(value: 0)
        let waiter = Task {
            let status = await ProcessSupervisor.shared.waitForExit(pid)
            result.withLock { $0 = status.shellCode }
            done.signal()
        }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            waiter.cancel()
            return nil
        }
        return result.withLock { $0 }
    }
}
