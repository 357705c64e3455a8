import Foundation
import Glibc
import XCTest

/// `studio ui` in a real browser: Tests/IntegrationTests/ui_browser_test.py drives headless Chromium with
/// selenium against the built binary, a local queue and a worker (see the script for each check), over the
/// store the config names: the local store, moto's S3 and the GCS emulator. Over S3 and GCS the UI runs with
/// a STUDIOML_HOME of its own, as on another machine, so the log and the charts reach it through the store.
final class UIBrowserTests: XCTestCase {
    func testTheUIFollowsExperimentsLiveInABrowser() throws {
        let fixture = try WorkerFixture()
        defer { fixture.tearDown() }
        try runScenario(fixture, store: ["UI_STORE": "local"])
    }

    func testTheUIFollowsExperimentsLiveInABrowserOverMotoS3() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let fixture = try WorkerFixture()
        defer { fixture.tearDown() }
        let moto = try MotoServer(in: directory)
        try fixture.write(fixture.home + "/config.yaml", """
            database:
                type: s3
                endpoint: \(moto.endpoint)
                bucket: ui-meta
                credentials:
                    aws:
                        access_key: testing
                        secret_access_key: testing
            storage:
                type: s3
                endpoint: \(moto.endpoint)
                bucket: ui-artifacts
                credentials:
                    aws:
                        access_key: testing
                        secret_access_key: testing
            \(Self.checkpoints)
            """)
        do {
            try runScenario(fixture, store: [
                "UI_STORE": "s3", "UI_S3_ENDPOINT": moto.endpoint, "UI_DATABASE_BUCKET": "ui-meta",
                "UI_STORAGE_BUCKET": "ui-artifacts", "UI_HOME": fixture.root + "/ui-home", "UI_EXPECT_METRICS": "1",
            ])
        } catch {
            await moto.stop()
            throw error
        }
        await moto.stop()
    }

    func testTheUIFollowsExperimentsLiveInABrowserOverTheGCSEmulator() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let fixture = try WorkerFixture()
        defer { fixture.tearDown() }
        let gcs = try GCSEmulatorServer(in: directory)
        fixture.environment["STORAGE_EMULATOR_HOST"] = gcs.emulatorHost
        fixture.environment["GOOGLE_CLOUD_PROJECT"] = "studio-emulator"
        try fixture.write(fixture.home + "/config.yaml", """
            database:
                type: gcs
                bucket: ui-meta
            storage:
                type: gcs
                bucket: ui-artifacts
            \(Self.checkpoints)
            """)
        do {
            try runScenario(fixture, store: [
                "UI_STORE": "gcs", "UI_DATABASE_BUCKET": "ui-meta", "UI_STORAGE_BUCKET": "ui-artifacts",
                "UI_HOME": fixture.root + "/ui-home", "UI_EXPECT_METRICS": "1",
            ])
        } catch {
            await gcs.stop()
            throw error
        }
        await gcs.stop()
    }

    /// Checkpoints at the default minute: a UI on another machine follows the log and the charts through the
    /// worker's live pieces alone. Resource samples every second, so their chart has points to show.
    private static let checkpoints = "saveMetricsFrequency: 1s\n"

    private func runScenario(_ fixture: WorkerFixture, store: [String: String]) throws {
        if let home = store["UI_HOME"] { try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true) }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("ui_browser_test.py").path
        let started = Date()
        let result = try fixture.run(["python3", script], environment: store.merging([
            "STUDIO": fixture.studio, "UI_WORKSPACE": fixture.workspace,
        ]) { $1 }, executable: nil, within: 300)
        if result.code == 77 {
            let reason = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            // CI installs the browser; there a missing one is a failure, not a skip.
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                return XCTFail("the browser test cannot run under CI: \(reason)")
            }
            throw XCTSkip("browser test skipped: \(reason)")
        }
        XCTAssertEqual(result.code, 0, "ui_browser_test.py (\(store["UI_STORE"]!)) failed:\n\(result.stdoutText)\n\(result.stderrText)")
        print("ui_browser_test.py (\(store["UI_STORE"]!)): \(String(format: "%.1f", Date().timeIntervalSince(started))) s; \(result.stdoutText)")
    }
}
