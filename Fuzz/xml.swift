// libFuzzer target: the XML (and JSON error) replies of S3 and SQS, read as the clients read them.
import StudioCredentials

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)
    // S3ObjectStore.list: ListObjectsV2 pages.
    for contents in XMLText.texts(of: "Contents", in: text) { _ = XMLText.text(of: "Key", in: contents) }
    if XMLText.text(of: "IsTruncated", in: text) == "true" { _ = XMLText.text(of: "NextContinuationToken", in: text) }
    _ = XMLText.text(of: "UploadId", in: text)
    _ = S3ServiceError(operation: "GET s3://fuzz/key", status: 403, body: bytes).description
    // SQS: JSON protocol errors, query-mode XML errors, with the query error header from the first line.
    let header = text.split(separator: "\n", maxSplits: 1).first.map(String.init)
    _ = SQSServiceError(action: "ReceiveMessage", status: 400, body: bytes, queryErrorHeader: header).description
    _ = SQSServiceError(action: "ReceiveMessage", status: 400, body: bytes, queryErrorHeader: nil).isMissingQueue
    return 0
}
