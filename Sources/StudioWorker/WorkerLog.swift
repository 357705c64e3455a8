#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Logging
import StudioModel

/// The worker's log on stderr: human-readable lines by default, one JSON object a line with
/// `--log-format json` (for Kubernetes log collectors). Never given a secret: callers log
/// keys, ids and redacted descriptions only.
public struct WorkerLog: Sendable {
    /// How lines are written.
    public enum Format: String, Sendable { case text, json }
    /// How much is written.
    public enum Level: Int, Sendable, Comparable {
        case debug, info, warning, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        var name: String { ["debug", "info", "warning", "error"][rawValue] }
    }

    public var format: Format
    public var level: Level
    /// Fields added to every line (the experiment key, the message id).
    public var context: [String: String] = [:]

    public init(format: Format = .text, level: Level = .info) {
        self.format = format
        self.level = level
    }

    public func debug(_ message: @autoclosure () -> String, _ fields: [String: String] = [:]) { write(.debug, message(), fields) }
    public func info(_ message: @autoclosure () -> String, _ fields: [String: String] = [:]) { write(.info, message(), fields) }
    public func warning(_ message: @autoclosure () -> String, _ fields: [String: String] = [:]) { write(.warning, message(), fields) }
    public func error(_ message: @autoclosure () -> String, _ fields: [String: String] = [:]) { write(.error, message(), fields) }

    /// The same log with `fields` added to every line.
    public func with(_ fields: [String: String]) -> WorkerLog {
        var copy = self
        copy.context.merge(fields) { _, new in new }
        return copy
    }

    private func write(_ level: Level, _ message: String, _ fields: [String: String]) {
        guard level >= self.level else { return }
        // The lines go through swift-log, so anything else that logs through it can share our handler.
        let format = self.format
        var logger = Logger(label: "studio") { _ in StudioLogHandler(format: format, logLevel: .trace) }
        for (key, value) in context { logger[metadataKey: key] = .string(value) }
        let levels: [Logger.Level] = [.debug, .info, .warning, .error]
        logger.log(level: levels[level.rawValue], "\(message)", metadata: fields.mapValues { .string($0) })
    }
}

/// A JSON string literal for `text`.
func jsonString(_ text: String) -> String {
    JSONValue.string(text).serialized(.compact)
}
