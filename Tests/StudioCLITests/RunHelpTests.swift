@testable import StudioCLI
import XCTest

/// `studio run --help` shows run's help; a help flag after the script belongs to the script.
final class RunHelpTests: XCTestCase {
    func testAHelpFlagBeforeTheScriptIsRunsOwn() {
        XCTAssertTrue(RunCommand.asksForItsOwnHelp(["--help"]))
        XCTAssertTrue(RunCommand.asksForItsOwnHelp(["-h"]))
        XCTAssertTrue(RunCommand.asksForItsOwnHelp(["--gpus", "1", "--queue", "q", "--help", "train.py"]))
        XCTAssertTrue(RunCommand.asksForItsOwnHelp(["--capture", "out:model", "-h"]))
    }

    func testAHelpFlagAfterTheScriptOrModuleIsPassedOn() {
        XCTAssertFalse(RunCommand.asksForItsOwnHelp(["train.py", "--help"]))
        XCTAssertFalse(RunCommand.asksForItsOwnHelp(["--gpus", "1", "train.py", "-h"]))
        XCTAssertFalse(RunCommand.asksForItsOwnHelp(["-m", "pkg.mod", "--help"]))
        XCTAssertFalse(RunCommand.asksForItsOwnHelp(["train.py", "--epochs", "3"]))
        XCTAssertFalse(RunCommand.asksForItsOwnHelp([]))
    }
}
