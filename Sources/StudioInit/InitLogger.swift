#if canImport(Glibc)
import Glibc
#endif

/// Writes the init's events (spawn, signal, reap, escalation, exit) to stderr: quiet, text or JSON lines.
public struct InitLogger: Sendable {
    /// The chosen format; `.quiet` writes nothing but errors.
    public var format: InitOptions.LogFormat

    /// A logger in this format.
    public init(format: InitOptions.LogFormat) { self.format = format }

    /// Whether events are written at all (so callers can skip building them).
    public var isEnabled: Bool { format != .quiet }

    /// One event with its fields (string or integer values), stamped with the time and the init's pid.
    /// `fields` is built only when events are written: the quiet default costs nothing.
    public func event(_ name: String, _ fields: @autoclosure () -> KeyValuePairs<String, LogValue> = [:]) {
        guard isEnabled else { return }
        let fields = fields()
        var line: String
        switch format {
        case .quiet: return
        case .json:
            line = "{\"time\":\"\(Self.timestamp())\",\"source\":\"studio-init\",\"event\":\"\(name)\",\"init_pid\":\(getpid())"
            for (key, value) in fields { line += ",\"\(key)\":\(value.json)" }
            line += "}\n"
        case .text:
            line = "studio init: \(Self.timestamp()) \(name)"
            for (key, value) in fields { line += " \(key)=\(value.text)" }
            line += "\n"
        }
        Self.writeToStandardError(line)
    }

    /// An error line, written in every format (JSON lines stay JSON).
    public func error(_ message: String) { alert("error", message, textPrefix: "") }

    /// A warning line, written in every format: `studio init: warning: …`, or a JSON `warning` event.
    public func warning(_ message: String) { alert("warning", message, textPrefix: "warning: ") }

    private func alert(_ event: String, _ message: String, textPrefix: String) {
        if format == .json {
            Self.writeToStandardError("{\"time\":\"\(Self.timestamp())\",\"source\":\"studio-init\",\"event\":\"\(event)\",\"init_pid\":\(getpid()),\"message\":\(LogValue.string(message).json)}\n")
        } else {
            Self.writeToStandardError("studio init: \(textPrefix)\(message)\n")
        }
    }

    /// Writes all of `text` to fd 2, retrying on EINTR and short writes.
    static func writeToStandardError(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
        bytes.removeAll()
    }

    /// UTC, RFC 3339 with milliseconds.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}

/// A field value in a log event.
public enum LogValue: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case string(String)
    case integer(Int64)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    /// An integer field.
    public static func int<T: BinaryInteger>(_ value: T) -> LogValue { .integer(Int64(value)) }

    var text: String {
        switch self {
        case .string(let value): return value.contains(" ") ? "\"\(value)\"" : value
        case .integer(let value): return String(value)
        }
    }

    var json: String {
        switch self {
        case .integer(let value): return String(value)
        case .string(let value):
            var escaped = "\""
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": escaped += "\\\""
                case "\\": escaped += "\\\\"
                case "\n": escaped += "\\n"
                case "\r": escaped += "\\r"
                case "\t": escaped += "\\t"
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    escaped += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: escaped.unicodeScalars.append(scalar)
                }
            }
            return escaped + "\""
        }
    }
}
