import StudioModel
import StudioStorage

/// Every experiment's list row, kept in memory and refreshed incrementally: a refresh lists
/// `experiments/` with each object's version (mtime/inode, ETag) and re-reads only records whose version
/// changed, so watching 10,000 experiments costs one listing, not 10,000 reads, per refresh.
///
/// Every refresh that changes anything bumps `generation`; each row remembers the generation that last
/// changed it, so a client that saw generation G asks "what changed since G" (`since=G`).
actor ExperimentCatalog {
    private struct Entry {
        var version: String?
        var row: ExperimentRow
        var generation: Int
    }

    private let database: any ListableObjectStore
    private let maxAge: Duration
    private var entries: [String: Entry] = [:]
    /// Keys removed, with the generation that removed them (newest last, the last 1,000 kept).
    private var removals: [(key: String, generation: Int)] = []
    private(set) var generation = 0
    /// When the last completed refresh started.
    private var lastRefresh: ContinuousClock.Instant?
    private var running: Task<Void, Never>?
    /// Why the last listing failed; nil when it worked.
    private(set) var listingError: String?

    private static let prefix = "experiments/"
    private static let concurrentReads = 16

    /// A catalog of `database`'s records, re-listed at most once per `maxAge`.
    init(database: any ListableObjectStore, maxAge: Duration = .milliseconds(500)) {
        self.database = database
        self.maxAge = maxAge
    }

    /// The rows, refreshed first unless the last refresh is younger than `maxAge`; nil when nothing changed
    /// after generation `since` (then no rows are copied: the common poll costs one listing).
    func snapshot(unlessUnchangedSince since: Int? = nil) async -> (generation: Int, snapshot: CatalogSnapshot?) {
        await refreshIfStale()
        if let since, since >= generation { return (generation, nil) }
        return (generation, CatalogSnapshot(generation: generation, rows: entries.values.map { ($0.row, $0.generation) },
                                            removals: removals, error: listingError))
    }

    /// Reads every record now, so the first page view does not wait for them. It does not count as a
    /// refresh: that view still lists the store (cheap: only what changed since is read).
    func warm() async {
        guard running == nil else { return }
        let task = Task { await self.refresh() }
        running = task
        await task.value
        if running == task { running = nil }
    }

    /// Forgets what it knows of `key`'s record so the next refresh re-reads it, and makes that refresh happen now.
    func invalidate(_ key: String) {
        entries[key]?.version = nil
        lastRefresh = nil
    }

    /// Refreshes unless a refresh that started less than `maxAge` before this call has completed; joins
    /// one in progress rather than listing twice at once.
    private func refreshIfStale() async {
        let asked = ContinuousClock.now
        while true {
            if let lastRefresh, asked - lastRefresh < maxAge { return }
            if let joined = running {
                await joined.value
                // Awaiting a finished task does not suspend: whoever started it may not have run since to
                // clear it, so clear it here, or this loop would spin on the actor forever.
                if running == joined { running = nil }
                continue
            }
            let started = ContinuousClock.now
            let task = Task { await self.refresh() }
            running = task
            await task.value
            if running == task { running = nil }
            lastRefresh = started
        }
    }

    private func refresh() async {
        let listing: [ListedObject]
        do {
            listing = try await database.listObjects(prefix: Self.prefix, recursive: false)
            listingError = nil
        } catch {
            listingError = "cannot list the database: \(error)"
            return
        }
        var present: Set<String> = []
        var toRead: [(key: String, version: String?)] = []
        for object in listing {
            let name = String(object.key.dropFirst(Self.prefix.count))
            guard !name.isEmpty, !name.contains("/") else { continue } // a store that lists nested keys anyway
            present.insert(name)
            if let known = entries[name], let version = object.version, known.version == version { continue }
            toRead.append((name, object.version))
        }
        let next = generation + 1
        var changed = false
        for (key, _) in entries where !present.contains(key) {
            entries[key] = nil
            removals.append((key, next))
            changed = true
        }
        if removals.count > 1000 { removals.removeFirst(removals.count - 1000) }

        let database = self.database
        var index = 0
        await withTaskGroup(of: (String, String?, ExperimentRow).self) { group in
            func add(_ item: (key: String, version: String?)) {
                group.addTask {
                    do {
                        guard let data = try await database.get(Self.prefix + item.key) else {
                            return (item.key, nil, ExperimentRow(key: item.key, unreadable: "the record vanished while it was being read"))
                        }
                        return (item.key, item.version, ExperimentRow(key: item.key, data: Array(data)))
                    } catch {
                        // No version kept: the next refresh tries again.
                        return (item.key, nil, ExperimentRow(key: item.key, unreadable: "cannot read the record: \(error)"))
                    }
                }
            }
            while index < min(toRead.count, Self.concurrentReads) { add(toRead[index]); index += 1 }
            for await (key, version, row) in group {
                if let old = entries[key], old.row == row {
                    entries[key]?.version = version
                } else {
                    entries[key] = Entry(version: version, row: row, generation: next)
                    changed = true
                }
                if index < toRead.count { add(toRead[index]); index += 1 }
            }
        }
        if changed { generation = next }
    }
}

/// The catalog at one moment.
struct CatalogSnapshot: Sendable {
    var generation: Int
    var rows: [(row: ExperimentRow, generation: Int)]
    var removals: [(key: String, generation: Int)]
    var error: String?

    /// Keys whose row changed after generation `since`.
    func changed(since: Int) -> [String] { rows.filter { $0.generation > since }.map(\.row.key).sorted() }
    /// Keys removed after generation `since`.
    func removed(since: Int) -> [String] { removals.filter { $0.generation > since }.map(\.key) }
}
