#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Synchronization
import XCTest

/// A private `rabbitmq-server` (Debian's package) on a loopback port, for the RabbitMQ tests: its own
/// directory (owned by the `rabbitmq` user the server drops to as root), node name and ports, and a short
/// `consumer_timeout` (10 s, checked every second) so the tests can outlast it. (IntegrationTests compiles
/// this same file through a symbolic link.) Skips when the server is not installed.
final class RabbitMQServer: @unchecked Sendable {
    static let consumerTimeoutSeconds = 10
    let directory: String
    let port: Int
    let distributionPort: Int
    let node: String
    /// With `init(tls: true)`: the `amqps://` port, and the CA file that signed the broker's certificate.
    private(set) var tlsPort: Int?
    private(set) var caFile: String?
    private var pid: pid_t = 0

    /// `amqp://user:password@127.0.0.1:port/vhost` (vhost percent-encoded; `/` by default).
    func url(user: String = "guest", password: String = "guest", vhost: String = "/") -> String {
        "amqp://\(user):\(password)@127.0.0.1:\(port)/\(vhost == "/" ? "%2F" : vhost)"
    }

    init(tls: Bool = false) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/rabbitmq-server") else {
            throw XCTSkip("rabbitmq-server is not installed; install it with: apt-get install -y rabbitmq-server")
        }
        port = try LoopbackPort.free()
        distributionPort = try LoopbackPort.free()
        node = "studiotest\(port)@localhost"
        directory = FileManager.default.temporaryDirectory.path + "/studio-rabbitmq-\(port)"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory + "/mnesia", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/log", withIntermediateDirectories: true)
        var config = """
        listeners.tcp.default = 127.0.0.1:\(port)
        consumer_timeout = \(Self.consumerTimeoutSeconds * 1000)

        """
        if tls { config += try makeTLSListener() }
        try config.write(toFile: directory + "/rabbitmq.conf", atomically: true, encoding: .utf8)
        // The channel tick enforces consumer_timeout; every second instead of every minute.
        try "[{rabbit, [{channel_tick_interval, 1000}]}].\n".write(toFile: directory + "/advanced.config", atomically: true, encoding: .utf8)
        try "[].\n".write(toFile: directory + "/enabled_plugins", atomically: true, encoding: .utf8)
        guard try runTool(["/bin/chown", "-R", "rabbitmq:rabbitmq", directory]) == 0 else {
            throw XCTSkip("cannot give \(directory) to the rabbitmq user (chown failed; run the tests as root)")
        }
        try start()
    }

    /// A CA and a server certificate for 127.0.0.1 made with openssl, and the broker's TLS listener lines.
    private func makeTLSListener() throws -> String {
        let tlsPort = try LoopbackPort.free()
        let dir = directory + "/tls"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=studio test CA",
             "-keyout", dir + "/ca.key", "-out", dir + "/ca.pem"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", dir + "/server.key", "-out", dir + "/server.csr"],
            ["x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/ca.pem", "-CAkey", dir + "/ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", dir + "/san.ext", "-out", dir + "/server.pem"],
        ]
        try "subjectAltName = IP:127.0.0.1\n".write(toFile: dir + "/san.ext", atomically: true, encoding: .utf8)
        for step in steps where try runTool(["/usr/bin/openssl"] + step) != 0 {
            throw RabbitMQServerError("openssl \(step.prefix(2).joined(separator: " ")) failed (apt-get install -y openssl)")
        }
        self.tlsPort = tlsPort
        caFile = dir + "/ca.pem"
        return """
        listeners.ssl.default = 127.0.0.1:\(tlsPort)
        ssl_options.cacertfile = \(dir)/ca.pem
        ssl_options.certfile = \(dir)/server.pem
        ssl_options.keyfile = \(dir)/server.key
        ssl_options.verify = verify_none
        ssl_options.fail_if_no_peer_cert = false

        """
    }

    private var environment: [String] {
        ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/var/lib/rabbitmq",
         "RABBITMQ_MNESIA_BASE=\(directory)/mnesia", "RABBITMQ_LOG_BASE=\(directory)/log",
         "RABBITMQ_CONFIG_FILE=\(directory)/rabbitmq.conf", "RABBITMQ_ADVANCED_CONFIG_FILE=\(directory)/advanced.config",
         "RABBITMQ_FEATURE_FLAGS_FILE=\(directory)/feature_flags", "RABBITMQ_ENABLED_PLUGINS_FILE=\(directory)/enabled_plugins",
         "RABBITMQ_NODENAME=\(node)", "RABBITMQ_NODE_PORT=\(port)", "RABBITMQ_DIST_PORT=\(distributionPort)",
         "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1"]
    }

    /// Starts the node and waits (up to 90 s) until it accepts AMQP connections.
    func start() throws {
        pid = try spawnTool(["/usr/sbin/rabbitmq-server"], environment: environment, output: directory + "/server.out")
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            if LoopbackPort.accepts(port) { return }
            if waitForChild(pid, timeout: 0) != nil {
                throw XCTSkip("rabbitmq-server exited at once: \(tail(directory + "/server.out"))")
            }
            usleep(100_000)
        }
        throw XCTSkip("rabbitmq-server did not accept connections within 90 s: \(tail(directory + "/server.out"))")
    }

    /// Stops the node (rabbitmqctl stop waits for it to be down), then reaps the server script.
    func stop() {
        _ = try? ctl(["stop"])
        if waitForChild(pid, timeout: 30) == nil {
            kill(pid, SIGKILL)
            _ = waitForChild(pid, timeout: 5)
        }
    }

    /// Stops and starts the node on the same directory: durable queues and persistent messages survive.
    func restart() throws {
        stop()
        try start()
    }

    /// Stops the node and removes its directory.
    func remove() {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `rabbitmqctl -n node ARGS`; throws with its output when it fails.
    @discardableResult
    func ctl(_ arguments: [String]) throws -> String {
        let output = directory + "/ctl.out"
        let child = try spawnTool(["/usr/sbin/rabbitmqctl", "-n", node] + arguments, environment: environment, output: output)
        let status = waitForChild(child, timeout: 60)
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard status == 0 else { throw RabbitMQServerError("rabbitmqctl \(arguments.joined(separator: " ")) failed: \(text.suffix(400))") }
        return text
    }

    /// A vhost with a user that may do everything in it (`configure`, `write`, `read` regular expressions).
    func addUser(_ user: String, password: String, vhost: String, configure: String = ".*", write: String = ".*", read: String = ".*") throws {
        if !(try ctl(["list_vhosts"])).split(separator: "\n").contains(Substring(vhost)) { try ctl(["add_vhost", vhost]) }
        try ctl(["add_user", user, password])
        try ctl(["set_permissions", "-p", vhost, user, configure, write, read])
    }

    private func tail(_ path: String) -> String {
        String(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").suffix(400))
    }
}

struct RabbitMQServerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One broker for a test class, started on first use and stopped by the class's `tearDown()`.
enum SharedRabbitMQ {
    private static let server = Mutex<RabbitMQServer?>(nil)

    static func get() throws -> RabbitMQServer {
        try server.withLock { server in
            if let server { return server }
            let started = try RabbitMQServer()
            server = started
            return started
        }
    }

    /// Stops the broker and removes its directory (a test class's `tearDown()`: the node would outlive the tests).
    static func stop() {
        server.withLock { server in
            server?.remove()
            server = nil
        }
    }
}

/// Spawns a program with stdout and stderr into `output` (no shell).
private func spawnTool(_ arguments: [String], environment: [String], output: String) throws -> pid_t {
    var spawned: pid_t = 0
    let cArguments = arguments.map { strdup($0) } + [nil]
    let cEnvironment = environment.map { strdup($0) } + [nil]
    defer { (cArguments + cEnvironment).forEach { free($0) } }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let result = posix_spawn(&spawned, arguments[0], &actions, nil, cArguments, cEnvironment)
    guard result == 0 else { throw RabbitMQServerError("cannot start \(arguments[0]): errno \(result)") }
    return spawned
}

private func runTool(_ arguments: [String]) throws -> Int32 {
    let child = try spawnTool(arguments, environment: ["PATH=/usr/bin:/bin"], output: "/dev/null")
    return waitForChild(child, timeout: 60) ?? -1
}

/// The raw wait status of a child once it has exited (nil if it still runs after `timeout` s). Where
/// another reaper took it (IntegrationTests run ProcessSupervisor's `waitpid(-1)`), its status is lost:
/// its end is seen in /proc and reported as 0.
private func waitForChild(_ pid: pid_t, timeout: Double) -> Int32? {
    let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
    while true {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid { return status }
        if result < 0 && errno == ECHILD && kill(pid, 0) != 0 { return 0 }
        if ContinuousClock.now >= deadline { return nil }
        usleep(20_000)
    }
}
