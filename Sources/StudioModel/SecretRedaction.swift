/// The one way secrets are kept out of what we write, log and show: the rejected-message files, log
/// lines naming a URL, the copy of an experiment's config kept in its record, and the web UI.
///
/// In JSON: the value of every member whose name mentions a credential (credentials blocks in artifacts
/// and store sections, tokens, passwords, keys; whole subtree), every value of an `env` object (configs
/// pass secrets to experiments through it), the password of any URL with user information, and the query
/// of a `url` member (a presigned URL's query is its signature) become `"<redacted>"`.
public enum SecretRedaction {
    /// The replacement text.
    public static let marker = "<redacted>"

    private static let secretWords = ["credential", "secret", "password", "passwd", "passphrase", "token", "private_key",
                                      "access_key", "api_key", "apikey", "authorization"]

    /// Whether a member's name says its value is secret.
    public static func isSecretName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return secretWords.contains { lower.contains($0) }
    }

    /// `value` with every secret replaced, at any depth.
    public static func redact(_ value: JSONValue) -> JSONValue {
        redact(value, member: nil)
    }

    private static func redact(_ value: JSONValue, member: String?) -> JSONValue {
        switch value {
        case .object(let object):
            var result = JSONObject()
            for (name, child) in object {
                if isSecretName(name) {
                    result[name] = .string(marker)
                } else if name.lowercased() == "env", case .object(let environment) = child {
                    var hidden = JSONObject()
                    for (variable, setting) in environment { hidden[variable] = setting.isNull ? setting : .string(marker) }
                    result[name] = .object(hidden)
                } else {
                    result[name] = redact(child, member: name)
                }
            }
            return .object(result)
        case .array(let items):
            return .array(items.map { redact($0, member: member) })
        case .string(let text):
            let withoutPassword = redactURLPassword(text)
            return .string(member == "url" ? redactQuery(withoutPassword) : withoutPassword)
        default:
            return value
        }
    }

    /// A URL fit for a log line or an error: no password, no query (signatures live there).
    public static func redactURL(_ url: String) -> String {
        redactQuery(redactURLPassword(url))
    }

    /// `scheme://user:password@host…` with the password replaced; any other text as it is.
    public static func redactURLPassword(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard let scheme = (0..<max(0, bytes.count - 2)).first(where: { bytes[$0] == 0x3A && bytes[$0 + 1] == 0x2F && bytes[$0 + 2] == 0x2F })
        else { return text }
        let authority = scheme + 3
        // The user information ends at the first @ before any / of the path.
        guard let at = bytes[authority...].prefix(while: { $0 != 0x2F }).firstIndex(of: 0x40),
              let colon = bytes[authority..<at].firstIndex(of: 0x3A) else { return text }
        return String(decoding: bytes[...colon], as: UTF8.self) + marker + String(decoding: bytes[at...], as: UTF8.self)
    }

    private static func redactQuery(_ url: String) -> String {
        guard url.contains("://"), let mark = url.firstIndex(of: "?") else { return url }
        return url[..<mark] + "?" + marker
    }
}
