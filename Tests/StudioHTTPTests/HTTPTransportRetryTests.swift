import StudioHTTP
import Synchronization
import XCTest

/// `HTTPTransport` and `RetryPolicy.run` against a loopback server: the one retry loop every HTTP caller uses.
final class HTTPTransportRetryTests: XCTestCase {
    private let fast = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5))
    /// One client for the whole process: HTTPTransport is never shut down, like the shared one.
    private static let client = HTTPTransport(environment: [:])
    private var transport: HTTPTransport { Self.client }

    func testASuccessIsReturnedAfterOneRequest() async throws {
        let server = try LoopbackHTTPServer { _, _ in LoopbackHTTPServer.response(200, "hello") }
        defer { server.stop() }
        let reply = try await fast.send(transport) { HTTPRequestSpec(method: "GET", url: server.url + "/a") }
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(String(decoding: reply.body, as: UTF8.self), "hello")
        XCTAssertEqual(server.requestCount, 1)
    }

    func testServerErrorsAreRetriedUntilASuccess() async throws {
        let server = try LoopbackHTTPServer { number, _ in
            number < 3 ? LoopbackHTTPServer.response(503, "busy") : LoopbackHTTPServer.response(200, "ok")
        }
        defer { server.stop() }
        let reply = try await fast.send(transport) { HTTPRequestSpec(method: "GET", url: server.url) }
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(server.requestCount, 3)
    }

    func testAnswersThatWouldFailAgainAreNotRetried() async throws {
        let (status, requests) = try await statusAndRequests(alwaysAnswering: 404)
        XCTAssertEqual(status, 404)
        XCTAssertEqual(requests, 1)
    }

    /// The final status and how many requests the server saw, when it always answers `status`.
    private func statusAndRequests(alwaysAnswering status: Int) async throws -> (Int, Int) {
        let server = try LoopbackHTTPServer { _, _ in LoopbackHTTPServer.response(status, "answer") }
        defer { server.stop() }
        let reply = try await fast.send(transport) { HTTPRequestSpec(method: "GET", url: server.url) }
        return (reply.status, server.requestCount)
    }

    func testABodyCutOffMidStreamIsATransportErrorAndRetried() async throws {
        let server = try LoopbackHTTPServer { number, _ in
            number == 1 ? Array("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\nonly part".utf8)
                        : LoopbackHTTPServer.response(200, "whole")
        }
        defer { server.stop() }
        do {
            _ = try await transport.send(HTTPRequestSpec(method: "GET", url: server.url))
            XCTFail("a body cut off mid-stream must throw")
        } catch let error as HTTPTransportError {
            XCTAssertTrue(error.isRetryable)
        }
        let reply = try await fast.send(transport) { HTTPRequestSpec(method: "GET", url: server.url) }
        XCTAssertEqual(String(decoding: reply.body, as: UTF8.self), "whole")
    }

    func testABodyCutOffWhileDownloadingIsATransportError() async throws {
        let server = try LoopbackHTTPServer { _, _ in
            Array("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\nonly part".utf8)
        }
        defer { server.stop() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cut-\(getpid())").path
        defer { unlink(path) }
        do {
            _ = try await transport.download(HTTPRequestSpec(method: "GET", url: server.url), toFile: path)
            XCTFail("a download cut off mid-stream must throw")
        } catch let error as HTTPTransportError {
            XCTAssertTrue(error.isRetryable)
        }
    }

    func testARefusedConnectionFailsFastAndIsRetryable() async throws {
        let port = try LoopbackHTTPServer.refusedPort()
        let start = ContinuousClock.now
        do {
            _ = try await fast.send(transport) { HTTPRequestSpec(method: "GET", url: "http://127.0.0.1:\(port)/") }
            XCTFail("nothing listens there")
        } catch let error as HTTPTransportError {
            XCTAssertTrue(error.isRetryable, "\(error)")
        }
        // Four attempts: the pool used to retry each connect until its 10 s timeout.
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(3))
    }

    func testGivesUpAfterMaxAttemptsWithTheLastReply() async throws {
        let (status, requests) = try await statusAndRequests(alwaysAnswering: 500)
        XCTAssertEqual(status, 500)
        XCTAssertEqual(requests, 4)
    }

    func testRefusedCredentialsAreRefreshedOnceThenFinal() async throws {
        let server = try LoopbackHTTPServer { _, head in
            head.contains("Authorization: fresh") ? LoopbackHTTPServer.response(200, "in")
                                                  : LoopbackHTTPServer.response(401, "expired")
        }
        defer { server.stop() }
        let token = Locked("stale")
        let refreshes = Locked(0)
        func call(newToken: String) async throws -> HTTPReply {
            try await fast.run(classify: { outcome in
                if case .success(let reply) = outcome, reply.status == 401 { return .refreshCredentials }
                return RetryPolicy.standardVerdict(outcome)
            }, refresh: {
                refreshes.update { $0 += 1 }
                token.update { $0 = newToken }
            }) {
                let header = token.value
                return try await self.transport.send(HTTPRequestSpec(method: "GET", url: server.url,
                                                                     headers: [("Authorization", header)]))
            }
        }
        let reply = try await call(newToken: "fresh")
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(refreshes.value, 1)
        XCTAssertEqual(server.requestCount, 2)
        // Fresh credentials refused again: one refresh only, and the refusal is the answer.
        token.update { $0 = "stale" }
        let refused = try await call(newToken: "also-stale")
        XCTAssertEqual(refused.status, 401)
        XCTAssertEqual(refreshes.value, 2)
        XCTAssertEqual(server.requestCount, 4)
    }

    func testErrorsTheClassifierCallsFinalAreThrownAtOnce() async throws {
        struct Refused: Error {}
        let calls = Locked(0)
        do {
            _ = try await fast.run {
                calls.update { $0 += 1 }
                throw Refused()
            }
            XCTFail("must throw")
        } catch is Refused {}
        XCTAssertEqual(calls.value, 1)
    }

    func testAnAnswerLargerThanAcceptedIsNotRetried() async throws {
        let server = try LoopbackHTTPServer { _, _ in LoopbackHTTPServer.response(200, String(repeating: "x", count: 5000)) }
        defer { server.stop() }
        do {
            _ = try await fast.run { try await self.transport.send(HTTPRequestSpec(method: "GET", url: server.url), maxBodyBytes: 100) }
            XCTFail("must throw")
        } catch let error as HTTPTransportError {
            XCTAssertFalse(error.isRetryable)
        }
        XCTAssertEqual(server.requestCount, 1)
    }
}
