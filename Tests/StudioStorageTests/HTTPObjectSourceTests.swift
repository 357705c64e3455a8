#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
@testable import StudioStorage
import XCTest

/// `HTTPObjectSource` against `python3 -m http.server` on a loopback port.
final class HTTPObjectSourceTests: XCTestCase {
    var scratch: Scratch!
    var server: LoopbackHTTPServer!

    override func setUpWithError() throws {
        scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: scratch.at("site/sub"), withIntermediateDirectories: true)
        try writeFile(scratch.at("site/hello.txt"), "hello over http\n")
        try writeFile(scratch.at("site/sub/index.html"), "the sub directory\n")
        server = try LoopbackHTTPServer(directory: scratch.at("site"))
    }

    override func tearDown() {
        server?.stop()
        scratch?.remove()
    }

    func testDownloadStreamsTheBodyIntoTheFile() async throws {
        var bytes = [UInt8](repeating: 0, count: 3 << 20)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 11) }
        try Data(bytes).write(to: URL(fileURLWithPath: scratch.at("site/big.bin")))
        let source = HTTPObjectSource()
        let found = try await source.download(server.url("big.bin"), toFile: scratch.at("big.copy"))
        XCTAssertTrue(found)
        XCTAssertEqual(FileManager.default.contents(atPath: scratch.at("big.copy")), Data(bytes))
        let text = try await source.get(server.url("hello.txt"))
        XCTAssertEqual(text.map { String(decoding: $0, as: UTF8.self) }, "hello over http\n")
        let present = try await source.exists(server.url("hello.txt"))
        XCTAssertTrue(present)
    }

    func testMissingURLsAreNotFoundAndLeaveNoFile() async throws {
        let source = HTTPObjectSource()
        let found = try await source.download(server.url("nothing.tar"), toFile: scratch.at("nothing"))
        XCTAssertFalse(found)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.at("nothing")))
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: scratch.path).allSatisfy { !$0.contains(".part-") })
        let body = try await source.get(server.url("nothing.tar"))
        XCTAssertNil(body)
    }

    func testRedirectsAreFollowed() async throws {
        // http.server answers a directory without its trailing slash with 301 Location: /sub/.
        let source = HTTPObjectSource()
        let found = try await source.download(server.url("sub"), toFile: scratch.at("sub.html"))
        XCTAssertTrue(found)
        XCTAssertEqual(FileManager.default.contents(atPath: scratch.at("sub.html")).map { String(decoding: $0, as: UTF8.self) },
                       "the sub directory\n")
    }

    func testOtherStatusesAreOneLineErrors() async throws {
        let refusing = try LoopbackHTTPServer(script: """
            import http.server, sys
            class Handler(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    self.send_response(403); self.end_headers(); self.wfile.write(b"AccessDenied: not for you\\nsecond line")
            http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
            """)
        defer { refusing.stop() }
        let source = HTTPObjectSource(retry: .init(maxAttempts: 1))
        do {
            _ = try await source.download(refusing.url("data.tar?token=secret"), toFile: scratch.at("x"))
            XCTFail("a 403 answer downloaded something")
        } catch {
            let text = "\(error)"
            XCTAssertTrue(text.contains("HTTP 403") && text.contains("AccessDenied: not for you"), text)
            XCTAssertFalse(text.contains("\n") || text.contains("secret"), text)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.at("x")))
        do {
            _ = try await source.download("ftp://127.0.0.1/x.tar", toFile: scratch.at("x"))
            XCTFail("an ftp URL was accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("not an http(s) URL"), "\(error)")
        }
    }

    func testWritesAreRefused() async throws {
        let source = HTTPObjectSource()
        do {
            try await source.upload(server.url("up.tar"), fromFile: scratch.at("site/hello.txt"))
            XCTFail("an upload to an http(s) URL was accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("http(s) artifacts are download-only"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.at("site/up.tar")))
    }

    func testFileNamesAndRelativeRedirects() {
        XCTAssertEqual(HTTPObjectSource.fileName(of: "https://h.example/a/b/data.tar.gz?sig=1#x"), "data.tar.gz")
        XCTAssertNil(HTTPObjectSource.fileName(of: "https://h.example/a/"))
        XCTAssertNil(HTTPObjectSource.fileName(of: "https://h.example"))
        XCTAssertEqual(HTTPObjectSource.resolve("/x/y", against: "http://h:8/a/b?q"), "http://h:8/x/y")
        XCTAssertEqual(HTTPObjectSource.resolve("y", against: "http://h:8/a/b?q"), "http://h:8/a/y")
        XCTAssertEqual(HTTPObjectSource.resolve("//cdn/z", against: "https://h/a"), "https://cdn/z")
        XCTAssertEqual(HTTPObjectSource.resolve("https://o/p", against: "http://h/a"), "https://o/p")
    }
}

/// `python3 -m http.server` serving a directory on a free loopback port.
final class LoopbackHTTPServer {
    let pid: pid_t
    let port: Int

    /// Serves `directory` with `python3 -m http.server`, or runs `script` (which gets the port as its argument).
    init(directory: String = "/nonexistent", script: String? = nil) throws {
        let port = try LoopbackPort.free()
        self.port = port
        let arguments = script.map { ["/usr/bin/env", "python3", "-c", $0, String(port)] }
            ?? ["/usr/bin/env", "python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", directory, String(port)]
        let cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var spawned: pid_t = 0
        guard posix_spawn(&spawned, arguments[0], &actions, nil, cArguments, environ) == 0 else {
            throw XCTSkip("cannot start python3 -m http.server")
        }
        pid = spawned
        let deadline = Date().addingTimeInterval(20)
        while !LoopbackPort.accepts(port) {
            if Date() > deadline { stop(); throw TestFailure("python3 -m http.server did not listen within 20 s") }
            usleep(20_000)
        }
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)/\(path)" }

    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
