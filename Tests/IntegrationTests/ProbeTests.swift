import XCTest
import StudioInit
final class ProbeTests: XCTestCase { func testProbe() { XCTAssertEqual(ExitStatus.exited(3).shellCode, 3) } }
