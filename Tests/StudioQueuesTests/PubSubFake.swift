#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioHTTP
import StudioModel
import XCTest

/// The repository's `scripts/` directory.
let scriptsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("scripts").path

/// Spawns `arguments` with `environment` added, output to `outputPath`; returns the pid.
func spawnProcess(_ arguments: [String], environment: [String: String] = [:], outputPath: String = "/dev/null") throws -> pid_t {
    var merged = ProcessInfo.processInfo.environment
    for (key, value) in environment { merged[key] = value }
    let cArguments = arguments.map { strdup($0) } + [nil]
    let cEnvironment = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { cArguments.forEach { free($0) }; cEnvironment.forEach { free($0) } }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var pid: pid_t = 0
    let result = posix_spawn(&pid, arguments[0], &actions, nil, cArguments, cEnvironment)
    guard result == 0 else { throw XCTSkip("cannot start \(arguments[0]): \(String(cString: strerror(result)))") }
    return pid
}

/// Waits for `pid` to exit; its exit status, or nil after `seconds`.
func waitForExit(_ pid: pid_t, seconds: Double) -> Int32? {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f) }
        usleep(20_000)
    }
    return nil
}

/// `scripts/fake-pubsub.py` on a loopback port, killed when the test ends.
final class FakePubSub {
    let port: Int
    let directory: String

    init(for testCase: XCTestCase, arguments: [String] = []) throws {
        directory = FileManager.default.temporaryDirectory.path + "/studio-pubsub-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let portFile = directory + "/port"
        let pid = try spawnProcess(["/usr/bin/env", "python3", scriptsDirectory + "/fake-pubsub.py", "--port-file", portFile]
                                   + arguments, outputPath: directory + "/log")
        testCase.addTeardownBlock { [directory] in
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            try? FileManager.default.removeItem(atPath: directory)
        }
        let deadline = Date().addingTimeInterval(20)
        while true {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) {
                self.port = port
                return
            }
            guard Date() < deadline, waitForExit(pid, seconds: 0.05) == nil else {
                throw XCTSkip("the Pub/Sub fake did not start")
            }
        }
    }

    /// `host:port`, as PUBSUB_EMULATOR_HOST wants it.
    var host: String { "127.0.0.1:\(port)" }

    /// The fake's state: subscriptions' messages and request counts.
    func state() async throws -> JSONValue {
        let reply = try await HTTPTransport.shared.send(HTTPRequestSpec(method: "GET", url: "http://\(host)/control/state"))
        return try JSONValue(parsing: Data(reply.body))
    }

    /// How many requests of `rpc` (`pull`, `publish`, `modifyAckDeadline`, …) the fake answered.
    func count(_ rpc: String) async throws -> Int {
        Int(try await state()["counts"]?[rpc]?.int64Value ?? 0)
    }

    /// Makes the next `count` requests whose path contains `match` fail with `status`.
    func fail(next count: Int, status: Int, match: String) async throws {
        let body = #"{"count":\#(count),"status":\#(status),"match":"\#(match)"}"#
        _ = try await HTTPTransport.shared.send(HTTPRequestSpec(method: "POST", url: "http://\(host)/control/fail",
                                                                headers: [("Content-Type", "application/json")],
                                                                body: .bytes(Array(body.utf8))))
    }

    /// PUTs a resource JSON directly (e.g. an exactly-once subscription).
    func put(_ path: String, _ json: String) async throws -> Int {
        try await HTTPTransport.shared.send(HTTPRequestSpec(method: "PUT", url: "http://\(host)/v1/" + path,
                                                            headers: [("Content-Type", "application/json")],
                                                            body: .bytes(Array(json.utf8)))).status
    }
}
