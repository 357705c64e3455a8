import StudioModel

/// What the experiments list shows of one record, kept in memory for every experiment (a few hundred
/// bytes each, so 10,000 stay well under a megabyte or two; the full record is read only for its page).
struct ExperimentRow: Sendable, Equatable {
    let key: String
    var filename = ""
    var args: [String] = []
    var project: String?
    var owner: String?
    /// The record's status, or `malformed` when the record cannot be read as an experiment.
    var status: String
    var timeAdded: Double?
    var timeStarted: Double?
    var timeFinished: Double?
    var exitCode: Int64?
    var metric: String?
    var reason: String?
    /// Why the record is malformed; nil for a good record.
    var malformed: String?

    /// The row of a stored record; a record that does not parse becomes a `malformed` row saying why.
    init(key: String, data: [UInt8]) {
        self.key = key
        let record: Experiment
        do {
            record = try Experiment(json: JSONValue(parsing: data))
        } catch {
            status = "malformed"
            malformed = "\(error)"
            return
        }
        filename = record.filename
        args = record.args
        project = record.project
        owner = record.owner
        status = record.status.rawValue
        timeAdded = record.timeAdded
        timeStarted = record.timeStarted
        timeFinished = record.timeFinished
        exitCode = record.info["exit_code"]?.int64Value
        metric = record.metric
        reason = record.info["reason"]?.stringValue
        if record.key != key { malformed = "the record's key is '\(record.key)', not '\(key)'" }
    }

    /// A row for a record that could not be read at all.
    init(key: String, unreadable reason: String) {
        self.key = key
        status = "malformed"
        malformed = reason
    }

    /// Seconds it ran: until it finished, or until `now` while it runs.
    func runTime(now: Double) -> Double? {
        guard let started = timeStarted else { return nil }
        if let finished = timeFinished { return max(0, finished - started) }
        return status == "running" ? max(0, now - started) : nil
    }

    /// Whether free text `needle` (lowercased) occurs in what the list shows.
    func matches(text needle: String) -> Bool {
        for field in [key, filename, project ?? "", owner ?? "", status, metric ?? ""] where field.lowercased().contains(needle) {
            return true
        }
        return args.contains { $0.lowercased().contains(needle) }
    }

    /// The row as the API returns it.
    func json(now: Double) -> JSONValue {
        var object: JSONObject = ["key": .string(key), "status": .string(status)]
        object["filename"] = .string(filename)
        object["args"] = .array(args.map { .string($0) })
        object["project"] = project.map { .string($0) } ?? .null
        object["owner"] = owner.map { .string($0) } ?? .null
        object["time_added"] = timeAdded.map { .double($0) } ?? .null
        object["time_started"] = timeStarted.map { .double($0) } ?? .null
        object["time_finished"] = timeFinished.map { .double($0) } ?? .null
        object["run_time"] = runTime(now: now).map { .double($0) } ?? .null
        object["exit_code"] = exitCode.map { .int($0) } ?? .null
        object["metric"] = metric.map { .string($0) } ?? .null
        if let reason { object["reason"] = .string(reason) }
        if let malformed { object["malformed"] = .string(malformed) }
        return .object(object)
    }
}
