import StudioHTTP
import XCTest

final class RetryPolicyTests: XCTestCase {
    func testThrottlingTimeoutsAndPassingServerErrorsAreRetried() {
        for status in [408, 429, 500, 502, 503, 504, 599] {
            XCTAssertTrue(RetryPolicy.isRetryable(status: status), "\(status)")
        }
    }

    func testAnswersThatWouldComeBackTheSameAreNot() {
        // 501 and 505 say the server cannot do this request at all (a wrong endpoint, say).
        for status in [200, 204, 301, 400, 401, 403, 404, 409, 412, 501, 505] {
            XCTAssertFalse(RetryPolicy.isRetryable(status: status), "\(status)")
        }
    }

    func testDelaysStayWithinAnExponentialCeilingCappedAtTheMaximum() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        for attempt in 1...8 {
            let ceiling = min(1000, 100 << attempt)
            let delays = (0..<200).map { _ in policy.delay(after: attempt) }
            for delay in delays {
                XCTAssertGreaterThanOrEqual(delay, .zero)
                XCTAssertLessThanOrEqual(delay, .milliseconds(ceiling), "attempt \(attempt)")
            }
            // Full jitter: the waits spread over the range instead of all hitting the ceiling.
            XCTAssertGreaterThan(Set(delays).count, 10, "attempt \(attempt)")
        }
    }
}
