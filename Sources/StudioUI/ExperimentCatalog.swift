import StudioModel
import StudioStorage

/// Every experiment's list row, kept in memory and refreshed incrementally. Where writers leave change marks
/// (ours do: `ChangeMark`), a refresh lists only the marks written since the last one and re-reads only those
/// records: its cost follows what changed, not how many experiments the store holds. Every
/// `fullListingInterval`, and at every refresh on a store without marks, it lists `experiments/` with each
/// object's version (mtime/inode, ETag, generation) and re-reads only records whose version changed.
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
    /// When the last completed refresh that counts started.
    private var lastRefresh: ContinuousClock.Instant?
    /// The refresh in progress, if any. It `counts` (answers the requests that join it) unless it is the
    /// start-up read or a change of ours (`invalidate`) came while it ran and it may have missed it.
    private struct RunningRefresh {
        let task: Task<Void, Never>
        let started: ContinuousClock.Instant
        var counts: Bool
    }
    private var running: RunningRefresh?
    /// Why the last listing failed; nil when it worked.
    private(set) var listingError: String?
    /// Whether the store holds change marks: then a refresh lists only the marks written since the last one,
    /// and the whole of `experiments/` only every `fullListingInterval` (for writers that leave no marks:
    /// StudioML's), instead of at every refresh.
    private var storeHasMarks = false
    private var cursor: ChangeMarkCursor?
    private var lastFullListing: ContinuousClock.Instant?
    private var lastPrune: ContinuousClock.Instant?
    private var pruning = false

    private static let prefix = "experiments/"
    private static let concurrentReads = 16
    private static let markLifetime: Int64 = 3_600_000
    private static let pruneInterval: Duration = .seconds(600)
    private static let prunedPerPass = 10_000

    private let fullListingInterval: Duration
    private let markSkew: Int64

    /// A catalog of `database`'s records, refreshed at most once per `maxAge`; where the store has change
    /// marks, listed whole every `fullListingInterval`, and following marks from `markSkew` milliseconds
    /// before each full listing (how far writers' clocks may lag ours).
    init(database: any ListableObjectStore, maxAge: Duration = .milliseconds(500),
         fullListingInterval: Duration = .seconds(30), markSkew: Int64 = 10_000) {
        self.database = database
        self.maxAge = maxAge
        self.fullListingInterval = fullListingInterval
        self.markSkew = markSkew
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
        await run(counting: false)
    }

    /// Forgets what it knows of `key`'s record so the next refresh re-reads it, and makes that refresh happen
    /// now: one in progress may have read the record before the change, so it no longer counts.
    func invalidate(_ key: String) {
        entries[key]?.version = nil
        lastRefresh = nil
        running?.counts = false
    }

    /// Refreshes unless a refresh that started less than `maxAge` before this call has completed; joins
    /// one in progress rather than listing twice at once, and is answered by it when it counts.
    private func refreshIfStale() async {
        let asked = ContinuousClock.now
        while true {
            if let lastRefresh, asked - lastRefresh < maxAge { return }
            if let joined = running {
                await joined.task.value
                // Whoever started it may not have run since (awaiting a finished task does not suspend), so
                // finish it here: its start becomes `lastRefresh` before the check above looks again.
                finish(joined.task)
                continue
            }
            await run(counting: true)
        }
    }

    private func run(counting: Bool) async {
        let task = Task { await self.refresh() }
        running = RunningRefresh(task: task, started: .now, counts: counting)
        await task.value
        finish(task)
    }

    /// Clears `task` from `running` (once: the starter and the joiners all call this) and, if it counts,
    /// records when it started.
    private func finish(_ task: Task<Void, Never>) {
        guard let done = running, done.task == task else { return }
        running = nil
        if done.counts, lastRefresh.map({ $0 < done.started }) ?? true { lastRefresh = done.started }
    }

    private func refresh() async {
        if storeHasMarks, var cursor, let last = lastFullListing, ContinuousClock.now - last < fullListingInterval,
           let listing = try? await database.listObjects(prefix: ChangeMark.prefix, recursive: true, startAfter: cursor.position) {
            let changed = cursor.take(listing, now: ChangeMark.wallClockMilliseconds())
            self.cursor = cursor
            listingError = nil
            await read(changed.sorted().map { ($0, nil) })
            return
        }
        await listEverything()
    }

    /// Lists every record and reads those whose version changed; then looks for change marks, so the
    /// refreshes until the next full listing can follow them instead.
    private func listEverything() async {
        let started = ContinuousClock.now
        let startedWall = ChangeMark.wallClockMilliseconds()
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
        let gone = entries.keys.filter { !present.contains($0) }
        await read(toRead, removing: gone)
        lastFullListing = started
        // Marks written from shortly before this listing on may be of changes it did not see yet.
        if cursor == nil { cursor = ChangeMarkCursor(from: startedWall, skew: markSkew) }
        if !storeHasMarks {
            let lastHour = ChangeMark.position(startedWall - Self.markLifetime)
            storeHasMarks = (try? await database.listObjects(prefix: ChangeMark.prefix, recursive: true, startAfter: lastHour))?
                .contains { ChangeMark(objectKey: $0.key) != nil } ?? false
        }
        if lastPrune == nil { lastPrune = started } // the first pass one interval after start
        if storeHasMarks, !pruning, let lastPrune, started - lastPrune >= Self.pruneInterval {
            pruning = true
            self.lastPrune = started
            Task { await self.pruneMarks() }
        }
    }

    /// Reads the records of `toRead`, 16 at a time, and drops the rows of `gone` and of records that are no
    /// longer there; whatever changed gets the next generation.
    private func read(_ toRead: [(key: String, version: String?)], removing gone: [String] = []) async {
        let next = generation + 1
        var changed = false
        var missing = gone
        for (key, version, row) in await Self.fetch(toRead, from: database) {
            guard let row else { missing.append(key); continue }
            if let old = entries[key], old.row == row {
                entries[key]?.version = version
            } else {
                entries[key] = Entry(version: version, row: row, generation: next)
                changed = true
            }
        }
        for key in missing where entries.removeValue(forKey: key) != nil {
            removals.append((key, next))
            changed = true
        }
        if removals.count > 1000 { removals.removeFirst(removals.count - 1000) }
        if changed { generation = next }
    }

    /// Each record's row (nil when there is no record), read `concurrentReads` at a time.
    private static func fetch(_ toRead: [(key: String, version: String?)], from database: any ListableObjectStore) async
        -> [(String, String?, ExperimentRow?)] {
        await withTaskGroup(of: (String, String?, ExperimentRow?).self) { group in
            var results: [(String, String?, ExperimentRow?)] = []
            for (index, item) in toRead.enumerated() {
                if index >= concurrentReads, let result = await group.next() { results.append(result) }
                group.addTask {
                    do {
                        guard let data = try await database.get(prefix + item.key) else { return (item.key, nil, nil) }
                        return (item.key, item.version, ExperimentRow(key: item.key, data: Array(data)))
                    } catch {
                        // No version kept: the next refresh tries again.
                        return (item.key, nil, ExperimentRow(key: item.key, unreadable: "cannot read the record: \(error)"))
                    }
                }
            }
            for await result in group { results.append(result) }
            return results
        }
    }

    /// Deletes change marks older than `markLifetime` (up to `prunedPerPass` a pass): no reader needs them.
    private func pruneMarks() async {
        defer { pruning = false }
        let cutoff = ChangeMark.position(ChangeMark.wallClockMilliseconds() - Self.markLifetime)
        guard let listing = try? await database.listObjects(prefix: ChangeMark.prefix, recursive: true, startAfter: nil) else { return }
        let old = listing.lazy.map(\.key).filter { $0.precedesInKeyOrder(cutoff) }.prefix(Self.prunedPerPass)
        let database = self.database
        await withTaskGroup(of: Void.self) { group in
            for (index, key) in old.enumerated() {
                if index >= Self.concurrentReads { await group.next() }
                group.addTask { try? await database.delete(key) }
            }
        }
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
