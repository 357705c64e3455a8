#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioHTTP
import Synchronization
import XCTest

/// moto's standalone server (`python3 -m moto.server`) on a free loopback port, for the AWS tests.
/// (StudioStorageTests compiles this same file through a symbolic link: one fixture, two targets.)
/// Skips the test when moto is not installed (`pip install 'moto[server]'`).
final class MotoServer: @unchecked Sendable {
    let pid: pid_t
    let port: Int
    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// The environment an AWS client needs to talk to this server (dummy keys, us-east-1).
    var environment: [String: String] {
        ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
         "AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"]
    }

    /// Starts the server and waits (up to 30 s) until it accepts connections.
    init() throws {
        port = try LoopbackPort.free()
        var spawned: pid_t = 0
        let arguments = ["/usr/bin/env", "python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)]
        let cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let result = posix_spawn(&spawned, arguments[0], &actions, nil, cArguments, environ)
        guard result == 0 else { throw XCTSkip("cannot start python3 -m moto.server (errno \(result))") }
        pid = spawned
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if LoopbackPort.accepts(port) { return }
            var status: Int32 = 0
            if waitpid(spawned, &status, WNOHANG) == spawned {
                throw XCTSkip("moto's server exited at once; install it with: pip install 'moto[server]'")
            }
            usleep(50_000)
        }
        stop()
        throw XCTSkip("moto's server did not accept connections within 30 s")
    }

    /// Stops the server (SIGKILL: a test process may block SIGTERM, and spawned children inherit the mask) and reaps it.
    /// Arms the next faults: `query` is `n=N&status=S` (and `&plain=1` for an HTML page, `&code=C` for an AWS error code).
    func arm(_ query: String) async throws {
        _ = try await HTTPTransport.shared.send(HTTPRequestSpec(method: "POST", url: endpoint + "/__fail?" + query))
    }

    /// Holds every later request of `method` for `seconds` before forwarding it (a request in flight to cancel).
    func hold(method: String, seconds: Int) async throws {
        _ = try await HTTPTransport.shared.send(HTTPRequestSpec(method: "POST", url: endpoint + "/__hold?method=\(method)&seconds=\(seconds)"))
    }

    /// How many requests the proxy got (control requests not counted).
    func requestsSeen() async throws -> Int {
        Int(try await HTTPTransport.shared.send(HTTPRequestSpec(method: "GET", url: endpoint + "/__seen")).bodyText) ?? -1
    }

    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(5)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline { kill(pid, SIGKILL); waitpid(pid, &status, 0); return }
            usleep(20_000)
        }
    }
}

/// One moto server for the whole test process, started on first use; the test classes stop it in `tearDown()`.
enum SharedMoto {
    private static let server = Mutex<MotoServer?>(nil)

    static func get() throws -> MotoServer {
        try server.withLock { server in
            if let server { return server }
            let started = try MotoServer()
            server = started
            return started
        }
    }

    static func stop() {
        server.withLock { server in
            server?.stop()
            server = nil
        }
    }
}

/// A python3 proxy in front of moto that answers the next N requests with an injected status (503, 429),
/// to test retries. `POST /__fail?n=N&status=S` arms it (`&plain=1`: an HTML page, as a server that is not
/// AWS would send, instead of an AWS error; `&code=C`: an AWS error with code C); `POST /__hold?method=M&seconds=S`
/// holds every later request of method M for S seconds before forwarding it; `GET /__seen` counts the
/// requests it got.
final class FaultProxy: @unchecked Sendable {
    let pid: pid_t
    let port: Int
    var endpoint: String { "http://127.0.0.1:\(port)" }

    static let script = #"""
import http.server, sys, time, urllib.request, urllib.error, urllib.parse, threading
target = sys.argv[2]
state = {"n": 0, "status": 503, "plain": False, "code": None, "seen": 0, "hold": None, "hold_seconds": 0}
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def send(self, status, headers, data):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(data)
    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        if self.path.startswith("/__fail"):
            q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            with lock:
                state["n"] = int(q["n"][0]); state["status"] = int(q["status"][0]); state["plain"] = "plain" in q
                state["code"] = q["code"][0] if "code" in q else None
            return self.send(200, [], b"ok")
        if self.path.startswith("/__hold"):
            q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            with lock: state["hold"] = q["method"][0]; state["hold_seconds"] = float(q["seconds"][0])
            return self.send(200, [], b"ok")
        if self.path == "/__seen":
            with lock: return self.send(200, [], str(state["seen"]).encode())
        with lock:
            state["seen"] += 1
            inject = state["n"] > 0
            if inject: state["n"] -= 1
            hold = state["hold_seconds"] if state["hold"] == self.command else 0
        if hold: time.sleep(hold)
        if inject and state["plain"]:
            return self.send(state["status"], [("Content-Type", "text/html")], b"<html><body>not here</body></html>")
        if inject:
            code = state["code"] or ("ThrottlingException" if state["status"] == 429 else "InternalFailure")
            return self.send(state["status"], [("Content-Type", "application/x-amz-json-1.0")],
                             ('{"__type":"%s","message":"injected"}' % code).encode())
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("content-length", "connection")}
        request = urllib.request.Request(target + self.path, data=body, method=self.command, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                return self.send(r.status, r.getheaders(), r.read())
        except urllib.error.HTTPError as e:
            return self.send(e.code, e.headers.items(), e.read())
    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any
server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
server.serve_forever()
"""#

    /// Starts a proxy to `target` (e.g. moto's endpoint); the script is written into `directory`.
    init(target: String, directory: String) throws {
        port = try LoopbackPort.free()
        let scriptPath = directory + "/fault-proxy.py"
        guard FileManager.default.createFile(atPath: scriptPath, contents: Data(Self.script.utf8)) else {
            throw XCTSkip("cannot write \(scriptPath)")
        }
        var spawned: pid_t = 0
        let arguments = ["/usr/bin/env", "python3", scriptPath, String(port), target]
        let cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let result = posix_spawn(&spawned, arguments[0], nil, nil, cArguments, environ)
        guard result == 0 else { throw XCTSkip("cannot start python3 (errno \(result))") }
        pid = spawned
        let deadline = Date().addingTimeInterval(10)
        while !LoopbackPort.accepts(port) {
            if Date() > deadline { stop(); throw XCTSkip("the fault proxy did not start") }
            usleep(20_000)
        }
    }

    /// Arms the next faults: `query` is `n=N&status=S` (and `&plain=1` for an HTML page, `&code=C` for an AWS error code).
    func arm(_ query: String) async throws {
        _ = try await HTTPTransport.shared.send(HTTPRequestSpec(method: "POST", url: endpoint + "/__fail?" + query))
    }

    /// Holds every later request of `method` for `seconds` before forwarding it (a request in flight to cancel).
    func hold(method: String, seconds: Int) async throws {
        _ = try await HTTPTransport.shared.send(HTTPRequestSpec(method: "POST", url: endpoint + "/__hold?method=\(method)&seconds=\(seconds)"))
    }

    /// How many requests the proxy got (control requests not counted).
    func requestsSeen() async throws -> Int {
        Int(try await HTTPTransport.shared.send(HTTPRequestSpec(method: "GET", url: endpoint + "/__seen")).bodyText) ?? -1
    }

    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
