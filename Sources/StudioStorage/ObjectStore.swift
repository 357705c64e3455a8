#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A flat key → bytes store: StudioML's "database" (records) and "storage" (artifacts) are both
/// one of these, with keys such as `experiments/<key>` and `blobstore/<sha256>.tar`.
public protocol ObjectStore: Sendable {
    /// The object's bytes, or nil when there is no such key.
    func get(_ key: String) async throws -> Data?
    /// Writes the object whole; a reader never sees half of it.
    func put(_ key: String, _ data: Data) async throws
    /// Whether the key exists.
    func exists(_ key: String) async throws -> Bool
    /// Removes the key; removing a missing key is not an error.
    func delete(_ key: String) async throws
    /// Streams a local file into the store under `key`, in constant memory.
    func upload(_ key: String, fromFile path: String) async throws
    /// Streams the object into a local file; false when there is no such key.
    func download(_ key: String, toFile path: String) async throws -> Bool
    /// Writes an empty object that only marks something (a change mark): a hint, not data, so a store may
    /// skip what makes a write durable.
    func putMarker(_ key: String) async throws
}

extension ObjectStore {
    public func putMarker(_ key: String) async throws { try await put(key, Data()) }
}

/// Why a store operation failed, in words a user can act on.
public struct StorageError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// Whether trying again later may succeed: the store was unreachable, throttled or answered
    /// with a server error. False for answers about the request itself (403, a missing bucket, a
    /// bad configuration), which a retry would only repeat.
    public var isTransient: Bool
    public init(_ description: String, transient: Bool = false) {
        self.description = description
        self.isTransient = transient
    }
}
