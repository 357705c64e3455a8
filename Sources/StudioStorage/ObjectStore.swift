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
    /// The object's bytes in `range` (fewer where the object ends first; none past its end), or nil when
    /// there is no such key: a reader that needs part of a large object fetches only that part.
    func get(_ key: String, range: Range<Int>) async throws -> Data?
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

    /// For stores that cannot read part of an object: the whole, cut.
    public func get(_ key: String, range: Range<Int>) async throws -> Data? {
        try await get(key)?.part(range)
    }

    /// The HTTP `Range` header for `range` (not empty).
    static func rangeHeader(_ range: Range<Int>) -> (name: String, value: String) {
        ("Range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")
    }
}

extension Range<Int> {
    /// This range cut to `0..<count`.
    public func clamped(toCount count: Int) -> Range<Int> {
        let lower = Swift.min(Swift.max(0, lowerBound), count)
        return lower ..< Swift.min(Swift.max(lower, upperBound), count)
    }
}

extension Data {
    /// The bytes at offsets `range` (counted from the start of this data), as far as they exist.
    public func part(_ range: Range<Int>) -> Data {
        let offsets = range.clamped(toCount: count)
        return subdata(in: startIndex + offsets.lowerBound ..< startIndex + offsets.upperBound)
    }
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
