#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Logging

/// The worker's swift-log handler: one text line, or one JSON object a line (`--log-format json`), on stderr,
/// in the format the worker has always written (docs/development.md says why swift-log).
struct StudioLogHandler: LogHandler {
    var format: WorkerLog.Format
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let time = Date.now.formatted(.iso8601.year().month().day().timeZone(separator: .omitted).time(includingFractionalSeconds: true).timeSeparator(.colon).dateSeparator(.dash))
        let name = "\(event.level)"
        var line: String
        switch format {
        case .text:
            line = "\(time) \(name) studio: \(event.message)"
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
        case .json:
            line = "{\"time\":\(jsonString(time)),\"level\":\"\(name)\",\"msg\":\(jsonString("\(event.message)"))"
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) { line += ",\(jsonString(key)):\(jsonString("\(value)"))" }
            line += "}"
        }
        line += "\n"
        line.withCString { _ = Glibc.write(STDERR_FILENO, $0, strlen($0)) }
    }
}
