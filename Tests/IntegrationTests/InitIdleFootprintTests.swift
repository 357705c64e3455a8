import XCTest
import Glibc
import StudioInit

/// `studio init` hands back its start-up pages once idle (code, and the data it only read): its
/// resident set shrinks well under the 2 MiB budget, and everything it wrote before still holds.
final class InitIdleFootprintTests: StudioInitTestCase {
    func testIdleInitIsSmallAndStillForwardsRewritesAndExitStatus() async throws {
        // The child exits 42 on SIGUSR2 only: the init must still apply the rewrite it parsed at
        // start-up (USR1 -> USR2) after it released its pages.
        let script = """
            import os, signal, time
            signal.signal(signal.SIGUSR2, lambda *_: os._exit(42))
            open('\(directory.file("ready"))', 'w').close()
            while True:
                time.sleep(1)
            """
        let run = try pid1(["-r", "USR1:USR2", "--", "/usr/bin/python3", "-c", script])
        try waitForReady()
        let initPID = try XCTUnwrap(run.namespaceInitPID())
        // Up to ~3 MB while starting; after 100 ms of idleness most of it is handed back.
        var resident = 0
        let released = eventually(timeout: 5) {
            resident = Self.residentKilobytes(initPID) ?? Int.max
            return resident <= 1024
        }
        XCTAssertTrue(released, "idle VmRSS \(resident) kB, expected <= 1024 kB once the start-up pages are released")
        XCTAssertEqual(kill(initPID, SIGUSR1), 0)
        let status = await run.wait(timeout: 10)
        XCTAssertEqual(status, .exited(42), run.standardError)
    }

    /// VmRSS of a process, in kB.
    private static func residentKilobytes(_ pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
    }
}
