import NIOHTTP1
import StudioCredentials
import StudioModel

/// One HTTP request, whole (bodies are small: the API takes none that matters).
struct UIRequest: Sendable {
    var method: HTTPMethod
    /// The path, percent-decoded per segment by `segments`.
    var path: String
    var parameters: [String: String]
    var headers: HTTPHeaders

    init(head: HTTPRequestHead) {
        method = head.method
        headers = head.headers
        let uri = head.uri
        if let mark = uri.firstIndex(of: "?") {
            path = String(uri[..<mark])
            parameters = Self.parseQuery(String(uri[uri.index(after: mark)...]))
        } else {
            path = uri
            parameters = [:]
        }
    }

    /// The path's segments, percent-decoded (an experiment key may hold any character but `/`).
    var segments: [String] {
        path.split(separator: "/").map { PercentEncoding.decode(String($0)) }
    }

    /// One header's first value.
    func header(_ name: String) -> String? { headers.first(name: name) }

    /// `a=1&b=x%20y` → ["a": "1", "b": "x y"]; the first of repeated names wins.
    static func parseQuery(_ query: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = PercentEncoding.decode(String(parts[0]), plusIsSpace: true)
            if result[name] == nil { result[name] = parts.count > 1 ? PercentEncoding.decode(String(parts[1]), plusIsSpace: true) : "" }
        }
        return result
    }
}

/// A response: a status, headers and a body in memory or streamed from a file.
struct UIResponse: Sendable {
    enum Body: Sendable {
        case bytes([UInt8])
        /// A file streamed in chunks; removed afterwards when `temporary`.
        case file(path: String, size: Int, temporary: Bool)
    }

    var status: HTTPResponseStatus
    var headers: [(String, String)]
    var body: Body

    init(status: HTTPResponseStatus = .ok, headers: [(String, String)] = [], body: Body) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON answer; API answers are never cached.
    static func json(_ value: JSONValue, status: HTTPResponseStatus = .ok) -> UIResponse {
        UIResponse(status: status,
                   headers: [("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-store")],
                   body: .bytes(Array(value.serialized(.compact).utf8)))
    }

    /// `{"error": "…"}` with the error's status.
    static func error(_ error: UIError) -> UIResponse {
        json(["error": .string(error.description)], status: error.status)
    }
}
