import Glibc
@testable import StudioQueues
import XCTest

final class DirectoryWatchTests: XCTestCase {
    var home: TemporaryHome!

    override func setUpWithError() throws { home = try TemporaryHome() }
    override func tearDown() { home.remove() }

    func testWaitTimesOut() async throws {
        let watch = try XCTUnwrap(DirectoryWatch(paths: [home.path]))
        let start = ContinuousClock.now
        await watch.wait(milliseconds: 300)
        XCTAssertGreaterThanOrEqual(secondsSince(start), 0.29)
        XCTAssertLessThan(secondsSince(start), 3)
    }

    func testWaitEndsWhenAFileAppears() async throws {
        let watch = try XCTUnwrap(DirectoryWatch(paths: [home.path]))
        let start = ContinuousClock.now
        let waiter = Task { await watch.wait(milliseconds: 20_000) }
        try await Task.sleep(nanoseconds: 100_000_000)
        try writeFile(home.path + "/new.json", [1])
        await waiter.value
        XCTAssertLessThan(secondsSince(start), 5)
    }

    func testCancellationEndsTheWait() async throws {
        let watch = try XCTUnwrap(DirectoryWatch(paths: [home.path]))
        let start = ContinuousClock.now
        let waiter = Task { await watch.wait(milliseconds: 20_000) }
        try await Task.sleep(nanoseconds: 100_000_000)
        waiter.cancel()
        await waiter.value
        XCTAssertLessThan(secondsSince(start), 5)
    }

    func testMissingDirectoryGivesNoWatch() {
        XCTAssertNil(DirectoryWatch(paths: [home.path + "/absent"]))
    }
}
