import Foundation
import Glibc
import StudioModel
import StudioStorage
import StudioUI
import StudioWorker
import XCTest

/// A `studio ui` server on a free loopback port over a local store in a temporary STUDIOML_HOME.
final class UIFixture: @unchecked Sendable {
    let home: String
    /// The store records and artifacts go to (database and storage are one store, as by default).
    let store: any ListableObjectStore
    let server: UIServer
    private let serving: Task<Void, Never>

    /// Over the local store, or over `remote` (an S3 or GCS store) for records and artifacts alike, stop,
    /// delete and the log included.
    init(token: String? = nil, remote: (any ListableObjectStore)? = nil) async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("studio-ui-\(UUID().uuidString)").path
        self.home = home
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let browser = try remote.map { ExperimentBrowser(database: $0, storage: $0, home: home) }
            ?? ExperimentBrowser(config: StudioConfig(json: .object([:])), home: home)
        store = remote ?? LocalObjectStore(root: home + "/store")
        server = try await UIServer.start(UIConfiguration(
            host: "127.0.0.1", port: 0, token: token, database: browser.database, storage: browser.storage,
            control: TestControl(browser: browser), scratch: home + "/tmp"))
        let server = self.server
        serving = Task { try? await server.run() }
    }

    func tearDown() async {
        await server.close()
        _ = await serving.value
        try? FileManager.default.removeItem(atPath: home)
    }

    /// Stores a record (any JSON text) under `experiments/<key>`.
    func putRecord(_ key: String, _ text: String) async throws {
        try await store.put("experiments/" + key, Data(text.utf8))
    }

    /// Stores a well-formed record.
    func putExperiment(_ key: String, status: String = "waiting", filename: String = "train.py", args: [String] = [],
                       project: String? = nil, owner: String = "guest", added: Double = 1_700_000_000, extra: JSONObject = [:]) async throws {
        var record = Experiment(key: key, filename: filename, args: args, project: project, timeAdded: added, owner: owner)
        record.json["status"] = .string(status)
        for (name, value) in extra { record.json[name] = value }
        try await store.put("experiments/" + key, record.jsonData())
    }

    /// The stored record's status.
    func status(_ key: String) async throws -> String? {
        guard let data = try await store.get("experiments/" + key) else { return nil }
        return try Experiment(parsing: data).status.rawValue
    }

    /// One request on a fresh connection; `Host` is 127.0.0.1:port unless `headers` names another.
    func request(_ method: String, _ path: String, headers: [(String, String)] = []) throws -> TestResponse {
        try TestHTTP.send(port: server.port, method: method, path: path, headers: headers)
    }

    /// GET and parse a JSON answer, failing the test on any other status.
    func json(_ path: String, headers: [(String, String)] = [], file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let response = try request("GET", path, headers: headers)
        XCTAssertEqual(response.status, 200, response.text, file: file, line: line)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: response.body) as? [String: Any], file: file, line: line)
    }

    /// The keys of a list answer's rows, in order.
    func keys(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let answer = try json(path, file: file, line: line)
        return (answer["rows"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }
    }
}

/// The CLI's wiring, repeated: stop, delete and output are ExperimentBrowser's.
struct TestControl: ExperimentControl {
    let browser: ExperimentBrowser
    func requestStop(_ key: String) async throws -> ExperimentStatus? { try await browser.requestStop(key) }
    func delete(_ key: String) async throws -> ExperimentStatus? { try await browser.delete(key) }
    func output(_ key: String, from offset: Int?, limit: Int) async throws -> OutputSlice {
        try await browser.output(key, from: offset, limit: limit)
    }
    func liveArtifactPath(_ key: String, tag: String) -> String? { browser.liveArtifactPath(key, tag: tag) }
}

struct TestResponse {
    var status: Int
    var headers: [(String, String)]
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
}

/// A plain HTTP/1.1 client on a socket: the tests set headers a browser would (Host, Origin,
/// Sec-Fetch-Site) exactly as they want them, which URLSession does not allow.
enum TestHTTP {
    static func send(port: Int, method: String, path: String, headers: [(String, String)]) throws -> TestResponse {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var lines = ["\(method) \(path) HTTP/1.1"]
        if !headers.contains(where: { $0.0.lowercased() == "host" }) { lines.append("Host: 127.0.0.1:\(port)") }
        lines += headers.map { "\($0.0): \($0.1)" }
        lines += ["Connection: close", "Content-Length: 0", "", ""]
        let request = Array(lines.joined(separator: "\r\n").utf8)
        _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            bytes += buffer[0..<got]
        }
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = (0..<max(0, bytes.count - 3)).first(where: { Array(bytes[$0..<$0 + 4]) == separator }) else {
            throw POSIXError(.EPROTO)
        }
        let headLines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(headLines[0].split(separator: " ")[1]) ?? 0
        let parsed = headLines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return TestResponse(status: status, headers: parsed, body: Data(bytes[(end + 4)...]))
    }
}

/// Polls `condition` every 50 ms until it holds or `seconds` pass.
func eventually(_ seconds: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

/// A test store that passes every call but `listObjects` to a local store: wrappers that change how listings
/// behave implement that one (or keep the protocol's keys-only default).
protocol LocalStoreWrapper: ListableObjectStore {
    var store: LocalObjectStore { get }
}

extension LocalStoreWrapper {
    func get(_ key: String) async throws -> Data? { try await store.get(key) }
    func put(_ key: String, _ data: Data) async throws { try await store.put(key, data) }
    func exists(_ key: String) async throws -> Bool { try await store.exists(key) }
    func delete(_ key: String) async throws { try await store.delete(key) }
    func upload(_ key: String, fromFile path: String) async throws { try await store.upload(key, fromFile: path) }
    func download(_ key: String, toFile path: String) async throws -> Bool { try await store.download(key, toFile: path) }
    func list(prefix: String) async throws -> [String] { try await store.list(prefix: prefix) }
}
