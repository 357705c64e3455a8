#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioHTTP

/// Plain http(s) downloads as a read-only object store whose keys are absolute URLs: StudioML's `url`
/// artifacts. Redirects are followed (up to `maxRedirects`), bodies stream to files in constant memory,
/// no credentials are sent; every write is refused, as such artifacts are download-only.
public struct HTTPObjectSource: ObjectStore {
    /// The client every request goes through.
    public let transport: HTTPTransport
    /// Redirects followed before giving up.
    public let maxRedirects: Int
    /// Retries on connection failures, 429 and 5xx.
    public let retry: RetryPolicy

    /// A source on `transport` (the process's shared client by default).
    public init(transport: HTTPTransport = .shared, maxRedirects: Int = 10, retry: RetryPolicy = .standard) {
        self.transport = transport
        self.maxRedirects = maxRedirects
        self.retry = retry
    }

    public func get(_ url: String) async throws -> Data? {
        let reply = try await follow("GET", url) { spec in try await transport.send(spec) }
        if Self.isMissing(reply.status) { return nil }
        try check(reply, url)
        return Data(reply.body)
    }

    public func exists(_ url: String) async throws -> Bool {
        let reply = try await follow("HEAD", url) { spec in try await transport.send(spec, maxBodyBytes: 0) }
        if Self.isMissing(reply.status) { return false }
        try check(reply, url)
        return true
    }

    public func download(_ url: String, toFile path: String) async throws -> Bool {
        // Into a neighbour first, so a failed transfer never leaves a truncated file at `path`.
        let partial = path + ".part-\(getpid())"
        defer { unlink(partial) }
        let reply = try await follow("GET", url) { spec in try await transport.download(spec, toFile: partial) }
        if Self.isMissing(reply.status) { return false }
        try check(reply, url)
        guard rename(partial, path) == 0 else {
            throw StorageError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return true
    }

    public func put(_ url: String, _ data: Data) async throws { throw Self.readOnly(url) }
    public func upload(_ url: String, fromFile path: String) async throws { throw Self.readOnly(url) }
    public func delete(_ url: String) async throws { throw Self.readOnly(url) }

    /// 404 and 410 mean "no such object"; every other non-2xx answer is an error.
    static func isMissing(_ status: Int) -> Bool { status == 404 || status == 410 }

    static func readOnly(_ url: String) -> StorageError {
        StorageError("http(s) artifacts are download-only: cannot write \(HTTPTransport.redactedURL(url)); use a gs:// or s3:// location for an artifact the experiment writes")
    }

    /// Sends `method url` through `exchange`, retrying transient failures and following redirects;
    /// returns the first answer that is not a redirect.
    private func follow(_ method: String, _ url: String,
                        _ exchange: @Sendable (HTTPRequestSpec) async throws -> HTTPReply) async throws -> HTTPReply {
        guard Self.isHTTP(url) else {
            throw StorageError("'\(HTTPTransport.redactedURL(url))' is not an http(s) URL")
        }
        var current = url
        for _ in 0...maxRedirects {
            let reply = try await attempt(method, current, exchange)
            guard [301, 302, 303, 307, 308].contains(reply.status) else { return reply }
            guard let location = reply.header("Location"), !location.isEmpty else {
                throw StorageError("\(method) \(HTTPTransport.redactedURL(current)) answered HTTP \(reply.status) without a Location header")
            }
            current = Self.resolve(location, against: current)
            guard Self.isHTTP(current) else {
                throw StorageError("\(HTTPTransport.redactedURL(url)) redirects to \(HTTPTransport.redactedURL(current)), which is not http(s)")
            }
        }
        throw StorageError("\(HTTPTransport.redactedURL(url)) redirected more than \(maxRedirects) times; check the URL")
    }

    private func attempt(_ method: String, _ url: String,
                         _ exchange: @Sendable (HTTPRequestSpec) async throws -> HTTPReply) async throws -> HTTPReply {
        do {
            return try await retry.run { try await exchange(HTTPRequestSpec(method: method, url: url)) }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw StorageError("cannot download \(HTTPTransport.redactedURL(url)): \(error)")
        }
    }

    private func check(_ reply: HTTPReply, _ url: String) throws {
        guard reply.isSuccess else {
            let text = reply.bodyText.split(whereSeparator: \.isNewline).first.map { String($0.prefix(200)) } ?? ""
            throw StorageError("cannot download \(HTTPTransport.redactedURL(url)): HTTP \(reply.status)\(text.isEmpty ? "" : " (\(text))")")
        }
    }

    static func isHTTP(_ url: String) -> Bool {
        let lower = url.lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://")
    }

    /// A `Location` value made absolute: absolute URLs as they are, `//host/…` with the current scheme,
    /// `/path` on the current host, anything else relative to the current path's directory.
    static func resolve(_ location: String, against base: String) -> String {
        if isHTTP(location) { return location }
        guard let schemeEnd = base.firstRange(of: "://") else { return location }
        let scheme = base[..<schemeEnd.lowerBound]
        if location.hasPrefix("//") { return scheme + ":" + location }
        let afterScheme = base[schemeEnd.upperBound...]
        let hostEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? afterScheme.endIndex
        let origin = String(base[..<hostEnd])
        if location.hasPrefix("/") { return origin + location }
        var path = String(afterScheme[hostEnd...])
        if let cut = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = String(path[..<cut]) }
        let directory = path.lastIndex(of: "/").map { String(path[...$0]) } ?? "/"
        return origin + directory + location
    }

    /// The last segment of a URL's path (query and fragment left out), for naming a downloaded file;
    /// nil when the path ends in `/` or is empty.
    public static func fileName(of url: String) -> String? {
        var rest = Substring(url)
        if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
        if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<cut] }
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let name = rest[slash...].split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? ""
        return name.isEmpty || name == "." || name == ".." ? nil : name
    }
}
