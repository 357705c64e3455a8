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
    /// The metric column's generation the client last saw (`metrics_since`).
    var metricsSince: Int?
    /// The running and waiting rows on the client's page whose metric it shows (`metrics`, keys joined by
    /// `/`, which no key contains): a `since` answer carries those of their values that changed.
    var metricKeys: [String] = []

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
        metricsSince = try integer("metrics_since", 0...Int.max)
        if let keys = parameters["metrics"], !keys.isEmpty {
            metricKeys = Array(keys.split(separator: "/").prefix(Self.maxLimit).map { String($0) })
        }
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

    /// How many rows pass the filters, and the requested page of them in order: sorted by `sort`, missing
    /// values last in either order, ties by key.
    /// `rows` are the catalog's own (not copied out of it first: 10,000 rows are 2 MB, allocated anew by each
    /// answer and, as glibc's arenas keep such blocks, 4 MiB more RSS).
    func page(_ rows: [(row: ExperimentRow, generation: Int)], now: Double) -> (total: Int, rows: [ExperimentRow]) {
        let ordered = order(rows, now: now)
        return (ordered.count, ordered.dropFirst(offset).prefix(limit).map { rows[$0].row })
    }

    /// The indices of the rows that pass the filters, sorted. Indices and the sort values are sorted, not the
    /// rows themselves: a row is a dozen reference-counted fields, and moving 10,000 of them through a sort
    /// cost more than the comparisons (the list's first answer spent most of its time there).
    private func order(_ rows: [(row: ExperimentRow, generation: Int)], now: Double) -> [Int] {
        let kept = rows.indices.filter { keeps(rows[$0].row) }
        let descending = self.descending
        func ordered<T: Comparable>(_ value: (ExperimentRow) -> T?) -> [Int] {
            kept.map { (value(rows[$0].row), $0) }.sorted { a, b in
                switch (a.0, b.0) {
                case let (x?, y?) where x != y: return descending ? x > y : x < y
                case (nil, _?): return false
                case (_?, nil): return true
                default: return descending ? rows[a.1].row.key > rows[b.1].row.key : rows[a.1].row.key < rows[b.1].row.key
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

/// What the list's filters offer: each status with its count, the projects and the owners, in one pass.
struct ListFacets {
    var statuses = JSONObject()
    var projects: [String]
    var owners: [String]

    init(_ rows: [(row: ExperimentRow, generation: Int)]) {
        var counts: [String: Int] = [:]
        var projects: Set<String> = []
        var owners: Set<String> = []
        for (row, _) in rows {
            counts[row.status, default: 0] += 1
            if let project = row.project { projects.insert(project) }
            if let owner = row.owner { owners.insert(owner) }
        }
        for (status, count) in counts.sorted(by: { $0.key < $1.key }) { statuses[status] = .int(Int64(count)) }
        self.projects = projects.sorted()
        self.owners = owners.sorted()
    }
}
