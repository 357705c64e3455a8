// Standard library only, so that the fuzz target (Fuzz/xml.swift) compiles it on its own.

/// The one XML reader, just enough for AWS answers (S3, SQS query-mode errors, STS): element texts by
/// tag name, entities decoded. No attributes, namespaces or nesting of a tag in itself: AWS answers
/// have none where we read them.
public enum XMLText {
    /// The text of the first `<tag>…</tag>`.
    public static func text(of tag: String, in document: String) -> String? {
        guard let open = document.firstRange(of: "<\(tag)>"),
              let close = document[open.upperBound...].firstRange(of: "</\(tag)>") else { return nil }
        return decodeEntities(String(document[open.upperBound..<close.lowerBound]))
    }

    /// The texts of every `<tag>…</tag>`, in order.
    public static func texts(of tag: String, in document: String) -> [String] {
        var results: [String] = []
        var rest = document[...]
        while let open = rest.firstRange(of: "<\(tag)>"), let close = rest[open.upperBound...].firstRange(of: "</\(tag)>") {
            results.append(decodeEntities(String(rest[open.upperBound..<close.lowerBound])))
            rest = rest[close.upperBound...]
        }
        return results
    }

    /// The text with the predefined XML entities and the character references AWS writes decoded
    /// (`&amp;` last, so `&amp;lt;` stays `&lt;`).
    public static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&quot;", with: "\"")
            .replacing("&apos;", with: "'").replacing("&#34;", with: "\"").replacing("&#13;", with: "\r")
            .replacing("&#10;", with: "\n").replacing("&amp;", with: "&")
    }

    /// `text` with the five XML special characters escaped.
    public static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}
