#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One entry of an experiment's `artifacts` map, as a view over its JSON object so that fields this
/// type does not know survive a read-modify-write. Printing it never shows the credentials.
public struct Artifact: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The entry as stored.
    public var json: JSONObject

    /// Wraps an artifact entry object.
    public init(json: JSONObject) { self.json = json }

    /// A new entry with fields in StudioML's `to_dict` order: unpack, mutable, key, local,
    /// qualified, bucket, credentials (absent ones are left out).
    public init(unpack: Bool = true, mutable: Bool, key: String? = nil, local: String? = nil,
                qualified: String? = nil, bucket: String? = nil, credentials: JSONValue? = nil)
    {
        json = JSONObject()
        json["unpack"] = .bool(unpack)
        json["mutable"] = .bool(mutable)
        if let key { json["key"] = .string(key) }
        if let local { json["local"] = .string(local) }
        if let qualified { json["qualified"] = .string(qualified) }
        if let bucket { json["bucket"] = .string(bucket) }
        if let credentials { json["credentials"] = credentials }
    }

    /// Whether the tar should be unpacked (informational: StudioML always untars).
    public var unpack: Bool {
        get { json["unpack"]?.boolValue ?? true }
        set { json["unpack"] = .bool(newValue) }
    }

    /// Mutable artifacts are written by the worker at each checkpoint; immutable ones are fetched once.
    public var mutable: Bool {
        get { json["mutable"]?.boolValue ?? false }
        set { json["mutable"] = .bool(newValue) }
    }

    /// The object key inside the artifact bucket (`blobstore/<sha256>.tar`, `experiments/<key>/<tag>.tar`).
    public var key: String? {
        get { json["key"]?.stringValue }
        set { json["key"] = newValue.map(JSONValue.string) }
    }

    /// The submitter-side local path.
    public var local: String? {
        get { json["local"]?.stringValue }
        set { json["local"] = newValue.map(JSONValue.string) }
    }

    /// The full remote name, e.g. `s3://127.0.0.1:5125/studioml-artifacts/blobstore/….tar`.
    public var qualified: String? {
        get { json["qualified"]?.stringValue }
        set { json["qualified"] = newValue.map(JSONValue.string) }
    }

    /// The download URL of an http(s) artifact (used instead of `qualified`).
    public var url: String? {
        get { json["url"]?.stringValue }
        set { json["url"] = newValue.map(JSONValue.string) }
    }

    /// The S3 bucket, when the storage is S3.
    public var bucket: String? {
        get { json["bucket"]?.stringValue }
        set { json["bucket"] = newValue.map(JSONValue.string) }
    }

    /// The credentials block (`{"aws": {...}}`), opaque and secret.
    public var credentials: JSONValue? {
        get { json["credentials"].flatMap { $0.isNull ? nil : $0 } }
        set { json["credentials"] = newValue }
    }

    /// The content hash, when the submitter recorded one.
    public var hash: String? {
        get { json["hash"]?.stringValue }
        set { json["hash"] = newValue.map(JSONValue.string) }
    }

    /// The remote location from `qualified` or else `url`; nil when the entry has neither.
    public func location() throws -> ArtifactLocation? {
        if let qualified, !qualified.isEmpty { return try ArtifactLocation(parsing: qualified) }
        if let url, !url.isEmpty { return try ArtifactLocation(parsing: url) }
        return nil
    }

    /// A one-line description for logs, with credentials shown only as `<redacted>`.
    public var redactedDescription: String { json.redactedDescription(typeName: "Artifact") }

    public var description: String { redactedDescription }
    public var debugDescription: String { redactedDescription }
}

/// Where a new experiment's artifacts are stored, for filling in `qualified`, `bucket` and `credentials`.
public struct ArtifactStoreReference: Sendable, Equatable {
    /// The storage section it came from.
    public var store: StoreConfig

    public init(_ store: StoreConfig) { self.store = store }

    /// StudioML's `get_qualified_location(key)` for this store: `s3://<endpoint host[:port]>/<bucket>/<key>`
    /// (`s3.amazonaws.com` without an endpoint), `gs://<bucket>/<key>`, or `file:/<root>/<bucket>/<key>`.
    public func qualifiedLocation(forKey key: String) -> String? {
        switch store.type {
        case "s3":
            let host = store.endpoint.map(Self.hostAndPort) ?? "s3.amazonaws.com"
            return "s3://\(host)/\(store.bucket ?? "")/\(key)"
        case "gcloud", "gs", "gcs":
            return "gs://\(store.bucket ?? "")/\(key)"
        case "local":
            let root = (store.endpoint ?? "~") + "/" + (store.bucket ?? "storage")
            return "file:/" + root + "/" + key
        default:
            return nil
        }
    }

    /// The `netloc` of an endpoint URL: `http://127.0.0.1:5125/x` → `127.0.0.1:5125`.
    public static func hostAndPort(_ endpoint: String) -> String {
        var rest = Substring(endpoint)
        if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        return String(rest)
    }
}

extension Artifact {
    /// The mutable artifact tags StudioML's client adds to every experiment, after `workspace`.
    public static let defaultMutableTags = ["modeldir", "retval", "output", "tb", "_metrics", "_metadata"]

    /// The artifacts StudioML's client writes for a new experiment, in its order: the immutable
    /// `workspace` (key `workspaceBlobKey`, e.g. `blobstore/<sha256>.tar`, once uploaded) and the
    /// mutable tags with keys `experiments/<key>/<tag>.tar` and local paths `<studioHome>/experiments/<key>/<tag>`.
    public static func defaults(experimentKey: String, workspacePath: String, workspaceBlobKey: String?,
                                studioHome: String, store: ArtifactStoreReference?) -> [(tag: String, artifact: Artifact)]
    {
        func make(mutable: Bool, key: String?, local: String) -> Artifact {
            let isS3 = store?.store.type == "s3"
            return Artifact(unpack: true, mutable: mutable, key: key, local: local,
                            qualified: key.flatMap { store?.qualifiedLocation(forKey: $0) },
                            bucket: isS3 && key != nil ? store?.store.bucket : nil,
                            credentials: store?.store.credentialsJSON)
        }
        var result: [(tag: String, artifact: Artifact)] = [
            ("workspace", make(mutable: false, key: workspaceBlobKey, local: workspacePath)),
        ]
        let home = studioHome.hasSuffix("/") ? String(studioHome.dropLast()) : studioHome
        for tag in defaultMutableTags {
            result.append((tag, make(mutable: true, key: "experiments/\(experimentKey)/\(tag).tar",
                                     local: "\(home)/experiments/\(experimentKey)/\(tag)")))
        }
        return result
    }
}
