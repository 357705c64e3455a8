import Glibc
import StudioThreads
import XCTest

final class DetachedThreadTests: XCTestCase {
    func testRunHappensOnAnotherThreadAndReturnsTheResult() async {
        let caller = UInt(bitPattern: Int(pthread_self()))
        let (value, worker) = await DetachedThread.run { (42, UInt(bitPattern: Int(pthread_self()))) }
        XCTAssertEqual(value, 42)
        XCTAssertNotEqual(worker, caller)
    }

    func testManyBlockingRunsAtOnceDoNotStarveTheCooperativePool() async {
        // Twenty runs that each block 200 ms: on the cooperative pool (two threads on two cores) they
        // would take two seconds; on threads of their own they overlap.
        let start = ContinuousClock.now
        await withTaskGroup(of: Int.self) { group in
            for index in 0..<20 {
                group.addTask { await DetachedThread.run { usleep(200_000); return index } }
            }
            var seen = Set<Int>()
            for await index in group { seen.insert(index) }
            XCTAssertEqual(seen, Set(0..<20))
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(1.5))
    }

    func testStartRunsTheBodyAndReportsSuccess() {
        let ran = expectation(description: "the body ran")
        XCTAssertEqual(DetachedThread.start { ran.fulfill() }, 0)
        wait(for: [ran], timeout: 10)
    }
}
