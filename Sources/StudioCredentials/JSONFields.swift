#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Any JSON value; credential files are read through this so every error can name the exact field.
enum JSONValue: Decodable, Sendable, Equatable {
    case string(String), number(Double), bool(Bool), null, array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }
}

/// Typed access to one JSON object's fields with one-line errors that name the file and field, never the value.
struct JSONFields {
    let object: [String: JSONValue]
    /// How errors name the object, e.g. `/secrets/sa.json` or `/secrets/sa.json credential_source`.
    let context: String

    /// Parses `bytes` as a JSON object.
    init(parsing bytes: [UInt8], context: String) throws {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw CredentialsError(.malformedFile, "\(context) is not valid JSON")
        }
        guard case let .object(object) = value else {
            throw CredentialsError(.malformedFile, "\(context) is not a JSON object")
        }
        self.init(object: object, context: context)
    }

    init(object: [String: JSONValue], context: String) {
        self.object = object
        self.context = context
    }

    func has(_ key: String) -> Bool {
        switch object[key] {
        case nil, .null?: return false
        default: return true
        }
    }

    /// A string field, nil when absent, null or empty.
    func string(_ key: String) throws -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case let .string(value)?: return value.isEmpty ? nil : value
        default: throw CredentialsError(.invalidField, "\(context): field \"\(key)\" must be a string")
        }
    }

    /// A string field that must be present and non-empty.
    func requiredString(_ key: String, in kind: String) throws -> String {
        guard let value = try string(key) else {
            throw CredentialsError(.missingField, "\(context): \(kind) is missing field \"\(key)\"")
        }
        return value
    }

    /// An integer given as a JSON number or a numeric string (Google sends both for `expires_in`).
    func integer(_ key: String) throws -> Int? {
        switch object[key] {
        case nil, .null?: return nil
        case let .number(value)? where value == value.rounded() && abs(value) < 1e15: return Int(value)
        case let .string(text)?: if let value = Int(Encoding.trimmed(text)) { return value }
        default: break
        }
        throw CredentialsError(.invalidField, "\(context): field \"\(key)\" must be an integer")
    }

    /// A nested object field.
    func object(_ key: String) throws -> JSONFields? {
        switch object[key] {
        case nil, .null?: return nil
        case let .object(value)?: return JSONFields(object: value, context: "\(context) \(key)")
        default: throw CredentialsError(.invalidField, "\(context): field \"\(key)\" must be an object")
        }
    }
}
