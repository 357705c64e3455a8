import Foundation
import StudioModel
import StudioStorage
@testable import StudioUI
@testable import StudioWorker
import XCTest

/// The catalog's refresh bookkeeping.
final class ExperimentCatalogTests: XCTestCase {
    /// A local store whose listings take 300 ms, so a request surely arrives while the start-up read runs.
    private struct SlowListing: LocalStoreWrapper {
        let store: LocalObjectStore
        func listObjects(prefix: String, recursive: Bool, startAfter: String?) async throws -> [ListedObject] {
            try await Task.sleep(for: .milliseconds(300))
            return try await store.listObjects(prefix: prefix, recursive: recursive, startAfter: startAfter)
        }
    }

    /// A list request that joins the start-up read once spun forever on the actor (awaiting a finished task
    /// does not suspend, so the warm-up never ran again to clear it): the first page view hung.
    func testARequestDuringTheStartUpReadIsAnswered() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = LocalObjectStore(root: directory)
        try await store.put("experiments/a", Data(#"{"key": "a", "filename": "t.py", "status": "finished", "time_added": 1}"#.utf8))
        let catalog = ExperimentCatalog(database: SlowListing(store: store))
        let warming = Task { await catalog.warm() }
        try await Task.sleep(for: .milliseconds(50))
        let answered = try await withThrowingTaskGroup(of: Int?.self) { group in
            group.addTask { await catalog.snapshot().snapshot?.rows.count }
            group.addTask { try await Task.sleep(for: .seconds(10)); throw CancellationError() }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        XCTAssertEqual(answered, 1)
        await warming.value
    }

    /// Two page views 10 ms apart: the second joins the refresh the first started and is answered by it
    /// (it once listed the store again when it resumed before the refresh's starter had recorded it).
    func testARequestThatJoinsARefreshDoesNotListAgain() async throws {
        let (local, directory) = temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await local.put("experiments/a", Data(#"{"key": "a", "filename": "t.py", "status": "finished", "time_added": 1}"#.utf8))
        let counted = CountingObjectStore(SlowListing(store: local))
        _ = await ExperimentCatalog(database: counted).snapshot()
        let oneRefresh = counted.counts.listings
        XCTAssertGreaterThan(oneRefresh, 0)

        counted.reset()
        let catalog = ExperimentCatalog(database: counted)
        async let first = catalog.snapshot()
        try await Task.sleep(for: .milliseconds(10))
        async let second = catalog.snapshot()
        let (a, b) = await (first, second)
        XCTAssertEqual(a.snapshot?.rows.count, 1)
        XCTAssertEqual(b.snapshot?.rows.count, 1)
        XCTAssertEqual(counted.counts.listings, oneRefresh, "two requests 10 ms apart listed the store twice")
    }

    /// Holds listings of the change marks (the last step of a full refresh) until `open()`, and says when
    /// one arrives, so a test can act while a refresh is surely past its reads and not yet done.
    private actor Gate {
        private var arrived: [CheckedContinuation<Void, Never>] = []
        private var waiting: [CheckedContinuation<Void, Never>] = []
        private var reached = false
        private var isOpen = false
        func pass() async {
            reached = true
            arrived.forEach { $0.resume() }
            arrived = []
            if !isOpen { await withCheckedContinuation { waiting.append($0) } }
        }
        func untilReached() async { if !reached { await withCheckedContinuation { arrived.append($0) } } }
        func open() { isOpen = true; waiting.forEach { $0.resume() }; waiting = [] }
    }

    private struct GatedMarkListing: LocalStoreWrapper {
        let store: LocalObjectStore
        let gate: Gate
        func listObjects(prefix: String, recursive: Bool, startAfter: String?) async throws -> [ListedObject] {
            if prefix == ChangeMark.prefix { await gate.pass() }
            return try await store.listObjects(prefix: prefix, recursive: recursive, startAfter: startAfter)
        }
    }

    /// A change made through the page while a refresh runs, after that refresh read the record: a request
    /// that joins the refresh must not be answered by it, but by one that reads the change.
    func testAChangeDuringARefreshIsSeenByTheRequestsThatJoinIt() async throws {
        let (local, directory) = temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await local.put("experiments/a", Data(#"{"key": "a", "filename": "t.py", "status": "running", "time_added": 1}"#.utf8))
        let gate = Gate()
        let catalog = ExperimentCatalog(database: GatedMarkListing(store: local, gate: gate), maxAge: .seconds(3600))
        async let during = catalog.snapshot()
        await gate.untilReached() // the record is read; the refresh waits on its last listing
        try await local.put("experiments/a", Data(#"{"key": "a", "filename": "t.py", "status": "stopped", "time_added": 1}"#.utf8))
        await catalog.invalidate("a")
        async let joined = catalog.snapshot()
        try await Task.sleep(for: .milliseconds(20)) // most often joined by now; if not, it refreshes after
        await gate.open()
        let (starter, joiner) = await (during, joined)
        XCTAssertEqual(starter.snapshot?.rows.first?.row.status, "stopped", "the request that started the refresh")
        XCTAssertEqual(joiner.snapshot?.rows.first?.row.status, "stopped", "the request that joined it")
    }

    private func temporaryStore() -> (LocalObjectStore, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)").path
        return (LocalObjectStore(root: directory), directory)
    }

    private func record(_ key: String, _ status: ExperimentStatus) throws -> Experiment {
        var experiment = try Experiment(parsing: Data(#"{"key": "\#(key)", "filename": "t.py", "time_added": 1}"#.utf8))
        experiment.status = status
        return experiment
    }

    /// Waits until the wall clock has passed `milliseconds` (a few ms at most), so marks written before
    /// are strictly older than a listing that starts now.
    private func waitForTheClock(toPass milliseconds: Int64) async throws {
        while ChangeMark.wallClockMilliseconds() <= milliseconds { try await Task.sleep(for: .milliseconds(1)) }
    }

    /// Where writers leave change marks, a refresh lists only the marks since the last one and reads only
    /// the records they name: the cost follows what changed, not how many experiments there are.
    func testARefreshAfterMarkedChangesReadsOnlyThem() async throws {
        let (local, directory) = temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let records = RecordBook(store: local)
        for index in 0..<300 { try await records.write(record("k\(index)", .waiting)) }
        try await waitForTheClock(toPass: ChangeMark.wallClockMilliseconds() + 1)
        let store = CountingObjectStore(local)
        let catalog = ExperimentCatalog(database: store, maxAge: .zero, fullListingInterval: .seconds(3600), markSkew: 0)
        let first = await catalog.snapshot()
        XCTAssertEqual(first.snapshot?.rows.count, 300)

        store.reset()
        for index in 0..<10 { try await records.update("k\(index * 7)") { $0.status = .running } }
        try await records.delete("k299")
        let second = await catalog.snapshot(unlessUnchangedSince: first.generation)
        let snapshot = try XCTUnwrap(second.snapshot, "the marked changes are seen")
        XCTAssertEqual(snapshot.changed(since: first.generation), (0..<10).map { "k\($0 * 7)" }.sorted())
        XCTAssertEqual(snapshot.removed(since: first.generation), ["k299"])
        XCTAssertEqual(store.counts.listings, 1, "one listing, of the marks")
        XCTAssertEqual(store.counts.listed, 11)
        XCTAssertEqual(store.counts.requests, 1 + 11, "the listing, then one read per changed record")

        store.reset()
        let quiet = await catalog.snapshot(unlessUnchangedSince: second.generation)
        XCTAssertNil(quiet.snapshot)
        XCTAssertEqual(store.counts.requests, 1, "marks already taken are not read again")
    }

    /// A writer that leaves no marks (StudioML's) is seen at the next full listing.
    func testUnmarkedChangesAreSeenAtTheNextFullListing() async throws {
        let (local, directory) = temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let records = RecordBook(store: local)
        for index in 0..<20 { try await records.write(record("k\(index)", .waiting)) }
        let store = CountingObjectStore(local)
        let catalog = ExperimentCatalog(database: store, maxAge: .zero, fullListingInterval: .seconds(1), markSkew: 0)
        let first = await catalog.snapshot()
        XCTAssertEqual(first.snapshot?.rows.count, 20)
        try await local.put("experiments/k3", record("k3", .finished).jsonData()) // no mark
        let early = await catalog.snapshot(unlessUnchangedSince: first.generation)
        XCTAssertNil(early.snapshot, "between full listings only marks are followed")
        let deadline = ContinuousClock.now + .seconds(10)
        var seen: [String] = []
        while seen.isEmpty, ContinuousClock.now < deadline {
            store.reset()
            seen = await catalog.snapshot(unlessUnchangedSince: first.generation).snapshot?.changed(since: first.generation) ?? []
            if seen.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        XCTAssertEqual(seen, ["k3"])
        XCTAssertTrue(store.counts.listedKeys.contains("experiments/k3"), "found by a listing of every record")
    }

    /// A store without marks is listed whole at every refresh, as before marks existed.
    func testAStoreWithoutMarksIsListedWhole() async throws {
        let (local, directory) = temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for index in 0..<20 { try await local.put("experiments/k\(index)", record("k\(index)", .waiting).jsonData()) }
        let store = CountingObjectStore(local)
        let catalog = ExperimentCatalog(database: store, maxAge: .zero, fullListingInterval: .seconds(3600), markSkew: 0)
        let first = await catalog.snapshot()
        try await local.put("experiments/k4", record("k4", .running).jsonData())
        store.reset()
        let second = await catalog.snapshot(unlessUnchangedSince: first.generation)
        XCTAssertEqual(second.snapshot?.changed(since: first.generation), ["k4"])
        XCTAssertGreaterThanOrEqual(store.counts.listed, 20)
    }
}
