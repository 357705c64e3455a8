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
///
/// A running experiment's value changes when its event files grow, not when its record does, so the list's
/// `since` poll (rows whose record changed) never carries it. Each value therefore remembers the column's
/// `generation` at which it last changed, and `changes(_:since:)` hands a poll the values of the page's
/// running rows that changed after the generation the page last saw.
actor MetricColumn {
    private struct Entry {
        var status: String
        var metric: String
        var at: ContinuousClock.Instant
        var value: JSONValue
        /// The generation at which `value` was first read or last differed from the one before.
        var changed: Int
    }

    private let database: any ListableObjectStore
    private let scalars: ExperimentScalars
    private let maxAge: Duration
    private var entries: [String: Entry] = [:]
    /// Bumped whenever a value is read for the first time or re-read and found different.
    private(set) var generation = 0

    init(database: any ListableObjectStore, scalars: ExperimentScalars, maxAge: Duration = .seconds(5)) {
        self.database = database
        self.scalars = scalars
        self.maxAge = maxAge
    }

    /// `{"tag", "mode", "value", "min", "max", "last", "count"}` for the row, or nil when it names no metric.
    func value(for row: ExperimentRow) async -> JSONValue? {
        guard let text = row.metric, let spec = MetricSpec(text) else { return nil }
        if let entry = entries[row.key], entry.status == row.status, entry.metric == text,
           !Self.isLive(row.status) || ContinuousClock.now - entry.at < maxAge {
            return entry.value
        }
        return await read(row.key, metric: text, spec: spec, status: row.status)
    }

    /// The values that changed after generation `since` among `keys` (the running and waiting rows a page
    /// shows), each re-read when older than `maxAge`. Keys this column has not read a value for (never on a
    /// page, or with no metric) and rows that are over are left out: their record's next change brings them.
    func changes(_ keys: [String], since: Int) async -> (generation: Int, values: JSONObject) {
        var values = JSONObject()
        for key in keys {
            guard let entry = entries[key], Self.isLive(entry.status), let spec = MetricSpec(entry.metric) else { continue }
            if ContinuousClock.now - entry.at >= maxAge {
                _ = await read(key, metric: entry.metric, spec: spec, status: entry.status)
            }
            if let entry = entries[key], entry.changed > since { values[key] = entry.value }
        }
        return (generation, values)
    }

    private static func isLive(_ status: String) -> Bool { status == "running" || status == "waiting" }

    private func read(_ key: String, metric: String, spec: MetricSpec, status: String) async -> JSONValue {
        let now = ContinuousClock.now
        var answer: JSONObject = ["tag": .string(spec.tag), "mode": .string(spec.mode.rawValue)]
        if let data = try? await database.get("experiments/" + key), let record = try? Experiment(parsing: data),
           let found = try? await scalars.scalars(key, record: record) {
            if case .object(let summary) = UIRouter.summary(spec.tag, found.series[spec.tag] ?? []) {
                for (name, value) in summary where name != "tag" { answer[name] = value }
                answer["value"] = summary[spec.mode.rawValue] ?? .null
            }
            if !found.malformed.isEmpty { answer["malformed"] = .string(found.malformed.joined(separator: "; ")) }
        }
        let value = JSONValue.object(answer)
        var changed = entries[key]?.changed ?? 0
        if entries[key]?.value != value {
            generation += 1
            changed = generation
        }
        if entries.count >= 20_000 { entries.removeAll() }
        entries[key] = Entry(status: status, metric: metric, at: now, value: value, changed: changed)
        return value
    }
}
