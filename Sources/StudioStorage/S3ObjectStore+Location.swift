#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioCredentials
import StudioModel

extension S3ObjectStore {
    /// A store for a bucket an artifact names itself (`s3://host:port/bucket/key`): signed with `credentials`
    /// (a `{"aws": {...}}` block) when given, else the AWS chain of `environment`. The bucket belongs to
    /// someone else, so it is never created: a missing one is reported by the first read or write.
    public static func forArtifactBucket(_ bucket: String, endpoint: String?, credentials: JSONValue?,
                                         environment: [String: String] = ProcessInfo.processInfo.environment) throws -> S3ObjectStore {
        var settings: StudioAWSSettings?
        if let aws = credentials?["aws"]?.objectValue {
            var dictionary: [String: String] = [:]
            for (name, value) in aws { if let text = value.scalarText, !value.isNull { dictionary[name] = text } }
            do { settings = try StudioAWSSettings(dictionary) } catch { throw StorageError("s3://\(bucket): credentials.aws: \(error)") }
        }
        let chain: AWSCredentialChain
        do {
            chain = try AWSCredentialChain(message: settings, environment: environment)
        } catch {
            throw StorageError("cannot use S3 bucket \(bucket): \(error)")
        }
        return S3ObjectStore(bucket: bucket, endpoint: Self.endpoint(configured: endpoint, region: chain.region, environment: environment),
                             chain: chain, createsBucket: false)
    }
}
