import StudioModel
import StudioStorage

/// The two stores an experiment's config names: `database` (records) and `storage` (artifacts).
struct ExperimentStores: Sendable {
    let database: any ListableObjectStore
    let storage: any ListableObjectStore

    init(config: StudioConfig, home: String) throws {
        database = try Self.open(config.database, role: "database", home: home)
        storage = try Self.open(config.storage, role: "storage", home: home)
    }

    init(database: any ListableObjectStore, storage: any ListableObjectStore) {
        self.database = database
        self.storage = storage
    }

    /// The store a config section describes. `local` keeps objects under a directory: the
    /// section's `endpoint` (a path or `file://` URL), else `$STUDIOML_HOME/store`.
    static func open(_ section: StoreConfig, role: String, home: String) throws -> any ListableObjectStore {
        switch section.type {
        case "local":
            var root = section.endpoint ?? home + "/store"
            if root.hasPrefix("file://") { root.removeFirst("file://".count) }
            return LocalObjectStore(root: root)
        case "gcs", "gs", "gcloud":
            // StudioML names the bucket in `bucket`; a `gs://bucket` endpoint is accepted too.
            var bucket = section.bucket
            if bucket == nil, let endpoint = section.endpoint, endpoint.hasPrefix("gs://") {
                bucket = String(endpoint.dropFirst("gs://".count).prefix { $0 != "/" })
            }
            guard let bucket, !bucket.isEmpty else {
                throw WorkerError("\(role).type \(section.type) needs a bucket: set \(role).bucket in the config")
            }
            do {
                return try GCSObjectStore.fromProcessEnvironment(bucket: bucket)
            } catch {
                throw WorkerError("\(role): \(error)")
            }
        case "s3":
            return try S3ObjectStore(config: section, role: role)
        case let other:
            throw WorkerError("\(role).type \(other) is not supported: use local, s3 or gcs")
        }
    }
}
