import XCTest
import Glibc
@testable import StudioInit

final class ProcessTreeTests: XCTestCase {
    func testReadsOwnStat() throws {
        let stat = try XCTUnwrap(ProcessTree.readStat(getpid()))
        XCTAssertEqual(stat.pid, getpid())
        XCTAssertEqual(stat.parentPID, getppid())
        XCTAssertEqual(stat.processGroup, getpgrp())
        XCTAssertNil(ProcessTree.readStat(-5))
    }

    func testDescendantsFollowParentLinks() {
        let tree = ProcessTree(processes: [
            ProcessStat(pid: 10, parentPID: 1, processGroup: 10, session: 1, terminalForegroundGroup: -1, state: "S"),
            ProcessStat(pid: 11, parentPID: 10, processGroup: 10, session: 1, terminalForegroundGroup: -1, state: "S"),
            ProcessStat(pid: 12, parentPID: 11, processGroup: 12, session: 12, terminalForegroundGroup: -1, state: "Z"),
            ProcessStat(pid: 20, parentPID: 1, processGroup: 10, session: 1, terminalForegroundGroup: -1, state: "S"),
        ])
        XCTAssertEqual(Set(tree.descendants(of: [10]).map(\.pid)), [11, 12])
        XCTAssertEqual(Set(tree.descendants(of: [1]).map(\.pid)), [10, 11, 12, 20])
        XCTAssertEqual(Set(tree.members(ofGroup: 10).map(\.pid)), [10, 11, 20])
    }

    func testSnapshotContainsThisProcess() {
        XCTAssertTrue(ProcessTree.snapshot().processes.contains { $0.pid == getpid() })
    }
}
