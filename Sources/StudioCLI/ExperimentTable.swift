#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioModel

/// Text renderings of experiment records for `studio status`.
enum ExperimentTable {
    /// One line a record: key, status, when added, how long it ran, exit code.
    static func table(_ records: [Experiment]) -> String {
        var rows: [[String]] = [["KEY", "STATUS", "ADDED (UTC)", "RAN", "EXIT"]]
        for record in records {
            rows.append([
                record.key,
                record.status.rawValue,
                record.timeAdded.map(time) ?? "-",
                ran(record),
                record.info["exit_code"].map { $0.serialized() } ?? "-",
            ])
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    /// Every field worth reading about one record.
    static func detail(_ record: Experiment) -> String {
        var lines = [
            "key:         \(record.key)",
            "status:      \(record.status.rawValue)",
            "command:     \(([record.filename] + record.args).joined(separator: " "))",
            "added:       \(record.timeAdded.map(time) ?? "-")",
            "started:     \(record.timeStarted.map(time) ?? "-")",
            "checkpoint:  \(record.timeLastCheckpoint.map(time) ?? "-")",
            "finished:    \(record.timeFinished.map(time) ?? "-")",
            "ran:         \(ran(record))",
        ]
        for (name, value) in record.info.sorted(by: { $0.key < $1.key }) {
            lines.append("info.\(name): ".padding(13) + (value.stringValue ?? value.serialized()))
        }
        for (tag, artifact) in record.orderedArtifacts {
            lines.append("artifact:    \(tag) → \(artifact.key ?? artifact.url ?? "-")\(artifact.mutable ? "" : " (immutable)")")
        }
        return lines.joined(separator: "\n")
    }

    private static func ran(_ record: Experiment) -> String {
        guard let started = record.timeStarted else { return "-" }
        let end = record.timeFinished ?? Date.now.timeIntervalSince1970
        // Record times are outside data: NaN or 1e300 must print "-", not trap in Int(_:).
        guard let elapsed = Int(exactly: (end - started).rounded(.towardZero)) else { return "-" }
        let seconds = max(0, elapsed)
        return seconds >= 3600 ? "\(seconds / 3600)h\(seconds % 3600 / 60)m" : seconds >= 60 ? "\(seconds / 60)m\(seconds % 60)s" : "\(seconds)s"
    }

    /// `2026-11-28 22:39:43` for an epoch time.
    static func time(_ epoch: Double) -> String {
        // Years past 9999 (or NaN) from a hostile record are shown as the number, not handed to the formatter.
        guard abs(epoch) < 253_402_300_800 else { return String(epoch) }
        return Date(timeIntervalSince1970: epoch).formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon).dateTimeSeparator(.space))
    }
}

private extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
