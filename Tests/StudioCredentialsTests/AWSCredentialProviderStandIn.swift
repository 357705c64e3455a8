#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioHTTP
import XCTest

/// A python3 `http.server` on loopback standing in for STS, the container credentials endpoint and IMDSv2.
/// Every request is logged; `GET /__log` returns the log as JSON lines. `POST /__fail?n=N&status=S` makes
/// the next N requests answer S.
final class CredentialStandIn: @unchecked Sendable {
    let pid: pid_t
    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)" }

    static let script = #"""
import http.server, json, sys, urllib.parse, threading
log = []
fail = {"n": 0, "status": 503}
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def reply(self, status, body, ctype="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        path = self.path
        if path == "/__log":
            with lock: return self.reply(200, "\n".join(json.dumps(e) for e in log))
        if path.startswith("/__fail"):
            q = urllib.parse.parse_qs(urllib.parse.urlparse(path).query)
            with lock:
                fail["n"] = int(q["n"][0]); fail["status"] = int(q["status"][0])
            return self.reply(200, "ok")
        with lock:
            log.append({"method": self.command, "path": path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
            count = len(log)
            if fail["n"] > 0:
                fail["n"] -= 1
                return self.reply(fail["status"], "injected failure")
        h = {k.lower(): v for k, v in self.headers.items()}
        if self.command == "POST" and path == "/":
            form = urllib.parse.parse_qs(body)
            token = form.get("WebIdentityToken", [""])[0]
            if token == "bad-token":
                return self.reply(400, "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error></ErrorResponse>", "text/xml")
            xml = ("<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
                   "<AccessKeyId>ASIASTS%d</AccessKeyId><SecretAccessKey>secret&amp;sts</SecretAccessKey>"
                   "<SessionToken>session-for-%s</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration>"
                   "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>") % (count, token)
            return self.reply(200, xml, "text/xml")
        if path.startswith("/container"):
            auth = h.get("authorization", "")
            if auth == "deny":
                return self.reply(403, "{}")
            doc = {"AccessKeyId": "ASIACONTAINER", "SecretAccessKey": "s", "Token": "token-" + auth, "Expiration": "2099-01-01T00:00:00Z"}
            return self.reply(200, json.dumps(doc), "application/json")
        if path == "/latest/api/token" and self.command == "PUT":
            if h.get("x-aws-ec2-metadata-token-ttl-seconds") != "21600":
                return self.reply(400, "missing ttl")
            return self.reply(200, "imds-session-token")
        if path.startswith("/latest/meta-data/iam/security-credentials/"):
            if h.get("x-aws-ec2-metadata-token") != "imds-session-token":
                return self.reply(401, "")
            role = path[len("/latest/meta-data/iam/security-credentials/"):]
            if role == "":
                return self.reply(200, "test-role\n")
            doc = {"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIAIMDS", "SecretAccessKey": "s", "Token": "t",
                   "Expiration": "2099-01-01T00:00:00Z"}
            return self.reply(200, json.dumps(doc), "application/json")
        return self.reply(404, "no such path")
    do_GET = do_PUT = do_POST = handle_any
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f: f.write(str(server.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
"""#

    /// Starts the stand-in and waits (up to 10 s) until it has written its port.
    init(directory: String) throws {
        let scriptPath = directory + "/standin.py", portPath = directory + "/standin.port"
        try write(Self.script, to: scriptPath)
        var spawned: pid_t = 0
        let arguments = ["/usr/bin/env", "python3", scriptPath, portPath]
        let cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let result = posix_spawn(&spawned, arguments[0], nil, nil, cArguments, environ)
        guard result == 0 else { throw XCTSkip("cannot start python3 (errno \(result))") }
        pid = spawned
        let deadline = Date().addingTimeInterval(10)
        var found: Int?
        while Date() < deadline {
            if let text = try? String(contentsOfFile: portPath, encoding: .utf8), let value = Int(text) { found = value; break }
            usleep(20_000)
        }
        guard let found else {
            kill(spawned, SIGKILL)
            var status: Int32 = 0
            waitpid(spawned, &status, 0)
            throw XCTSkip("the python3 stand-in did not start within 10 s")
        }
        port = found
    }

    /// One request the stand-in received.
    struct LoggedRequest: Decodable {
        let method: String
        let path: String
        let headers: [String: String]
        let body: String
    }

    /// The requests received so far (the `__` control calls excluded).
    func requests() async throws -> [LoggedRequest] {
        let reply = try await HTTPTransport.shared.send(HTTPRequestSpec(method: "GET", url: baseURL + "/__log"))
        return try String(decoding: reply.body, as: UTF8.self).split(separator: "\n").map { try JSONDecoder().decode(LoggedRequest.self, from: Data($0.utf8)) }
    }

    /// Makes the next `count` requests answer `status`.
    func failNext(_ count: Int, status: Int) async throws {
        _ = try await HTTPTransport.shared.send(HTTPRequestSpec(method: "POST", url: baseURL + "/__fail?n=\(count)&status=\(status)"))
    }

    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
