#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioCredentials
import StudioHTTP
import StudioModel
import Synchronization

/// A Google Cloud Storage bucket through the JSON API: `storage.type: gcs` / `database.type: gcs`. Downloads
/// stream to files; uploads up to `simpleUploadLimit` go in one request, larger ones as a resumable upload in
/// 8 MiB chunks read from the file (constant memory). `STORAGE_EMULATOR_HOST` selects plain HTTP without auth.
public final class GCSObjectStore: ListableObjectStore, Sendable {
    /// The bucket.
    public let bucket: String
    /// The API client (base URL, tokens, retries).
    public let client: GoogleAPIClient
    /// Files larger than this are uploaded in chunks.
    public let simpleUploadLimit: Int64
    /// The chunk size of resumable uploads (a multiple of 256 KiB, as the API requires).
    public let chunkSize: Int64

    private let project: String?
    private let bucketChecked = Mutex<Bool>(false)

    /// A store for `bucket` on `client`'s endpoint; `project` is used only to create a missing bucket.
    public init(bucket: String, client: GoogleAPIClient, project: String? = nil,
                simpleUploadLimit: Int64 = 8 << 20, chunkSize: Int64 = 8 << 20) throws {
        guard !bucket.isEmpty, !bucket.contains("/") else {
            throw StorageError("'\(bucket)' is not a GCS bucket name; set the section's bucket: to a bucket name")
        }
        self.bucket = bucket
        self.client = client
        self.project = project
        self.simpleUploadLimit = simpleUploadLimit
        self.chunkSize = max(256 << 10, chunkSize / (256 << 10) * (256 << 10))
    }

    /// The bucket as `environment` configures access: `STORAGE_EMULATOR_HOST` (no auth), else Application
    /// Default Credentials.
    public convenience init(bucket: String, environment: [String: String], retry: RetryPolicy = .standard) throws {
        let endpoint = GoogleAPIClient.endpoint(emulatorHost: environment["STORAGE_EMULATOR_HOST"],
                                                defaultURL: "https://storage.googleapis.com")
        var tokens: GoogleTokenProvider?
        if !endpoint.isEmulator {
            do { tokens = try GoogleTokenProvider.applicationDefault(environment: environment) } catch {
                throw StorageError("GCS bucket \(bucket): \(error)")
            }
        }
        let project = ["GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT"].compactMap { environment[$0] }.first { !$0.isEmpty }
        try self.init(bucket: bucket, client: GoogleAPIClient(baseURL: endpoint.url, tokens: tokens, retry: retry),
                      project: project ?? (endpoint.isEmulator ? "studio-emulator" : nil))
    }

    /// The bucket as this process's environment configures access (see `init(bucket:environment:)`).
    public static func fromProcessEnvironment(bucket: String) throws -> GCSObjectStore {
        try GCSObjectStore(bucket: bucket, environment: ProcessInfo.processInfo.environment)
    }

    private var objectsPath: String { "/storage/v1/b/\(GoogleAPIClient.encode(bucket))/o" }
    private func objectPath(_ key: String) -> String { objectsPath + "/" + GoogleAPIClient.encode(key) }

    public func get(_ key: String) async throws -> Data? {
        let reply = try await call("read \(key)") { try await self.client.send("GET", self.objectPath(key) + "?alt=media") }
        if reply.status == 404 { return nil }
        guard reply.isSuccess else { throw failure(reply, "read \(key)") }
        return Data(reply.body)
    }

    public func get(_ key: String, range: Range<Int>) async throws -> Data? {
        guard !range.isEmpty else { return try await exists(key) ? Data() : nil }
        let reply = try await call("read \(key)") {
            try await self.client.send("GET", self.objectPath(key) + "?alt=media", headers: [Self.rangeHeader(range)])
        }
        if reply.status == 404 { return nil }
        if reply.status == 416 { return Data() } // the range starts past the end
        guard reply.isSuccess else { throw failure(reply, "read \(key)") }
        return reply.status == 206 ? Data(reply.body) : Data(reply.body).part(range)
    }

    public func put(_ key: String, _ data: Data) async throws {
        try await ensureBucket()
        let path = "/upload" + objectsPath + "?uploadType=media&name=" + GoogleAPIClient.encode(key)
        let bytes = Array(data)
        let reply = try await call("write \(key)") {
            try await self.client.send("POST", path, headers: [("Content-Type", "application/octet-stream")], body: .bytes(bytes))
        }
        guard reply.isSuccess else { throw failure(reply, "write \(key)") }
    }

    public func exists(_ key: String) async throws -> Bool {
        let reply = try await call("look up \(key)") { try await self.client.send("GET", self.objectPath(key)) }
        if reply.status == 404 { return false }
        guard reply.isSuccess else { throw failure(reply, "look up \(key)") }
        return true
    }

    public func delete(_ key: String) async throws {
        let reply = try await call("delete \(key)") { try await self.client.send("DELETE", self.objectPath(key)) }
        guard reply.isSuccess || reply.status == 404 else { throw failure(reply, "delete \(key)") }
    }

    public func upload(_ key: String, fromFile path: String) async throws {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw StorageError("cannot upload \(path) to gs://\(bucket)/\(key): \(String(cString: strerror(errno)))")
        }
        try await ensureBucket()
        let size = Int64(status.st_size)
        if size <= simpleUploadLimit {
            let uploadPath = "/upload" + objectsPath + "?uploadType=media&name=" + GoogleAPIClient.encode(key)
            let reply = try await call("upload \(key)") {
                try await self.client.send("POST", uploadPath, headers: [("Content-Type", "application/octet-stream")],
                                           body: .file(path: path, offset: 0, length: size), timeout: .seconds(3600))
            }
            guard reply.isSuccess else { throw failure(reply, "upload \(key)") }
            return
        }
        try await resumableUpload(key, fromFile: path, size: size)
    }

    /// Starts a resumable session, then PUTs `chunkSize` pieces with `Content-Range`; a 308 answer's `Range`
    /// says how much the server kept, so a chunk cut short is sent again from there.
    private func resumableUpload(_ key: String, fromFile path: String, size: Int64) async throws {
        let startPath = "/upload" + objectsPath + "?uploadType=resumable&name=" + GoogleAPIClient.encode(key)
        let start = try await call("upload \(key)") {
            try await self.client.send("POST", startPath, headers: [("Content-Type", "application/json"),
                                                                    ("X-Upload-Content-Type", "application/octet-stream"),
                                                                    ("X-Upload-Content-Length", String(size))],
                                       body: .bytes(Array("{}".utf8)))
        }
        guard start.isSuccess, var session = start.header("Location") else { throw failure(start, "start uploading \(key)") }
        // The emulator may answer with its own host name; keep the configured base, as the API allows.
        if let relative = Self.pathAndQuery(session), !session.hasPrefix(client.baseURL) { session = client.baseURL + relative }
        let sessionURL = session
        var offset: Int64 = 0
        while offset < size {
            let length = min(chunkSize, size - offset)
            let range = "bytes \(offset)-\(offset + length - 1)/\(size)"
            let chunkOffset = offset
            let reply = try await call("upload \(key)") {
                try await self.client.send("PUT", sessionURL, headers: [("Content-Range", range)],
                                           body: .file(path: path, offset: chunkOffset, length: length), timeout: .seconds(600))
            }
            if reply.isSuccess { return }
            guard reply.status == 308 else { throw failure(reply, "upload \(key)") }
            offset = reply.header("Range").flatMap(Self.persistedEnd).map { $0 + 1 } ?? 0
        }
        throw StorageError("uploading \(key) to gs://\(bucket): the server never confirmed the last chunk")
    }

    public func download(_ key: String, toFile path: String) async throws -> Bool {
        let reply = try await call("download \(key)") {
            try await self.client.download(self.objectPath(key) + "?alt=media", toFile: path)
        }
        if reply.status == 404 { return false }
        guard reply.isSuccess else { throw failure(reply, "download \(key)") }
        return true
    }

    public func list(prefix: String) async throws -> [String] {
        try await listObjects(prefix: prefix, recursive: true).map(\.key)
    }

    /// The listing with each object's size and generation (a new one for every write); not `recursive`,
    /// with `delimiter=/`. `startOffset` is inclusive where `startAfter` is not, so the start itself is
    /// dropped here (as is everything before it, from a server that ignores `startOffset`).
    public func listObjects(prefix: String, recursive: Bool, startAfter: String?) async throws -> [ListedObject] {
        var objects: [ListedObject] = []
        var pageToken: String?
        repeat {
            var path = objectsPath + "?fields=" + GoogleAPIClient.encode("items(name,size,generation),nextPageToken")
            if !prefix.isEmpty { path += "&prefix=" + GoogleAPIClient.encode(prefix) }
            if !recursive { path += "&delimiter=" + GoogleAPIClient.encode("/") }
            if let startAfter { path += "&startOffset=" + GoogleAPIClient.encode(startAfter) }
            if let pageToken { path += "&pageToken=" + GoogleAPIClient.encode(pageToken) }
            let listPath = path
            let reply = try await call("list \(prefix)") { try await self.client.send("GET", listPath) }
            if reply.status == 404 { return [] }
            guard reply.isSuccess else { throw failure(reply, "list \(prefix)") }
            let page = try GCSListPage(reply.body)
            objects += page.objects.filter {
                $0.key.hasPrefix(prefix) && sortsAfter($0.key, startAfter) && (recursive || !$0.key.dropFirst(prefix.count).contains("/"))
            }
            pageToken = page.nextPageToken
        } while pageToken != nil
        return objects.sorted { $0.key.precedesInKeyOrder($1.key) }
    }

    /// Creates the bucket when it does not exist (once per store; a missing permission to create is not fatal
    /// here, the write that follows says what is wrong).
    private func ensureBucket() async throws {
        if bucketChecked.withLock({ $0 }) { return }
        let bucketPath = "/storage/v1/b/" + GoogleAPIClient.encode(bucket)
        let existing = try await call("look up the bucket") { try await self.client.send("GET", bucketPath) }
        if existing.status == 404 {
            var projectId = project
            if projectId == nil, let tokens = client.tokens { projectId = try? await tokens.projectId() }
            if let projectId {
                let json = #"{"name":"# + JSONValue.string(bucket).serialized(.compact) + "}"
                let created = try await call("create the bucket") {
                    try await self.client.sendJSON("POST", "/storage/v1/b?project=" + GoogleAPIClient.encode(projectId), json: json)
                }
                guard created.isSuccess || created.status == 409 || created.status == 403 else {
                    throw failure(created, "create the bucket")
                }
            }
        }
        bucketChecked.withLock { $0 = true }
    }

    private func call(_ what: String, _ body: @Sendable () async throws -> HTTPReply) async throws -> HTTPReply {
        do {
            return try await body()
        } catch let error as HTTPTransportError {
            throw StorageError("cannot \(what) in gs://\(bucket): \(error)", transient: true)
        } catch let error as CredentialsError {
            throw StorageError("cannot \(what) in gs://\(bucket): \(error)")
        }
    }

    private func failure(_ reply: HTTPReply, _ what: String) -> StorageError {
        var hint = ""
        if reply.status == 401 || reply.status == 403 { hint = "; grant the credentials roles/storage.objectAdmin on the bucket" }
        if reply.status == 404 { hint = "; check that bucket \(bucket) exists" }
        return StorageError("cannot \(what) in gs://\(bucket): \(GoogleAPIClient.errorSummary(reply))\(hint)",
                            transient: RetryPolicy.isRetryable(status: reply.status))
    }

    /// `N` of a `Range: bytes=0-N` header.
    static func persistedEnd(_ header: String) -> Int64? {
        guard let dash = header.lastIndex(of: "-") else { return nil }
        return Int64(header[header.index(after: dash)...])
    }

    /// The path and query of an absolute URL.
    static func pathAndQuery(_ url: String) -> String? {
        guard let scheme = url.firstRange(of: "://") else { return nil }
        let rest = url[scheme.upperBound...]
        return rest.firstIndex(of: "/").map { String(rest[$0...]) }
    }
}

/// One page of an objects list answer.
struct GCSListPage {
    var objects: [ListedObject] = []
    var nextPageToken: String?

    init(_ body: [UInt8]) throws {
        guard let json = try? JSONValue(parsing: Data(body)) else {
            throw StorageError("GCS answered a list request with invalid JSON")
        }
        objects = (json["items"]?.arrayValue ?? []).compactMap { item in
            guard let name = item["name"]?.stringValue else { return nil }
            // JSON API int64 fields arrive as strings.
            let size = item["size"]?.stringValue.flatMap { Int64($0) }
            let generation = item["generation"]?.stringValue
            return ListedObject(key: name, size: size, version: generation.map { "\($0)-\(size ?? -1)" })
        }
        nextPageToken = json["nextPageToken"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
    }
}
