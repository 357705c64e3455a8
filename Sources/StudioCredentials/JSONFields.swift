import StudioModel

/// Typed access to one JSON object's fields with one-line errors that name the file and field, never the value.
/// Credential files are parsed with StudioModel's JSON parser, as records are.
struct JSONFields {
    let object: JSONObject
    /// How errors name the object, e.g. `/secrets/sa.json` or `/secrets/sa.json credential_source`.
    let context: String

    /// Parses `bytes` as a JSON object.
    init(parsing bytes: [UInt8], context: String) throws {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw CredentialsError(.malformedFile, "\(context) is not valid JSON")
        }
        guard case let .object(object) = value else {
            throw CredentialsError(.malformedFile, "\(context) is not a JSON object")
        }
        self.init(object: object, context: context)
    }

    init(object: JSONObject, context: String) {
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
        case let .int(value)?: return Int(value)
        case let .double(value)? where value == value.rounded() && abs(value) < 1e15: return Int(value)
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
