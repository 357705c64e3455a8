/// The parts of a request URL that SigV4 signs, split without Foundation's URL (which re-encodes paths).
struct AWSRequestURL: Sendable {
    var scheme: String
    /// `host[:port]`, the port kept only when it is not the scheme's default; this is the `Host` header value.
    var authority: String
    /// The path as sent on the wire (already percent-encoded by the caller); "/" when empty.
    var path: String
    /// The raw query after `?`, without the fragment; "" when none.
    var query: String

    init(_ text: String) throws {
        guard let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://") else {
            throw CredentialsError(.invalidURL, "cannot sign '\(text)': expected an absolute URL such as https://host/path")
        }
        scheme = text[..<colon].lowercased()
        var rest = text[text.index(colon, offsetBy: 3)...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var hostPort = rest[..<authorityEnd]
        if let at = hostPort.lastIndex(of: "@") { hostPort = hostPort[hostPort.index(after: at)...] }
        guard !hostPort.isEmpty else {
            throw CredentialsError(.invalidURL, "cannot sign '\(text)': the URL has no host")
        }
        var host = String(hostPort).lowercased()
        // Drop a default port: clients send `Host` without it, and the signature must match what is sent.
        if let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") {
            let port = host[host.index(after: colon)...]
            if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
                host = String(host[..<colon])
            }
        }
        authority = host
        let pathAndQuery = rest[authorityEnd...]
        if let questionMark = pathAndQuery.firstIndex(of: "?") {
            path = String(pathAndQuery[..<questionMark])
            query = String(pathAndQuery[pathAndQuery.index(after: questionMark)...])
        } else {
            path = String(pathAndQuery)
            query = ""
        }
        if path.isEmpty { path = "/" }
    }

    /// `scheme://authority/path`, without the query.
    var withoutQuery: String { scheme + "://" + authority + path }

    /// The query's `name=value` pairs, percent-decoded (a bare name has value "").
    var queryItems: [(name: String, value: String)] {
        query.split(separator: "&", omittingEmptySubsequences: true).map { piece in
            if let equals = piece.firstIndex(of: "=") {
                return (PercentEncoding.decode(String(piece[..<equals])),
                        PercentEncoding.decode(String(piece[piece.index(after: equals)...])))
            }
            return (PercentEncoding.decode(String(piece)), "")
        }
    }
}
