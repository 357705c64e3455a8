#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import XCTest

/// gcp-storage-emulator (`python3 -m gcp_storage_emulator`, in memory) on a free loopback port, spawned through
/// the test process's one reaper. Skips when it is missing (`pip install gcp-storage-emulator`).
final class GCSEmulatorServer: @unchecked Sendable {
    let run: SupervisedRun
    let port: Int
    /// `STORAGE_EMULATOR_HOST` for this server.
    var emulatorHost: String { "http://127.0.0.1:\(port)" }

    init(in directory: TemporaryDirectory) throws {
        port = try LoopbackPort.free()
        run = try SupervisedRun(["python3", "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1",
                                 "--port", String(port), "--in-memory", "-q"], in: directory)
        guard eventually(timeout: 30, { LoopbackPort.accepts(port) }) else {
            kill(run.pid, SIGKILL)
            throw XCTSkip("gcp-storage-emulator did not start; install it with: pip install gcp-storage-emulator (\(run.standardError.suffix(300)))")
        }
    }

    func stop() async {
        kill(run.pid, SIGKILL)
        _ = await run.wait(timeout: 10)
    }
}
