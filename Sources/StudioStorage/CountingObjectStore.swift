#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// A store that passes every call on to another and counts them: the requests a reader makes, the objects
/// its listings return and the bytes it reads. Tests use it to show what a refresh or a poll costs.
public final class CountingObjectStore: ListableObjectStore {
    /// What passed through, since creation or the last `reset()`.
    public struct Counts: Sendable, Equatable {
        public var requests = 0
        public var listings = 0
        public var listed = 0
        public var bytesRead = 0
        public var listedKeys: [String] = []
    }

    private let store: any ListableObjectStore
    private let state = Mutex(Counts())

    public init(_ store: any ListableObjectStore) {
        self.store = store
    }

    public var counts: Counts { state.withLock { $0 } }
    public func reset() { state.withLock { $0 = Counts() } }

    private func count(_ change: (inout Counts) -> Void) { state.withLock { change(&$0); $0.requests += 1 } }

    public func get(_ key: String) async throws -> Data? {
        let data = try await store.get(key)
        count { $0.bytesRead += data?.count ?? 0 }
        return data
    }
    public func get(_ key: String, range: Range<Int>) async throws -> Data? {
        let data = try await store.get(key, range: range)
        count { $0.bytesRead += data?.count ?? 0 }
        return data
    }
    public func put(_ key: String, _ data: Data) async throws { count { _ in }; try await store.put(key, data) }
    public func putMarker(_ key: String) async throws { count { _ in }; try await store.putMarker(key) }
    public func exists(_ key: String) async throws -> Bool { count { _ in }; return try await store.exists(key) }
    public func delete(_ key: String) async throws { count { _ in }; try await store.delete(key) }
    public func upload(_ key: String, fromFile path: String) async throws { count { _ in }; try await store.upload(key, fromFile: path) }
    public func download(_ key: String, toFile path: String) async throws -> Bool {
        count { _ in }
        return try await store.download(key, toFile: path)
    }
    public func list(prefix: String) async throws -> [String] {
        let keys = try await store.list(prefix: prefix)
        count { $0.listings += 1; $0.listed += keys.count; $0.listedKeys += keys }
        return keys
    }
    public func listObjects(prefix: String, recursive: Bool, startAfter: String?) async throws -> [ListedObject] {
        let objects = try await store.listObjects(prefix: prefix, recursive: recursive, startAfter: startAfter)
        count { $0.listings += 1; $0.listed += objects.count; $0.listedKeys += objects.map(\.key) }
        return objects
    }
}
