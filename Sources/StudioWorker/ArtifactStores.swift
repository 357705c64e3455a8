#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioModel
import StudioStorage
import Synchronization

/// Where one artifact's bytes are read from or written to.
struct ResolvedArtifact: Sendable {
    /// What kind of place it is, for the unpacking rule and for messages.
    enum Kind: Sendable, Equatable {
        /// The experiment's own `storage` store.
        case experimentStorage
        /// A Google Cloud Storage bucket other than the experiment's.
        case gcs(bucket: String)
        /// An S3 bucket other than the experiment's; `endpoint` nil means the default for the region.
        case s3(endpoint: String?, bucket: String)
        /// A plain http(s) URL (the key is the URL): download-only, stored as the file it is.
        case http
    }

    let kind: Kind
    let store: any ObjectStore
    let key: String
    /// The location in StudioML's words (`gs://b/k`, `s3://host/b/k`, the URL), for messages and cache names.
    let name: String
}

/// Maps each artifact to the store holding it: the experiment's `storage` unless the artifact's
/// `qualified` name or `url` points elsewhere (another GCS or S3 bucket, or an http(s) URL). Stores for
/// other places are opened once per (scheme, endpoint, bucket, credentials) and reused for the run.
final class ArtifactStores: Sendable {
    let storage: any ObjectStore
    let storageConfig: StoreConfig
    let experimentKey: String
    let environment: [String: String]
    private let opened = Mutex<[String: any ObjectStore]>([:])

    /// The resolver for one experiment whose own artifact store is `storage`, configured by `storageConfig`.
    init(storage: any ObjectStore, storageConfig: StoreConfig, experimentKey: String,
         environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.storage = storage
        self.storageConfig = storageConfig
        self.experimentKey = experimentKey
        self.environment = environment
    }

    /// The store and key of artifact `tag`; nil for an immutable artifact with no key and no location
    /// (nothing to fetch). Throws a one-line error for a location that cannot be used.
    ///
    /// As in StudioML, an artifact with a `key` lives at that key in the experiment's storage, whatever its
    /// `qualified` name says (the name only records where the submitter's storage was); the location is
    /// used for artifacts without a key, such as `--capture-once gs://…:tag` or `https://…:tag`.
    func resolve(_ tag: String, _ artifact: Artifact) throws -> ResolvedArtifact? {
        if let key = artifact.key, !key.isEmpty {
            return ResolvedArtifact(kind: .experimentStorage, store: storage, key: key, name: key)
        }
        let location: ArtifactLocation?
        do { location = try artifact.location() } catch {
            throw WorkerError("artifact \(tag): unknown location '\(artifact.qualified ?? artifact.url ?? "")'; expected gs://bucket/key, s3://[host:port/]bucket/key or http(s)://…")
        }
        guard let location else {
            guard artifact.mutable else { return nil }
            let key = "experiments/\(experimentKey)/\(tag).tar"
            return ResolvedArtifact(kind: .experimentStorage, store: storage, key: key, name: key)
        }
        if namesExperimentStorage(location), let key = Self.key(of: location) {
            return ResolvedArtifact(kind: .experimentStorage, store: storage, key: key, name: location.qualifiedName)
        }
        switch location {
        case let .gcs(bucket, key):
            guard !key.isEmpty else { throw WorkerError("artifact \(tag): '\(location.qualifiedName)' names no object; expected gs://bucket/key") }
            let store = try open("gs|\(bucket)") {
                do { return try GCSObjectStore(bucket: bucket, environment: environment) } catch {
                    throw WorkerError("artifact \(tag) (\(location.qualifiedName)): \(error)")
                }
            }
            return ResolvedArtifact(kind: .gcs(bucket: bucket), store: store, key: key, name: location.qualifiedName)
        case let .s3(host, bucket, key):
            guard !key.isEmpty else { throw WorkerError("artifact \(tag): '\(location.qualifiedName)' names no object; expected s3://[host:port/]bucket/key") }
            let endpoint = s3Endpoint(host: host)
            let credentials = artifact.credentials ?? storageConfig.credentialsJSON
            let fingerprint = credentials.map { String($0.serialized(.compact).hashValue) } ?? "-"
            let store = try open("s3|\(endpoint ?? "")|\(bucket)|\(fingerprint)") {
                do { return try S3ObjectStore.forArtifactBucket(bucket, endpoint: endpoint, credentials: credentials, environment: environment) } catch {
                    throw WorkerError("artifact \(tag) (\(location.qualifiedName)): \(error)")
                }
            }
            return ResolvedArtifact(kind: .s3(endpoint: endpoint, bucket: bucket), store: store, key: key, name: location.qualifiedName)
        case let .http(url):
            guard !artifact.mutable else {
                throw WorkerError("artifact \(tag): http(s) artifacts are download-only, but \(tag) is mutable (\(url)); give it a gs:// or s3:// location, or none to use the experiment's storage")
            }
            let store = try open("http") { HTTPObjectSource() }
            return ResolvedArtifact(kind: .http, store: store, key: url, name: url)
        case let .file(path):
            throw WorkerError("artifact \(tag): 'file:\(path)' is a path on the submitter's machine and no key names it in the experiment's storage; submit it again with --capture-once PATH:\(tag)")
        }
    }

    /// Whether `location` is the experiment's own storage: the same GCS bucket, or the same S3 bucket (and
    /// endpoint when the name carries one).
    func namesExperimentStorage(_ location: ArtifactLocation) -> Bool {
        switch location {
        case let .gcs(bucket, _):
            return ["gcs", "gs", "gcloud"].contains(storageConfig.type) && bucket == storageGCSBucket
        case let .s3(host, bucket, _):
            guard storageConfig.type == "s3", bucket == storageConfig.bucket else { return false }
            guard let host else { return true }
            guard let endpoint = storageConfig.endpoint ?? environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"] else {
                return host.lowercased().hasSuffix(".amazonaws.com")
            }
            return ArtifactStoreReference.hostAndPort(endpoint).lowercased() == host.lowercased()
        case .file, .http:
            return false
        }
    }

    /// The storage section's GCS bucket: `bucket`, or the bucket of a `gs://bucket` endpoint.
    private var storageGCSBucket: String? {
        if let bucket = storageConfig.bucket { return bucket }
        guard let endpoint = storageConfig.endpoint, endpoint.hasPrefix("gs://") else { return nil }
        return String(endpoint.dropFirst("gs://".count).prefix { $0 != "/" })
    }

    /// The endpoint URL for an S3 name's `host[:port]`: the storage section's endpoint when it names the
    /// same host (keeping its scheme), `https://` for AWS hosts, else `http://` (as StudioML does);
    /// with no host, the storage section's endpoint when it is S3 (else the environment's or AWS's default).
    func s3Endpoint(host: String?) -> String? {
        let configured = storageConfig.type == "s3" ? storageConfig.endpoint : nil
        guard let host else { return configured }
        if let configured, ArtifactStoreReference.hostAndPort(configured).lowercased() == host.lowercased() { return configured }
        return (host.lowercased().hasSuffix(".amazonaws.com") ? "https://" : "http://") + host
    }

    private func open(_ identity: String, _ make: () throws -> any ObjectStore) throws -> any ObjectStore {
        if let store = opened.withLock({ $0[identity] }) { return store }
        let store = try make()
        return opened.withLock { stores in
            if let existing = stores[identity] { return existing }
            stores[identity] = store
            return store
        }
    }

    /// The object key inside a location's store.
    private static func key(of location: ArtifactLocation) -> String? {
        switch location {
        case let .gcs(_, key), let .s3(_, _, key): return key.isEmpty ? nil : key
        case .http, .file: return nil
        }
    }
}
