// Standard library only, so that the fuzz target (Fuzz/xml.swift) compiles it on its own.

/// The one XML reader, just enough for AWS answers (S3, SQS query-mode errors, STS): element texts by
/// tag name, entities decoded. No attributes, namespaces or nesting of a tag in itself: AWS answers
/// have none where we read them.
public enum XMLText {
    /// The text of the first `<tag>…</tag>`.
    public static func text(of tag: String, in document: String) -> String? {
        elements(tag, in: document, firstOnly: true).first
    }

    /// The texts of every `<tag>…</tag>`, in order.
    public static func texts(of tag: String, in document: String) -> [String] {
        elements(tag, in: document, firstOnly: false)
    }

    /// Searched for in the UTF-8 bytes: the tags are ASCII, and an ASCII byte never occurs inside a multi-byte
    /// character, so every match is at a character boundary. (`String.firstRange(of:)` walks characters and
    /// took most of the time of a 1,000-key S3 listing.)
    private static func elements(_ tag: String, in document: String, firstOnly: Bool) -> [String] {
        var document = document // `withUTF8` needs a var; a native string is not copied
        let open = Array("<\(tag)>".utf8), close = Array("</\(tag)>".utf8)
        return document.withUTF8 { bytes in
            var results: [String] = []
            var from = 0
            while let start = find(open, in: bytes, from: from), let end = find(close, in: bytes, from: start + open.count) {
                let inner = UnsafeBufferPointer(rebasing: bytes[(start + open.count)..<end])
                results.append(decodeEntities(String(decoding: inner, as: UTF8.self)))
                if firstOnly { break }
                from = end + close.count
            }
            return results
        }
    }

    /// The offset of the first `needle` in `bytes` at or after `from`.
    private static func find(_ needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        guard let first = needle.first, bytes.count >= needle.count else { return nil }
        var index = from
        while index <= bytes.count - needle.count {
            if bytes[index] == first {
                var matched = 1
                while matched < needle.count && bytes[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return index }
            }
            index += 1
        }
        return nil
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
