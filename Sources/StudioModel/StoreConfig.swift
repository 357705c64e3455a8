#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A `database` or `storage` section of the config: where records or artifacts are kept.
/// Printing it never shows the credentials.
public struct StoreConfig: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The section as configured (after defaults).
    public var json: JSONObject

    /// Wraps a `database` or `storage` object.
    public init(json: JSONObject) { self.json = json }

    /// The backend, lowercased: `local`, `s3`, `gcloud`/`gs`, `http`, `firebase`; `local` when absent.
    public var type: String { (json["type"]?.stringValue ?? "local").lowercased() }
    /// The endpoint URL (S3) or root directory (local).
    public var endpoint: String? { json["endpoint"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
    /// The bucket name.
    public var bucket: String? { json["bucket"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
    /// The `credentials` block (`{"aws": {...}}`), opaque and secret.
    public var credentialsJSON: JSONValue? { json["credentials"].flatMap { $0.isNull ? nil : $0 } }
    /// `compression` (`gzip`, `bzip2`, `xz`, …), nil or `none` for none.
    public var compression: String? {
        guard let text = json["compression"]?.stringValue?.lowercased(), !text.isEmpty, text != "none" else { return nil }
        return text
    }

    /// A one-line description for logs, with credentials shown only as `<redacted>`.
    public var redactedDescription: String { json.redactedDescription(typeName: "StoreConfig") }

    public var description: String { redactedDescription }
    public var debugDescription: String { redactedDescription }
}
