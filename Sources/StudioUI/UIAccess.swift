import NIOHTTP1

/// Who may use the UI: the checks run on every request before any route.
///
/// - With a token, every request must carry it: `Authorization: Bearer T`, or the `studio_ui_token` cookie
///   that visiting `/?token=T` sets (HttpOnly, SameSite=Strict).
/// - Without a token the server binds only to loopback, and a request must name a loopback host in `Host`:
///   a web page cannot then reach it through DNS rebinding (a hostile name resolved to 127.0.0.1).
/// - A state-changing POST must come from the UI's own page: `Sec-Fetch-Site`, when sent, is `same-origin`
///   or `none`; `Origin`, when sent, names this server's host; and the request carries the header
///   `X-Studio-UI: 1` or the bearer token, which a cross-site form cannot send without a CORS preflight
///   that this server never grants.
struct UIAccess: Sendable {
    let token: String?

    static let cookieName = "studio_ui_token"
    static let customHeader = "X-Studio-UI"

    /// Whether `host` is a loopback address or name; a server without a token binds only to these.
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }

    /// Throws unless the request may go on.
    func check(_ request: UIRequest) throws(UIError) {
        if let token {
            guard let offered = offeredToken(request), Self.constantTimeEqual(offered, token) else {
                throw UIError(.unauthorized, "a token is needed: open the URL with ?token=… once, or send Authorization: Bearer …")
            }
        } else {
            guard let host = request.header("Host").map(Self.hostName), Self.isLoopback(host) else {
                throw UIError(.forbidden, "this server answers only requests for a loopback host (127.0.0.1, localhost); start it with --token to serve other names")
            }
        }
    }

    /// Throws unless a state-changing request comes from the UI's own origin.
    func checkSameOrigin(_ request: UIRequest) throws(UIError) {
        if let site = request.header("Sec-Fetch-Site"), site != "same-origin", site != "none" {
            throw UIError(.forbidden, "cross-site request refused (Sec-Fetch-Site: \(site))")
        }
        if let origin = request.header("Origin") {
            let originHost = origin.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init)
            guard let originHost, originHost == request.header("Host") else {
                throw UIError(.forbidden, "cross-site request refused (Origin: \(origin))")
            }
        }
        let bearer = request.header("Authorization").map { $0.hasPrefix("Bearer ") } ?? false
        guard request.header(Self.customHeader) == "1" || bearer else {
            throw UIError(.forbidden, "a state-changing request needs the header \(Self.customHeader): 1")
        }
    }

    /// The token a request offers: the bearer header first, then the cookie.
    private func offeredToken(_ request: UIRequest) -> String? {
        if let authorization = request.header("Authorization"), authorization.hasPrefix("Bearer ") {
            return String(authorization.dropFirst("Bearer ".count))
        }
        for header in request.headers[canonicalForm: "Cookie"] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingSpaces == Self.cookieName { return String(parts[1].trimmingSpaces) }
            }
        }
        return nil
    }

    /// `host:port` or `[v6]:port` → the host part.
    static func hostName(_ header: String) -> String {
        if header.hasPrefix("["), let end = header.firstIndex(of: "]") { return String(header[...end]) }
        return String(header.prefix { $0 != ":" })
    }

    /// Compares without an early exit, so timing does not tell how much of a guess was right.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}
