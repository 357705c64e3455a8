/// An AMQP URI (RabbitMQ's URI spec, as pika reads it): `amqp[s]://user:password@host:port/vhost?heartbeat=N`.
/// User, password and vhost are percent-decoded; an empty path means the vhost `/`. `description`
/// masks the password, so the URL can be logged.
public struct AMQPURL: Sendable, Equatable, CustomStringConvertible {
    public var tls: Bool
    public var user: String
    public var password: String
    public var host: String
    public var port: Int
    public var virtualHost: String
    /// The heartbeat asked for in seconds (`?heartbeat=`), nil for the client's default.
    public var heartbeat: Int?
    /// Seconds allowed for the TCP connect and the handshake (`?connection_timeout=` or `?socket_timeout=`).
    public var connectTimeout: Double?

    /// pika's default: the local broker's guest account on the default vhost.
    public static let defaultURL = "amqp://guest:guest@localhost:5672/%2F"

    public init(parsing text: String) throws {
        let trimmed = text.trimmingSpaces
        let rest: Substring
        if trimmed.hasPrefix("amqp://") { tls = false; rest = trimmed.dropFirst(7) }
        else if trimmed.hasPrefix("amqps://") { tls = true; rest = trimmed.dropFirst(8) }
        else { throw AMQPError(.configuration, "\(Self.masked(trimmed)) is not an amqp:// or amqps:// URL") }
        let (authority, pathAndQuery) = rest.firstIndex(where: { $0 == "/" || $0 == "?" }).map { (rest[..<$0], rest[$0...]) } ?? (rest, "")
        var hostPort = authority
        user = "guest"
        password = "guest"
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            let colon = credentials.firstIndex(of: ":")
            user = try Self.percentDecoded(colon.map { credentials[..<$0] } ?? credentials)
            password = try colon.map { try Self.percentDecoded(credentials[credentials.index(after: $0)...]) } ?? ""
        }
        let defaultPort = tls ? 5671 : 5672
        if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            port = after.hasPrefix(":") ? Int(after.dropFirst()) ?? -1 : (after.isEmpty ? defaultPort : -1)
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            port = Int(hostPort[hostPort.index(after: colon)...]) ?? -1
        } else {
            host = String(hostPort)
            port = defaultPort
        }
        if host.isEmpty { host = "localhost" }
        guard (1...65535).contains(port) else { throw AMQPError(.configuration, "\(Self.masked(trimmed)) has no valid port") }
        let (path, query) = pathAndQuery.firstIndex(of: "?").map { (pathAndQuery[..<$0], pathAndQuery[pathAndQuery.index(after: $0)...]) }
            ?? (pathAndQuery, "")
        let vhostText = path.hasPrefix("/") ? path.dropFirst() : path
        virtualHost = vhostText.isEmpty ? "/" : try Self.percentDecoded(vhostText)
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "heartbeat", "heartbeat_interval": heartbeat = Int(parts[1])
            case "connection_timeout", "socket_timeout": connectTimeout = Double(parts[1])
            default: break // pika's other settings (connection_attempts, retry_delay, …) have no meaning here
            }
        }
    }

    /// The URL with the password replaced by `***`.
    public var description: String {
        let vhost = virtualHost == "/" ? "%2F" : virtualHost.addingPercentEncodingForPath
        return "\(tls ? "amqps" : "amqp")://\(user):***@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(vhost)"
    }

    /// Any URL-looking text with the password between `:` and `@` masked (for refusing a URL we cannot parse).
    public static func masked(_ text: String) -> String {
        let characters = Array(text)
        guard let scheme = (0..<max(0, characters.count - 2)).first(where: { characters[$0..<$0 + 3] == [":", "/", "/"] }),
              let at = text.lastIndex(of: "@") else { return text }
        let afterScheme = text.index(text.startIndex, offsetBy: scheme + 3)
        guard afterScheme < at else { return text }
        let credentials = text[afterScheme..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }

    static func percentDecoded(_ text: Substring) throws -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw AMQPError(.configuration, "the AMQP URL has a bad %-escape")
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " || $0 == "\n" || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\n" || $0 == "\t" }).reversed())
    }

    var addingPercentEncodingForPath: String {
        var out = ""
        for byte in utf8 {
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-._~".unicodeScalars.contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else {
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }
}
