import XCTest
@testable import StudioInit

final class ExitStatusTests: XCTestCase {
    func testDecodesExitedStatuses() {
        XCTAssertEqual(ExitStatus(waitStatus: 0), .exited(0))
        XCTAssertEqual(ExitStatus(waitStatus: 3 << 8), .exited(3))
        XCTAssertEqual(ExitStatus(waitStatus: 255 << 8), .exited(255))
    }

    func testDecodesSignaledStatuses() {
        XCTAssertEqual(ExitStatus(waitStatus: 9), .signaled(9))
        XCTAssertEqual(ExitStatus(waitStatus: 15 | 0x80), .signaled(15)) // core-dump bit set
    }

    func testShellCodeFollowsTheShellConvention() {
        XCTAssertEqual(ExitStatus.exited(3).shellCode, 3)
        XCTAssertEqual(ExitStatus.signaled(9).shellCode, 137)
        XCTAssertEqual(ExitStatus.signaled(15).shellCode, 143)
    }

    func testDescriptionNamesTheSignal() {
        XCTAssertEqual(ExitStatus.signaled(15).description, "killed by SIGTERM (15)")
        XCTAssertEqual(ExitStatus.exited(2).description, "exited 2")
    }
}
