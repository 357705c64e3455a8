#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import XCTest

/// gcp-storage-emulator through `scripts/gcs-emulator.py` (in memory, on a free loopback port), for the UI's
/// tests over GCS. Skips the test when it is not installed (`pip install gcp-storage-emulator`).
final class GCSEmulator: @unchecked Sendable {
    let pid: pid_t
    let port: Int
    /// `STORAGE_EMULATOR_HOST` for this server.
    var host: String { "http://127.0.0.1:\(port)" }

    init(directory: String) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/gcs-emulator.py").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let portFile = directory + "/gcs-port"
        var spawned: pid_t = 0
        let arguments = ["/usr/bin/env", "python3", script, "--port-file", portFile]
        let cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let result = posix_spawn(&spawned, arguments[0], &actions, nil, cArguments, environ)
        guard result == 0 else { throw XCTSkip("cannot start python3 scripts/gcs-emulator.py (errno \(result))") }
        pid = spawned
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text), LoopbackPort.accepts(port) {
                self.port = port
                return
            }
            var status: Int32 = 0
            if waitpid(spawned, &status, WNOHANG) == spawned {
                throw XCTSkip("gcp-storage-emulator exited at once; install it with: pip install gcp-storage-emulator")
            }
            usleep(50_000)
        }
        port = 0
        stop()
        throw XCTSkip("gcp-storage-emulator did not accept connections within 30 s")
    }

    /// Kills (SIGKILL: spawned children inherit the test process's signal mask) and reaps the server.
    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}
