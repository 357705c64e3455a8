#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
@testable import StudioWorker
import XCTest

/// What the installer asks pip for, with a stand-in `python` that reports an installed set and records the
/// `pip install` it is given (no network, no real pip).
final class PipInstallerTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.path + "/pip-installer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/workspace", withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A `python` that answers the installed-distributions listing with `installed`, and for `-m pip install`
    /// saves its arguments, working directory and the requirements file it names under `directory`.
    private func standInPython(installed: [String], pipExit: Int = 0) throws -> String {
        let path = directory + "/python"
        let script = """
            #!/bin/sh
            if [ "$1" = "-c" ]; then printf '%s\\n' \(installed.map { "'\($0)'" }.joined(separator: " ")); exit 0; fi
            if [ "$1 $2 $3" = "-m pip install" ]; then
              printf '%s\\n' "$@" > "\(directory)/args"
              pwd > "\(directory)/cwd"
              for last; do :; done
              cp "$last" "\(directory)/requirements"
              echo "pip output line"
              exit \(pipExit)
            fi
            exit 99
            """
        try Data(script.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o755)
        return path
    }

    private func installer(_ python: String) -> PipInstaller {
        PipInstaller(python: python, environment: ["PATH": "/usr/bin:/bin"], outputPath: directory + "/output",
                     workspace: directory + "/workspace", log: WorkerLog(level: .error))
    }

    private func text(_ name: String) -> String? {
        FileManager.default.contents(atPath: directory + "/" + name).map { String(decoding: $0, as: UTF8.self) }
    }

    func testPipIsGivenEveryLineItUnderstandsThroughOneRequirementsFileInTheWorkspace() async throws {
        let python = try standInPython(installed: ["numpy==2.4.6", "requests==2.31.0"])
        let requested = ["numpy==2.4.6", "requests", "torch==2.5.0", "--extra-index-url https://download.pytorch.org/whl/cu121",
                         "git+https://github.com/org/repo.git@v1#egg=repo", "-e .", "mylib @ https://example.com/mylib-1.0-py3-none-any.whl",
                         "pkg[extra]==1; python_version<\"3.99\"", "pip install nonsense"]
        let result = await installer(python).installMissing(requested)
        XCTAssertEqual(result, .installed(count: 5), "five requirements, one option")
        XCTAssertEqual(text("requirements"), """
            --extra-index-url https://download.pytorch.org/whl/cu121
            torch==2.5.0
            git+https://github.com/org/repo.git@v1#egg=repo
            -e .
            mylib @ https://example.com/mylib-1.0-py3-none-any.whl
            pkg[extra]==1; python_version<"3.99"

            """)
        let arguments = try XCTUnwrap(text("args")).split(separator: "\n").map(String.init)
        XCTAssertEqual(Array(arguments.prefix(3)), ["-m", "pip", "install"])
        XCTAssertEqual(arguments.dropLast().last, "-r")
        XCTAssertTrue(try XCTUnwrap(arguments.last).hasPrefix(directory + "/workspace/.studio-requirements-"), arguments.joined(separator: " "))
        XCTAssertEqual(text("cwd")?.trimmingCharacters(in: .whitespacesAndNewlines), directory + "/workspace", "pip runs in the workspace")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory + "/workspace"), [], "the list is gone before the experiment runs")
        XCTAssertTrue(text("output")?.contains("pip output line") == true, "pip's output goes to the experiment's output")
    }

    func testNothingMissingRunsNoPip() async throws {
        let python = try standInPython(installed: ["numpy==2.4.6"])
        let result = await installer(python).installMissing(["numpy==2.4.6", "--extra-index-url https://x/simple", "not a requirement"])
        XCTAssertEqual(result, .installed(count: 0))
        XCTAssertNil(text("args"), "pip install was run with nothing to install")
    }

    func testAFailingPipFailsTheExperiment() async throws {
        let python = try standInPython(installed: [], pipExit: 1)
        guard case .failed(let why) = await installer(python).installMissing(["numpy"]) else { return XCTFail("expected a failure") }
        XCTAssertTrue(why.contains("pip install of the experiment's requirements failed (exit 1)"), why)
    }
}
