#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where an artifact lives outside the experiment's own store, parsed from its `qualified` name or
/// `url`: `s3://host:port/bucket/key`, `s3://bucket/key`, `gs://bucket/key`, `http(s)://…`, `file:/…`.
public enum ArtifactLocation: Sendable, Equatable {
    /// An S3 object; `host` is the endpoint's `host[:port]` when the name carries one.
    case s3(host: String?, bucket: String, key: String)
    /// A Google Cloud Storage object.
    case gcs(bucket: String, key: String)
    /// A plain HTTP(S) download.
    case http(url: String)
    /// A path on the local file system (StudioML's local storage writes `file:/<root>/<key>`).
    case file(path: String)

    /// Parses a qualified name with StudioML's rule for S3: the third `/`-separated segment is the
    /// endpoint host when it contains `:` or ends in `.com`, and the bucket otherwise.
    public init(parsing qualified: String) throws {
        let lower = qualified.lowercased()
        if lower.hasPrefix("s3://") {
            let segments = qualified.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            // segments: ["s3:", "", third, ...]
            guard segments.count >= 3, !segments[2].isEmpty else { throw Self.invalid(qualified) }
            let third = segments[2]
            if third.hasSuffix(".com") || third.contains(":") {
                guard segments.count >= 4, !segments[3].isEmpty else { throw Self.invalid(qualified) }
                self = .s3(host: third, bucket: segments[3], key: segments.dropFirst(4).joined(separator: "/"))
            } else {
                self = .s3(host: nil, bucket: third, key: segments.dropFirst(3).joined(separator: "/"))
            }
        } else if lower.hasPrefix("gs://") {
            let rest = qualified.dropFirst(5)
            let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let bucket = parts.first, !bucket.isEmpty else { throw Self.invalid(qualified) }
            self = .gcs(bucket: String(bucket), key: parts.count > 1 ? String(parts[1]) : "")
        } else if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            self = .http(url: qualified)
        } else if lower.hasPrefix("file:") {
            var path = Substring(qualified.dropFirst(5))
            while path.hasPrefix("//") { path = path.dropFirst() }
            guard path.hasPrefix("/") else { throw Self.invalid(qualified) }
            self = .file(path: String(path))
        } else {
            throw Self.invalid(qualified)
        }
    }

    /// The name in StudioML's form (`s3://host/bucket/key`, `gs://bucket/key`, the URL, `file:/path`).
    public var qualifiedName: String {
        switch self {
        case let .s3(host?, bucket, key): return "s3://\(host)/\(bucket)/\(key)"
        case let .s3(nil, bucket, key): return "s3://\(bucket)/\(key)"
        case let .gcs(bucket, key): return "gs://\(bucket)/\(key)"
        case let .http(url): return url
        case let .file(path): return "file:" + path
        }
    }

    private static func invalid(_ text: String) -> ModelError {
        ModelError(.invalidArtifactLocation,
                   "invalid artifact location '\(text)'; expected s3://[host:port/]bucket/key, gs://bucket/key, http(s)://… or file:/path")
    }
}
