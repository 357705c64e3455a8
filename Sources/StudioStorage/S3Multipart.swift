#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioCredentials

extension S3ObjectStore {
    /// Uploads `size` bytes of `path` in parts of `partSize` (each streamed from the file), then completes
    /// the upload; any failure aborts it so S3 frees the parts already stored.
    func multipartUpload(_ key: String, fromFile path: String, size: Int64) async throws {
        let target = "s3://\(bucket)/\(key)"
        let initiated = try await client.send("POST", url(key, query: "uploads="), headers: [("Content-Type", "binary/octet-stream")],
                                              operation: "CreateMultipartUpload \(target)")
        try check(initiated, "CreateMultipartUpload \(target)")
        guard let uploadId = XMLText.text(of: "UploadId", in: String(decoding: initiated.body, as: UTF8.self)) else {
            throw StorageError("S3 CreateMultipartUpload \(target) answered without an UploadId")
        }
        let uploadQuery = "uploadId=" + PercentEncoding.encode(uploadId, keepSlash: false)
        do {
            var etags: [String] = []
            var offset: Int64 = 0
            var number = 1
            while offset < size {
                let length = min(partSize, size - offset)
                let operation = "UploadPart \(number) of \(target)"
                let reply = try await client.send("PUT", url(key, query: "partNumber=\(number)&" + uploadQuery),
                                                  payload: .file(path: path, offset: offset, length: length),
                                                  timeout: .seconds(1800), operation: operation)
                try check(reply, operation)
                guard let etag = reply.header("ETag") else { throw StorageError("S3 \(operation) answered without an ETag") }
                etags.append(etag)
                offset += length
                number += 1
            }
            var document = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            for (index, etag) in etags.enumerated() {
                document += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(XMLText.escape(etag))</ETag></Part>"
            }
            document += "</CompleteMultipartUpload>"
            let operation = "CompleteMultipartUpload \(target)"
            let completed = try await client.send("POST", url(key, query: uploadQuery), headers: [("Content-Type", "application/xml")],
                                                  payload: .bytes(Array(document.utf8)), timeout: .seconds(900), operation: operation)
            try check(completed, operation)
            // S3 may answer 200 and still fail: the error then comes in the body (docs/aws.md#s3-multipart-uploads).
            let text = String(decoding: completed.body, as: UTF8.self)
            if text.contains("<Error>") {
                throw StorageError(S3ServiceError(operation: operation, status: completed.status, body: completed.body))
            }
        } catch {
            // A task of its own: when the upload's task was cancelled (studio run interrupted), a request made in it
            // would be cancelled too, and the parts stored so far would stay (billed) until a lifecycle rule ran.
            let abortURL = url(key, query: uploadQuery), client = self.client
            _ = await Task { try? await client.send("DELETE", abortURL, operation: "AbortMultipartUpload \(target)") }.value
            throw error
        }
    }
}
