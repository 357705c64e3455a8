// S3's error answers, apart from the HTTP client so that they can be fuzzed on their own (Fuzz/xml.swift).
import StudioCredentials

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
        code = XMLText.text(of: "Code", in: text) ?? "HTTP\(status)"
        message = XMLText.text(of: "Message", in: text) ?? ""
    }

    /// Codes that mean temporary credentials ran out.
    var isExpiredCredentials: Bool { ["ExpiredToken", "TokenRefreshRequired", "RequestExpired"].contains(code) }
}
