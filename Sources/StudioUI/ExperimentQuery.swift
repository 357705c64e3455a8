import StudioModel

/// The list's filters, sort and page, from `GET /api/experiments`'s query string.
struct ExperimentQuery: Sendable {
    var offset = 0
    var limit = 50
    /// Statuses to keep (comma-separated in the query); empty keeps all.
    var statuses: Set<String> = []
    var project: String?
    var owner: String?
    /// Free text, lowercased, matched against key, script, arguments, project, owner, status and metric.
    var text: String?
    var sort = "time_added"
    var descending = true
    /// The generation the client last saw.
    var since: Int?

    static let maxLimit = 1000
    static let sortColumns: Set<String> = [
        "key", "filename", "project", "owner", "status", "time_added", "time_started", "time_finished",
        "run_time", "exit_code", "metric",
    ]

    /// Parses the query; a bad parameter is an error naming it.
    init(_ parameters: [String: String]) throws(UIError) {
        func integer(_ name: String, _ range: ClosedRange<Int>) throws(UIError) -> Int? {
            guard let text = parameters[name], !text.isEmpty else { return nil }
            guard let value = Int(text), range.contains(value) else {
                throw UIError(.badRequest, "\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), not '\(text)'")
            }
            return value
        }
        offset = try integer("offset", 0...Int(Int32.max)) ?? 0
        limit = try integer("limit", 1...Self.maxLimit) ?? 50
        since = try integer("since", 0...Int.max)
        if let status = parameters["status"], !status.isEmpty {
            statuses = Set(status.split(separator: ",").map { String($0) })
        }
        project = parameters["project"].flatMap { $0.isEmpty ? nil : $0 }
        owner = parameters["owner"].flatMap { $0.isEmpty ? nil : $0 }
        text = parameters["q"].flatMap { $0.isEmpty ? nil : $0.lowercased() }
        if let sort = parameters["sort"], !sort.isEmpty {
            guard Self.sortColumns.contains(sort) else {
                throw UIError(.badRequest, "sort must be one of \(Self.sortColumns.sorted().joined(separator: ", ")), not '\(sort)'")
            }
            self.sort = sort
        }
        if let order = parameters["order"], !order.isEmpty {
            guard order == "asc" || order == "desc" else { throw UIError(.badRequest, "order must be asc or desc, not '\(order)'") }
            descending = order == "desc"
        }
    }

    /// Whether `row` passes the filters.
    func keeps(_ row: ExperimentRow) -> Bool {
        if !statuses.isEmpty && !statuses.contains(row.status) { return false }
        if let project, row.project != project { return false }
        if let owner, row.owner != owner { return false }
        if let text, !row.matches(text: text) { return false }
        return true
    }

    /// The rows filtered and sorted; missing values sort last in either order, ties by key.
    func apply(_ rows: [ExperimentRow], now: Double) -> [ExperimentRow] {
        let kept = rows.filter(keeps)
        let descending = self.descending
        func ordered<T: Comparable>(_ value: (ExperimentRow) -> T?) -> [ExperimentRow] {
            kept.map { (value($0), $0) }.sorted { a, b in
                switch (a.0, b.0) {
                case let (x?, y?) where x != y: return descending ? x > y : x < y
                case (nil, _?): return false
                case (_?, nil): return true
                default: return descending ? a.1.key > b.1.key : a.1.key < b.1.key
                }
            }.map(\.1)
        }
        switch sort {
        case "key": return ordered { $0.key }
        case "filename": return ordered { $0.filename + " " + $0.args.joined(separator: " ") }
        case "project": return ordered { $0.project }
        case "owner": return ordered { $0.owner }
        case "status": return ordered { $0.status }
        case "time_started": return ordered { $0.timeStarted }
        case "time_finished": return ordered { $0.timeFinished }
        case "run_time": return ordered { $0.runTime(now: now) }
        case "exit_code": return ordered { $0.exitCode }
        case "metric": return ordered { $0.metric }
        default: return ordered { $0.timeAdded }
        }
    }
}
