import Foundation
@testable import StudioUI
import StudioStorage
import XCTest

/// The catalog's refresh bookkeeping.
final class ExperimentCatalogTests: XCTestCase {
    /// A local store whose listings take 300 ms, so a request surely arrives while the start-up read runs.
    private struct SlowListing: ListableObjectStore {
        let store: LocalObjectStore
        func get(_ key: String) async throws -> Data? { try await store.get(key) }
        func put(_ key: String, _ data: Data) async throws { try await store.put(key, data) }
        func exists(_ key: String) async throws -> Bool { try await store.exists(key) }
        func delete(_ key: String) async throws { try await store.delete(key) }
        func upload(_ key: String, fromFile path: String) async throws { try await store.upload(key, fromFile: path) }
        func download(_ key: String, toFile path: String) async throws -> Bool { try await store.download(key, toFile: path) }
        func list(prefix: String) async throws -> [String] { try await store.list(prefix: prefix) }
        func listObjects(prefix: String, recursive: Bool) async throws -> [ListedObject] {
            try await Task.sleep(for: .milliseconds(300))
            return try await store.listObjects(prefix: prefix, recursive: recursive)
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
}
