import StudioModel
import StudioStorage

/// `studio run --metric name[:min|:max]`: which TensorBoard tag fills the list's metric column, and
/// whether it shows the tag's minimum, maximum or last value.
struct MetricSpec: Sendable, Equatable {
    enum Mode: String, Sendable { case last, min, max }
    var tag: String
    var mode: Mode

    init?(_ text: String) {
        if text.hasSuffix(":min") { tag = String(text.dropLast(4)); mode = .min }
        else if text.hasSuffix(":max") { tag = String(text.dropLast(4)); mode = .max }
        else { tag = text; mode = .last }
        guard !tag.isEmpty else { return nil }
    }
}

/// The metric column's values for the rows on a page: read from the experiment's scalars, kept until the
/// row's status changes, and re-read at most every `maxAge` while it waits or runs.
actor MetricColumn {
    private struct Entry {
        var status: String
        var at: ContinuousClock.Instant
        var value: JSONValue
    }

    private let database: any ListableObjectStore
    private let scalars: ExperimentScalars
    private let maxAge: Duration
    private var entries: [String: Entry] = [:]

    init(database: any ListableObjectStore, scalars: ExperimentScalars, maxAge: Duration = .seconds(5)) {
        self.database = database
        self.scalars = scalars
        self.maxAge = maxAge
    }

    /// `{"tag", "mode", "value", "min", "max", "last", "count"}` for the row, or nil when it names no metric.
    func value(for row: ExperimentRow) async -> JSONValue? {
        guard let text = row.metric, let spec = MetricSpec(text) else { return nil }
        let now = ContinuousClock.now
        if let entry = entries[row.key], entry.status == row.status,
           !(row.status == "running" || row.status == "waiting") || now - entry.at < maxAge {
            return entry.value
        }
        var answer: JSONObject = ["tag": .string(spec.tag), "mode": .string(spec.mode.rawValue)]
        if let data = try? await database.get("experiments/" + row.key), let record = try? Experiment(parsing: data),
           let found = try? await scalars.scalars(row.key, record: record) {
            if case .object(let summary) = UIRouter.summary(spec.tag, found.series[spec.tag] ?? []) {
                for (name, value) in summary where name != "tag" { answer[name] = value }
                answer["value"] = summary[spec.mode.rawValue] ?? .null
            }
            if !found.malformed.isEmpty { answer["malformed"] = .string(found.malformed.joined(separator: "; ")) }
        }
        let value = JSONValue.object(answer)
        entries[row.key] = Entry(status: row.status, at: now, value: value)
        if entries.count > 20_000 { entries.removeAll() }
        return value
    }
}
