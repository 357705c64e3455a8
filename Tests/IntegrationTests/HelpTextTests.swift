import StudioInit
import XCTest

/// Every command's help reads well at 80 columns, and asking for run's help runs nothing.
final class HelpTextTests: XCTestCase {
    private let commands: [[String]] = [
        [], ["init"], ["remote-worker"], ["run"], ["start-remote-worker"], ["status"], ["logs"], ["stop"],
        ["list"], ["ui"], ["tar"], ["tar", "pack"], ["tar", "unpack"],
    ]

    private func help(_ arguments: [String], in directory: TemporaryDirectory) async throws -> (status: ExitStatus, stdout: String, stderr: String) {
        var environment = ProcessEnvironment.current
        environment["COLUMNS"] = "80"
        environment["STUDIOML_HOME"] = directory.file("home")
        let run = try SupervisedRun([try StudioBinary.path()] + arguments, in: directory, environment: environment,
                                    workingDirectory: directory.path)
        let status = await run.wait(timeout: 20)
        return (status, run.standardOutput, run.standardError)
    }

    func testEveryHelpFitsEightyColumns() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for command in commands {
            let (status, text, _) = try await help(command + ["--help"], in: directory)
            XCTAssertEqual(status, .exited(0), "\(command)")
            XCTAssertTrue(text.hasPrefix("OVERVIEW:"), "\(command): \(text.prefix(200))")
            for line in text.split(separator: "\n") where line.count > 80 {
                XCTFail("studio \(command.joined(separator: " ")) --help: \(line.count) columns: \(line)")
            }
        }
    }

    func testRunHelpShowsRunsHelpAndRunsNothing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for flag in ["--help", "-h"] {
            let (status, text, errors) = try await help(["run", flag], in: directory)
            XCTAssertEqual(status, .exited(0))
            XCTAssertTrue(text.hasPrefix("OVERVIEW: Submit an experiment"), text)
            // Submitting or running logs to stderr ("running experiment … here"); help says nothing there.
            XCTAssertEqual(errors, "", "asking for help must not submit or run anything")
        }
        XCTAssertFalse(directory.exists("home"), "asking for help must not create the studio home")
    }
}
