#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A JSON object that keeps its keys in insertion order, as Python's `dict` (and so `json.dumps`) does.
///
/// Equality ignores key order (two objects are equal when they have the same keys with equal values);
/// the order only matters when serialising.
public struct JSONObject: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    private var orderedKeys: [String] = []
    private var storage: [String: JSONValue] = [:]

    /// An empty object.
    public init() {}

    /// An object with the given pairs in order; a repeated key keeps its first position and its last value.
    public init(_ pairs: [(String, JSONValue)]) {
        for (key, value) in pairs { self[key] = value }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    /// The keys in insertion order.
    public var keys: [String] { orderedKeys }
    /// The values in key order.
    public var values: [JSONValue] { orderedKeys.map { storage[$0]! } }
    /// The number of keys.
    public var count: Int { orderedKeys.count }
    /// Whether there are no keys.
    public var isEmpty: Bool { orderedKeys.isEmpty }

    /// The value for `key`; setting nil removes the key, setting a new key appends it at the end.
    public subscript(key: String) -> JSONValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { orderedKeys.append(key) }
            } else {
                removeValue(forKey: key)
            }
        }
    }

    /// Whether the object has `key` (even with a null value).
    public func contains(_ key: String) -> Bool { storage[key] != nil }

    /// Removes `key` and returns its value, if it was there.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let old = storage.removeValue(forKey: key) else { return nil }
        orderedKeys.removeAll { $0 == key }
        return old
    }

    /// The pairs in insertion order.
    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        orderedKeys.map { (key: $0, value: storage[$0]!) }.makeIterator()
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.storage == rhs.storage
    }

    /// Whether both objects have the same keys in the same order with identical values, recursively.
    public func isIdentical(to other: JSONObject) -> Bool {
        guard orderedKeys == other.orderedKeys else { return false }
        for key in orderedKeys where !storage[key]!.isIdentical(to: other.storage[key]!) { return false }
        return true
    }

    /// This object deep-merged over `base`: objects merge key by key, anything else in `self` replaces
    /// the base value. Keys keep this object's order; keys only the base has follow, in its order.
    public func merged(over base: JSONObject) -> JSONObject {
        var result = JSONObject()
        for (key, value) in self {
            if case .object(let mine) = value, case .object(let theirs)? = base[key] {
                result[key] = .object(mine.merged(over: theirs))
            } else {
                result[key] = value
            }
        }
        for (key, value) in base where !result.contains(key) { result[key] = value }
        return result
    }
}

extension JSONObject {
    /// `Type(name=value, …)` for logs, with a `credentials` field shown only as `<redacted>`.
    func redactedDescription(typeName: String) -> String {
        let parts = map { name, value in
            name == "credentials" ? "credentials=<redacted>" : "\(name)=\(value.scalarText ?? value.serialized(.compact))"
        }
        return typeName + "(" + parts.joined(separator: ", ") + ")"
    }
}
