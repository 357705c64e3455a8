#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioHTTP

extension AWSCredentialProvider {
    /// The STS endpoint: `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, else the regional host.
    var stsEndpoint: String {
        let base = setting("AWS_ENDPOINT_URL_STS") ?? setting("AWS_ENDPOINT_URL") ?? "https://sts.\(region).amazonaws.com"
        return base.hasSuffix("/") ? base : base + "/"
    }

    /// STS `AssumeRoleWithWebIdentity` (query protocol, unsigned) with the token file read now (docs/aws.md#web-identity-sts-assumerolewithwebidentity);
    /// an `InvalidIdentityToken` or `ExpiredTokenException` answer re-reads the file and tries once more.
    func assumeRoleWithWebIdentity(roleArn: String, tokenFile: String, sessionName: String?) async throws -> AWSCredentials {
        var retriedToken = false
        while true {
            var file = RotatingFile(path: tokenFile)
            let token = Encoding.trimmed(String(decoding: try file.read().contents, as: UTF8.self))
            guard !token.isEmpty else {
                throw CredentialsError(.missingField, "the web identity token file \(tokenFile) is empty")
            }
            let session = sessionName ?? "studio-\(Int(Date().timeIntervalSince1970))"
            let form = [("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleArn),
                        ("RoleSessionName", session), ("WebIdentityToken", token), ("DurationSeconds", "3600")]
                .map { PercentEncoding.encode($0.0, keepSlash: false) + "=" + PercentEncoding.encode($0.1, keepSlash: false) }
                .joined(separator: "&")
            let request = HTTPRequestSpec(method: "POST", url: stsEndpoint, headers: [
                ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("Accept", "text/xml"),
            ], body: .bytes(Array(form.utf8)))
            let reply: HTTPReply
            do {
                reply = try await RetryPolicy(maxAttempts: 4).send(transport) { request }
            } catch {
                throw CredentialsError(.notFound, "cannot reach STS at \(HTTPTransport.redactedURL(stsEndpoint)) for web identity "
                                       + "role \(roleArn): \(error)")
            }
            let text = String(decoding: reply.body, as: UTF8.self)
            guard reply.isSuccess else {
                let code = XMLText.text(of: "Code", in: text) ?? "HTTP \(reply.status)"
                if !retriedToken, code == "InvalidIdentityToken" || code == "ExpiredTokenException" {
                    retriedToken = true
                    continue
                }
                let message = XMLText.text(of: "Message", in: text) ?? ""
                throw CredentialsError(.invalidField, "STS refused AssumeRoleWithWebIdentity for \(roleArn) with token file "
                                       + "\(tokenFile): \(code)" + (message.isEmpty ? "" : ": \(message)"))
            }
            guard let accessKey = XMLText.text(of: "AccessKeyId", in: text),
                  let secretKey = XMLText.text(of: "SecretAccessKey", in: text) else {
                throw CredentialsError(.malformedFile, "STS answered AssumeRoleWithWebIdentity for \(roleArn) without credentials")
            }
            let expiration = XMLText.text(of: "Expiration", in: text).flatMap(Timestamps.parseRFC3339)
            return AWSCredentials(accessKeyId: accessKey, secretAccessKey: secretKey,
                                  sessionToken: XMLText.text(of: "SessionToken", in: text), expiration: expiration)
        }
    }
}
