import XCTest
import Glibc
@testable import StudioInit

final class SignalTests: XCTestCase {
    func testParsesNamesWithAndWithoutPrefixAndNumbers() {
        XCTAssertEqual(Signal.number(named: "TERM"), SIGTERM)
        XCTAssertEqual(Signal.number(named: "SIGTERM"), SIGTERM)
        XCTAssertEqual(Signal.number(named: "sigquit"), SIGQUIT)
        XCTAssertEqual(Signal.number(named: "15"), 15)
        XCTAssertEqual(Signal.number(named: "0"), 0)
        XCTAssertEqual(Signal.number(named: "WINCH"), SIGWINCH)
        XCTAssertEqual(Signal.number(named: "RTMIN+2"), 36)
    }

    func testRejectsUnknownSignals() {
        XCTAssertNil(Signal.number(named: "NOPE"))
        XCTAssertNil(Signal.number(named: "65"))
        XCTAssertNil(Signal.number(named: "-1"))
        XCTAssertNil(Signal.number(named: ""))
    }

    func testNamesSignals() {
        XCTAssertEqual(Signal.name(of: SIGUSR1), "SIGUSR1")
        XCTAssertEqual(Signal.name(of: 40), "SIG40")
    }

    func testSynchronousSignalsAreNotForwardable() {
        for signal in [SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS] {
            XCTAssertTrue(Signal.synchronous.contains(signal))
        }
        XCTAssertFalse(Signal.synchronous.contains(SIGTERM))
    }
}
