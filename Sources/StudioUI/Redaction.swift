import StudioModel

/// Removes secrets from anything sent to the browser: the value of every key whose name mentions a
/// credential (credentials blocks in artifacts and store sections, tokens, passwords, keys) and every
/// value of an `env` object (configs pass secrets to experiments through it) become `"<redacted>"`.
public enum Redaction {
    /// The replacement text.
    public static let marker = "<redacted>"

    private static let secretWords = ["credential", "secret", "password", "token", "private_key", "access_key", "passphrase", "authorization"]

    /// Whether a key's name says its value is secret.
    public static func isSecretKey(_ key: String) -> Bool {
        let lower = key.lowercased()
        return secretWords.contains { lower.contains($0) }
    }

    /// `value` with every secret replaced, at any depth.
    public static func redact(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object):
            var result = JSONObject()
            for (key, child) in object {
                if isSecretKey(key) {
                    result[key] = .string(marker)
                } else if key == "env", case .object(let environment) = child {
                    var hidden = JSONObject()
                    for (name, _) in environment { hidden[name] = .string(marker) }
                    result[key] = .object(hidden)
                } else if key == "url", case .string(let url) = child, let mark = url.firstIndex(of: "?") {
                    // A presigned URL's query is its signature.
                    result[key] = .string(url[..<mark] + "?" + marker)
                } else {
                    result[key] = redact(child)
                }
            }
            return .object(result)
        case .array(let items):
            return .array(items.map(redact))
        default:
            return value
        }
    }
}
