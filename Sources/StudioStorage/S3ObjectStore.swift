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

/// An S3 bucket as an object store, path-style (`<endpoint>/<bucket>/<key>`), which every S3-compatible
/// server (moto, MinIO, LocalStack) and AWS itself accept. The bucket is created on first use when missing.
/// Files above `multipartThreshold` are uploaded in parts streamed from disk (constant memory).
public final class S3ObjectStore: ListableObjectStore {
    /// The bucket.
    public let bucket: String
    /// The endpoint, e.g. `http://127.0.0.1:5000` or `https://s3.eu-west-1.amazonaws.com` (no trailing slash).
    public let endpoint: String
    /// Files larger than this go up in parts.
    public let multipartThreshold: Int64
    /// The size of each part but the last (at least 5 MiB, as S3 requires).
    public let partSize: Int64
    let client: S3Client
    private let region: String
    private let createsBucket: Bool
    private let bucketReady = Mutex(false)

    /// A store for `bucket` at `endpoint`, signing with `chain`.
    public init(bucket: String, endpoint: String, chain: AWSCredentialChain, createsBucket: Bool = true,
                multipartThreshold: Int64 = 64 << 20, partSize: Int64 = 16 << 20,
                transport: HTTPTransport = .shared, retry: RetryPolicy = .standard) {
        self.bucket = bucket
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        self.endpoint = base
        self.multipartThreshold = multipartThreshold
        self.partSize = max(5 << 20, partSize)
        self.createsBucket = createsBucket
        region = chain.region
        client = S3Client(chain: chain, transport: transport, retry: retry)
    }

    /// The store a config section (`type: s3`) describes: `bucket`, `endpoint` (else `AWS_ENDPOINT_URL_S3`,
    /// `AWS_ENDPOINT_URL`, or the regional AWS host) and `credentials.aws` (else the AWS chain).
    public convenience init(config: StoreConfig, role: String,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let bucket = config.bucket else {
            throw StorageError("\(role).bucket is missing: name the S3 bucket in the config (\(role).bucket: my-bucket)")
        }
        var settings: StudioAWSSettings?
        if let aws = config.credentialsJSON?["aws"]?.objectValue {
            var dictionary: [String: String] = [:]
            for (name, value) in aws { if let text = value.scalarText, !value.isNull { dictionary[name] = text } }
            do { settings = try StudioAWSSettings(dictionary) } catch { throw StorageError("\(role).credentials.aws: \(error)") }
        }
        let chain: AWSCredentialChain
        do {
            chain = try AWSCredentialChain(message: settings, environment: environment)
        } catch {
            throw StorageError("cannot use S3 bucket \(bucket) for the \(role): \(error)")
        }
        self.init(bucket: bucket, endpoint: Self.endpoint(configured: config.endpoint, region: chain.region, environment: environment),
                  chain: chain)
    }

    /// The configured endpoint (a bare `host:port` gets `https://`), else `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`,
    /// else `https://s3.<region>.amazonaws.com`.
    public static func endpoint(configured: String?, region: String, environment: [String: String]) -> String {
        let candidates = [configured, environment["AWS_ENDPOINT_URL_S3"], environment["AWS_ENDPOINT_URL"]]
        guard let chosen = candidates.lazy.compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
            return "https://s3.\(region).amazonaws.com"
        }
        return chosen.contains("://") ? chosen : "https://" + chosen
    }

    /// `endpoint/bucket/key` with the key percent-encoded (slashes kept), plus `query` when given.
    func url(_ key: String?, query: String? = nil) -> String {
        var url = endpoint + "/" + PercentEncoding.encode(bucket, keepSlash: false)
        if let key { url += "/" + PercentEncoding.encode(key, keepSlash: true) }
        if let query { url += "?" + query }
        return url
    }

    private func describe(_ key: String) -> String { "s3://\(bucket)/\(key)" }

    /// Creates the bucket if `HEAD` says it is missing (once per store). Writes call it only when S3
    /// answers NoSuchBucket, and reads never need it (nothing is in a bucket that does not exist):
    /// the common case costs no extra round trip.
    public func ensureBucket() async throws {
        if bucketReady.withLock({ $0 }) || !createsBucket { return }
        let head = try await client.send("HEAD", url(nil), operation: "HeadBucket \(bucket)")
        if head.status == 404 {
            var payload: S3Client.Payload = .none
            if region != "us-east-1" {
                payload = .bytes(Array(("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                    + "<LocationConstraint>\(XMLText.escape(region))</LocationConstraint></CreateBucketConfiguration>").utf8))
            }
            let created = try await client.send("PUT", url(nil), payload: payload, operation: "CreateBucket \(bucket)")
            let error = S3ServiceError(operation: "CreateBucket \(bucket)", status: created.status, body: created.body)
            guard created.isSuccess || error.code == "BucketAlreadyOwnedByYou" else {
                throw StorageError("\(error); create the bucket or check the credentials and region", transient: RetryPolicy.isRetryable(status: created.status))
            }
        } else if head.status == 401 || head.status == 403 {
            throw StorageError("S3 HeadBucket \(bucket) failed: access denied (HTTP \(head.status)); check the credentials and the bucket name")
        } else if !head.isSuccess {
            throw StorageError("S3 HeadBucket \(bucket) failed: HTTP \(head.status)", transient: RetryPolicy.isRetryable(status: head.status))
        }
        bucketReady.withLock { $0 = true }
    }

    public func get(_ key: String) async throws -> Data? {
        let reply = try await client.send("GET", url(key), operation: "GET \(describe(key))")
        if reply.status == 404 { return nil }
        guard reply.isSuccess else { throw StorageError(S3ServiceError(operation: "GET \(describe(key))", status: reply.status, body: reply.body)) }
        return Data(reply.body)
    }

    public func get(_ key: String, range: Range<Int>) async throws -> Data? {
        guard !range.isEmpty else { return try await exists(key) ? Data() : nil }
        let reply = try await client.send("GET", url(key), headers: [Self.rangeHeader(range)], operation: "GET \(describe(key))")
        if reply.status == 404 { return nil }
        if reply.status == 416 { return Data() } // the range starts past the end
        guard reply.isSuccess else { throw StorageError(S3ServiceError(operation: "GET \(describe(key))", status: reply.status, body: reply.body)) }
        // 206 is the part; a 200 is the whole object (a server that ignores ranges).
        return reply.status == 206 ? Data(reply.body) : Data(reply.body).part(range)
    }

    public func put(_ key: String, _ data: Data) async throws {
        try await creatingBucketIfMissing("PUT \(describe(key))") {
            try await client.send("PUT", url(key), headers: [("Content-Type", "binary/octet-stream")],
                                  payload: .bytes(Array(data)), operation: "PUT \(describe(key))")
        }
    }

    public func exists(_ key: String) async throws -> Bool {
        let reply = try await client.send("HEAD", url(key), operation: "HEAD \(describe(key))")
        if reply.status == 404 { return false }
        try check(reply, "HEAD \(describe(key))")
        return true
    }

    public func delete(_ key: String) async throws {
        let reply = try await client.send("DELETE", url(key), operation: "DELETE \(describe(key))")
        if reply.status == 404 { return }
        try check(reply, "DELETE \(describe(key))")
    }

    public func upload(_ key: String, fromFile path: String) async throws {
        var status = stat()
        guard stat(path, &status) == 0 else { throw StorageError("cannot upload \(path): \(String(cString: strerror(errno)))") }
        let size = Int64(status.st_size)
        if size > multipartThreshold {
            try await ensureBucket() // one HEAD is nothing next to a multipart upload
            try await multipartUpload(key, fromFile: path, size: size)
            return
        }
        try await creatingBucketIfMissing("PUT \(describe(key))") {
            try await client.send("PUT", url(key), headers: [("Content-Type", "binary/octet-stream")],
                                  payload: .file(path: path, offset: 0, length: size), timeout: .seconds(3600),
                                  operation: "PUT \(describe(key))")
        }
    }

    /// Sends a write; when S3 answers NoSuchBucket, creates the bucket (as StudioML does) and sends it again.
    private func creatingBucketIfMissing(_ operation: String, _ send: () async throws -> HTTPReply) async throws {
        var reply = try await send()
        if createsBucket, Self.isMissingBucket(reply) {
            try await ensureBucket()
            reply = try await send()
        }
        try check(reply, operation)
    }

    public func download(_ key: String, toFile path: String) async throws -> Bool {
        // Into a neighbour first, so a failed transfer never leaves a truncated file at `path`.
        let partial = path + ".part-\(getpid())"
        defer { unlink(partial) }
        let reply = try await client.download(url(key), toFile: partial, operation: "GET \(describe(key))")
        if reply.status == 404 { return false }
        try check(reply, "GET \(describe(key))")
        guard rename(partial, path) == 0 else { throw StorageError("cannot write \(path): \(String(cString: strerror(errno)))") }
        return true
    }

    /// Every key under `prefix`, following continuation tokens (ListObjectsV2).
    public func list(prefix: String) async throws -> [String] {
        try await listObjects(prefix: prefix, recursive: true).map(\.key)
    }

    /// The listing with each object's `Size` and `ETag`; not `recursive`, with `delimiter=/`.
    public func listObjects(prefix: String, recursive: Bool, startAfter: String?) async throws -> [ListedObject] {
        var keys: [ListedObject] = []
        var token: String?
        repeat {
            var query = "list-type=2&prefix=" + PercentEncoding.encode(prefix, keepSlash: false)
            if !recursive { query += "&delimiter=%2F" }
            if let startAfter { query += "&start-after=" + PercentEncoding.encode(startAfter, keepSlash: false) }
            if let token { query += "&continuation-token=" + PercentEncoding.encode(token, keepSlash: false) }
            let reply = try await client.send("GET", url(nil, query: query), operation: "ListObjectsV2 s3://\(bucket)/\(prefix)")
            if Self.isMissingBucket(reply) { return [] } // nothing is in a bucket that does not exist
            try check(reply, "ListObjectsV2 s3://\(bucket)/\(prefix)")
            let text = String(decoding: reply.body, as: UTF8.self)
            for contents in XMLText.texts(of: "Contents", in: text) {
                if let key = XMLText.text(of: "Key", in: contents), sortsAfter(key, startAfter) {
                    keys.append(ListedObject(key: key, size: XMLText.text(of: "Size", in: contents).flatMap { Int64($0) },
                                             version: XMLText.text(of: "ETag", in: contents)))
                }
            }
            token = XMLText.text(of: "IsTruncated", in: text) == "true" ? XMLText.text(of: "NextContinuationToken", in: text) : nil
        } while token != nil
        return keys.sorted { $0.key.precedesInKeyOrder($1.key) }
    }

    /// Whether S3 answered that the bucket itself does not exist.
    private static func isMissingBucket(_ reply: HTTPReply) -> Bool {
        reply.status == 404 && S3ServiceError(operation: "", status: reply.status, body: reply.body).code == "NoSuchBucket"
    }

    /// Throws the reply's S3 error unless it is a 2xx.
    func check(_ reply: HTTPReply, _ operation: String) throws {
        guard reply.isSuccess else {
            throw StorageError(S3ServiceError(operation: operation, status: reply.status, body: reply.body))
        }
    }
}
