#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension AWSSigner {
    /// The content type of AWS JSON 1.0 requests (SQS, DynamoDB).
    public static let json10ContentType = "application/x-amz-json-1.0"

    /// Signs an AWS JSON-protocol `POST`: adds `X-Amz-Target: <target>` and the JSON content type, hashes `body`.
    public func signJSONRequest(target: String, url: String, body: [UInt8], date: Date,
                                contentType: String = AWSSigner.json10ContentType) throws -> AWSSignedRequest {
        try sign(method: "POST", url: url,
                 headers: [("Content-Type", contentType), ("X-Amz-Target", target)],
                 payload: .sha256(of: body), date: date)
    }

    /// Signs an SQS JSON 1.0 call such as `ReceiveMessage` (target `AmazonSQS.<action>`).
    public func signSQSRequest(action: String, url: String, body: [UInt8], date: Date) throws -> AWSSignedRequest {
        try signJSONRequest(target: "AmazonSQS." + action, url: url, body: body, date: date)
    }
}
