// Apart from the HTTP client so that the reply parsing can be fuzzed on its own (Fuzz/xml.swift).
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioCredentials
import StudioModel

/// An error answer of the SQS JSON protocol: `__type` (namespace stripped) and `message`.
public struct SQSServiceError: Error, CustomStringConvertible, Sendable {
    /// The short error code, e.g. `QueueDoesNotExist`, `RequestThrottled`.
    public var code: String
    /// The service's message.
    public var message: String
    /// The HTTP status.
    public var status: Int
    /// The action that failed.
    public var action: String

    /// "SQS <action> failed: <code> (HTTP s): <message>".
    public var description: String {
        "SQS \(action) failed: \(code) (HTTP \(status))" + (message.isEmpty ? "" : ": \(message)")
    }

    /// Reads the error from an SQS JSON (or query-mode XML) error reply: its status, body and
    /// `x-amzn-query-error` header.
    init(action: String, status: Int, body: [UInt8], queryErrorHeader: String?) {
        self.action = action
        self.status = status
        let json = try? JSONValue(parsing: body)
        var type = json?["__type"]?.stringValue ?? json?["code"]?.stringValue ?? ""
        if type.isEmpty, let queryCode = queryErrorHeader {
            type = String(queryCode.prefix { $0 != ";" })
        }
        if type.isEmpty {
            type = XMLText.text(of: "Code", in: String(decoding: body, as: UTF8.self)) ?? ""
        }
        if let hash = type.lastIndex(of: "#") { type = String(type[type.index(after: hash)...]) }
        if let colon = type.firstIndex(of: ":") { type = String(type[..<colon]) }
        code = type.isEmpty ? "HTTP\(status)" : type
        message = json?["message"]?.stringValue ?? json?["Message"]?.stringValue ?? ""
    }

    /// Codes that mean the credentials or permissions are wrong: retrying will not help.
    var isAuthorizationFailure: Bool {
        ["AccessDenied", "AccessDeniedException", "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException",
         "MissingAuthenticationToken", "IncompleteSignature", "InvalidSecurity", "KMS.AccessDeniedException"].contains(code)
    }

    /// Codes that mean temporary credentials ran out: fetch fresh ones and try again.
    var isExpiredCredentials: Bool {
        ["ExpiredToken", "ExpiredTokenException", "RequestExpired"].contains(code)
    }

    /// An answer with no SQS error code in it (no `__type`, query error header or `<Code>`): not SQS speaking.
    var carriesNoErrorCode: Bool { code == "HTTP\(status)" }

    /// SQS's answer to a request it will never accept as sent: a bad queue name, attribute or parameter.
    var isInvalidParameter: Bool {
        ["InvalidParameterValue", "InvalidParameterValueException", "InvalidAttributeName", "InvalidAttributeValue"].contains(code)
    }

    /// The SQS short name for a missing queue, in both protocols.
    var isMissingQueue: Bool {
        code == "QueueDoesNotExist" || code == "AWS.SimpleQueueService.NonExistentQueue" || code == "NonExistentQueue"
    }
}
