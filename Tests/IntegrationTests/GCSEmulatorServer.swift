#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import XCTest

/// gcp-storage-emulator through `scripts/gcs-emulator.py` (in memory, on a free loopback port), spawned through
/// the test process's one reaper. Skips when it is missing (`pip install gcp-storage-emulator`).
final class GCSEmulatorServer: @unchecked Sendable {
    let run: SupervisedRun
    let port: Int
    /// `STORAGE_EMULATOR_HOST` for this server.
    var emulatorHost: String { "http://127.0.0.1:\(port)" }

    init(in directory: TemporaryDirectory) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/gcs-emulator.py").path
        let portFile = directory.file("gcs-port")
        run = try SupervisedRun(["python3", script, "--port-file", portFile], in: directory)
        var port: Int?
        let started = eventually(timeout: 30) {
            port = port ?? directory.read("gcs-port").flatMap { Int($0) }
            return port.map { LoopbackPort.accepts($0) } ?? false
        }
        guard started, let port else {
            kill(run.pid, SIGKILL)
            throw XCTSkip("gcp-storage-emulator did not start; install it with: pip install gcp-storage-emulator (\(run.standardOutput.suffix(300)))")
        }
        self.port = port
    }

    func stop() async {
        kill(run.pid, SIGKILL)
        _ = await run.wait(timeout: 10)
    }
}
