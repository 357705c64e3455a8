#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The payload line of a SigV4 canonical request: a hex SHA-256 of the body or a marker like `UNSIGNED-PAYLOAD`.
public struct AWSPayloadHash: Sendable, Equatable, CustomStringConvertible {
    /// The exact text placed in the canonical request (and in `x-amz-content-sha256`).
    public let value: String

    /// Wraps a precomputed lower-case hex SHA-256 or a marker string.
    public init(_ value: String) { self.value = value }

    /// The hash of `bytes`.
    public static func sha256<Bytes: DataProtocol>(of bytes: Bytes) -> AWSPayloadHash {
        AWSPayloadHash(Encoding.sha256Hex(bytes))
    }

    /// The hash of an empty body (`e3b0c442…b855`).
    public static let empty = AWSPayloadHash("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    /// `UNSIGNED-PAYLOAD`: S3 over TLS when the body cannot be hashed first, and presigned S3 URLs.
    public static let unsigned = AWSPayloadHash("UNSIGNED-PAYLOAD")
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: S3 aws-chunked uploads with a trailing checksum.
    public static let streamingUnsignedTrailer = AWSPayloadHash("STREAMING-UNSIGNED-PAYLOAD-TRAILER")

    /// The value itself.
    public var description: String { value }
}
