import XCTest
import Glibc
@testable import StudioInit

final class InitOptionsTests: XCTestCase {
    private func options(_ arguments: [String], environment: [String: String] = [:]) throws -> InitOptions {
        guard case .run(let options) = try InitOptions.parse(arguments, environment: environment) else {
            throw InitUsageError(message: "expected a command to run")
        }
        return options
    }

    func testStopsAtTheFirstNonOptionWithOrWithoutDoubleDash() throws {
        XCTAssertEqual(try options(["sh", "-c", "exit 3"]).command, ["sh", "-c", "exit 3"])
        XCTAssertEqual(try options(["--", "sh", "-c", "x"]).command, ["sh", "-c", "x"])
        XCTAssertEqual(try options(["-g", "cmd", "-g"]).command, ["cmd", "-g"])
        XCTAssertEqual(try options(["-g", "cmd", "-g"]).target, .processGroup)
    }

    func testParsesTiniFlagsIncludingClusters() throws {
        let parsed = try options(["-sgv", "-e", "143", "-e3", "-p", "SIGTERM", "cmd"])
        XCTAssertTrue(parsed.subreaperRequested)
        XCTAssertEqual(parsed.target, .processGroup)
        XCTAssertEqual(parsed.logFormat, .text)
        XCTAssertEqual(parsed.exitCodesMappedToZero, [143, 3])
        XCTAssertEqual(parsed.parentDeathSignal, SIGTERM)
    }

    func testWarnOnReapIsOffUnlessAsked() throws {
        XCTAssertFalse(try options(["cmd"]).warnOnReap)
        XCTAssertTrue(try options(["-w", "cmd"]).warnOnReap)
        XCTAssertTrue(try options(["-vw", "-s", "cmd"]).warnOnReap) // tini's run_inner_tests.py passes `-w` after `-s`
        XCTAssertTrue(try options(["--warn-on-reap", "cmd"]).warnOnReap)
        XCTAssertEqual(try options(["-w", "cmd", "-w"]).command, ["cmd", "-w"])
    }

    func testParsesRewritesGraceAndLogFormat() throws {
        let parsed = try options(["--rewrite", "TERM:QUIT", "--rewrite=WINCH:0", "-r", "10:12",
                                  "--grace", "1.5s", "--log-format=json", "-v", "cmd"])
        XCTAssertEqual(parsed.rewrites, [SIGTERM: SIGQUIT, SIGWINCH: 0, 10: 12])
        XCTAssertEqual(parsed.graceMilliseconds, 1500)
        XCTAssertEqual(parsed.logFormat, .json) // an explicit format wins over -v
    }

    func testGraceFormats() {
        XCTAssertEqual(InitOptions.parseGrace("10"), 10_000)
        XCTAssertEqual(InitOptions.parseGrace("10s"), 10_000)
        XCTAssertEqual(InitOptions.parseGrace("1.5s"), 1500)
        XCTAssertEqual(InitOptions.parseGrace("500ms"), 500)
        XCTAssertEqual(InitOptions.parseGrace("0"), 0)
        XCTAssertEqual(InitOptions.parseGrace("2m"), 120_000)
        XCTAssertNil(InitOptions.parseGrace("soon"))
        XCTAssertNil(InitOptions.parseGrace("-1s"))
        XCTAssertNil(InitOptions.parseGrace(""))
    }

    func testTiniEnvironmentVariables() throws {
        let parsed = try options(["cmd"], environment: ["TINI_SUBREAPER": "", "TINI_KILL_PROCESS_GROUP": "1",
                                                        "TINI_VERBOSITY": "3", "CATATONIT_LOG": "x"])
        XCTAssertTrue(parsed.subreaperRequested)
        XCTAssertEqual(parsed.target, .processGroup)
        XCTAssertEqual(parsed.logFormat, .text)
    }

    func testHelpAndVersion() throws {
        XCTAssertEqual(try InitOptions.parse(["-h"]), .help)
        XCTAssertEqual(try InitOptions.parse(["--help", "cmd"]), .help)
        XCTAssertEqual(try InitOptions.parse(["--version"]), .version)
    }

    func testUsageErrors() {
        for arguments in [[], ["-g"], ["--bogus", "cmd"], ["-x", "cmd"], ["-e"], ["-e", "300", "cmd"],
                          ["-p", "NOPE", "cmd"], ["--rewrite", "TERM", "cmd"], ["--rewrite", "X:1", "cmd"],
                          ["--grace", "soon", "cmd"], ["--log-format", "xml", "cmd"]] {
            XCTAssertThrowsError(try InitOptions.parse(arguments), "\(arguments)")
        }
    }

    func testInitArgumentsSelection() {
        XCTAssertEqual(InitMain.initArguments(["studio", "init", "-g", "x"], multiCallName: nil), ["-g", "x"])
        XCTAssertEqual(InitMain.initArguments(["/usr/bin/studio-init", "x"], multiCallName: "init"), ["x"])
        XCTAssertNil(InitMain.initArguments(["studio", "run", "x"], multiCallName: nil))
        XCTAssertNil(InitMain.initArguments(["studio-runner", "init"], multiCallName: "run"))
    }
}
