// The XML side of S3 answers, apart from the HTTP client so that it can be fuzzed on its own (Fuzz/xml.swift).

/// An S3 error answer: the `<Code>` and `<Message>` of its XML body (or the HTTP status alone for HEAD).
public struct S3ServiceError: Error, CustomStringConvertible, Sendable {
    /// `NoSuchKey`, `AccessDenied`, `NoSuchBucket`, …; `HTTP<status>` when the body has none.
    public var code: String
    /// The service's message.
    public var message: String
    /// The HTTP status (200 for an error inside a successful CompleteMultipartUpload).
    public var status: Int
    /// What was being done, e.g. `PUT s3://bucket/key`.
    public var operation: String

    /// "S3 <operation> failed: <code> (HTTP s): <message>".
    public var description: String {
        "S3 \(operation) failed: \(code) (HTTP \(status))" + (message.isEmpty ? "" : ": \(message)")
    }

    init(operation: String, status: Int, body: [UInt8]) {
        self.operation = operation
        self.status = status
        let text = String(decoding: body, as: UTF8.self)
        code = S3XML.text(of: "Code", in: text) ?? "HTTP\(status)"
        message = S3XML.text(of: "Message", in: text) ?? ""
    }

    /// Codes that mean temporary credentials ran out.
    var isExpiredCredentials: Bool { ["ExpiredToken", "TokenRefreshRequired", "RequestExpired"].contains(code) }
}

/// Just enough XML for S3 answers: element texts by tag name, entities decoded.
enum S3XML {
    /// The text of the first `<tag>…</tag>`.
    static func text(of tag: String, in document: String) -> String? {
        texts(of: tag, in: document).first
    }

    /// The texts of every `<tag>…</tag>`, in order.
    static func texts(of tag: String, in document: String) -> [String] {
        var results: [String] = []
        var rest = document[...]
        while let open = rest.firstRange(of: "<\(tag)>"), let close = rest[open.upperBound...].firstRange(of: "</\(tag)>") {
            results.append(decodeEntities(String(rest[open.upperBound..<close.lowerBound])))
            rest = rest[close.upperBound...]
        }
        return results
    }

    /// The text with the five predefined XML entities decoded (`&amp;` last, so `&amp;lt;` stays `&lt;`).
    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&quot;", with: "\"")
            .replacing("&apos;", with: "'").replacing("&#13;", with: "\r").replacing("&#10;", with: "\n")
            .replacing("&amp;", with: "&")
    }

    /// `text` with the five XML special characters escaped.
    static func escape(_ text: String) -> String {
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
