#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioHTTP

extension AWSCredentialProvider {
    /// Hosts botocore accepts for a plain-http `AWS_CONTAINER_CREDENTIALS_FULL_URI` (docs/aws.md#container-credentials-ecs-eks-pod-identity).
    static let allowedContainerHosts: Set<String> = ["169.254.170.2", "169.254.170.23", "[fd00:ec2::23]", "localhost", "[::1]"]

    /// Whether `uri` may be sent the container authorization token: https, or http to loopback / the ECS/EKS agents.
    public static func isAllowedContainerURI(_ uri: String) -> Bool {
        let lower = uri.lowercased()
        if lower.hasPrefix("https://") { return true }
        guard lower.hasPrefix("http://") else { return false }
        var authority = lower.dropFirst("http://".count).prefix { $0 != "/" && $0 != "?" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host = String(authority)
        if host.hasPrefix("[") {
            if let end = host.firstIndex(of: "]") { host = String(host[...end]) }
        } else if let colon = host.firstIndex(of: ":") {
            host = String(host[..<colon])
        }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        let isLoopbackIPv4 = octets.count == 4 && octets.first == "127" && octets.allSatisfy { UInt8($0) != nil }
        return allowedContainerHosts.contains(host) || isLoopbackIPv4
    }

    /// `GET` the container credentials endpoint with the token (file re-read now) in `Authorization`.
    func containerCredentials(uri: String, authorizationTokenFile: String?, authorizationToken: String?) async throws -> AWSCredentials {
        guard Self.isAllowedContainerURI(uri) else {
            throw CredentialsError(.invalidURL, "AWS_CONTAINER_CREDENTIALS_FULL_URI \(HTTPTransport.redactedURL(uri)) is neither https "
                                   + "nor a loopback, 169.254.170.2, 169.254.170.23 or [fd00:ec2::23] address; fix the variable")
        }
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        var token = authorizationToken
        if let authorizationTokenFile {
            var file = RotatingFile(path: authorizationTokenFile)
            token = Encoding.trimmed(String(decoding: try file.read().contents, as: UTF8.self))
        }
        if let token, !token.isEmpty {
            guard !token.contains("\r"), !token.contains("\n") else {
                throw CredentialsError(.invalidField, "the container authorization token contains a line break; fix "
                                       + (authorizationTokenFile ?? "AWS_CONTAINER_AUTHORIZATION_TOKEN"))
            }
            headers.append(("Authorization", token))
        }
        let request = HTTPRequestSpec(method: "GET", url: uri, headers: headers)
        let reply: HTTPReply
        do {
            reply = try await RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(500), maxDelay: .seconds(1)).send(transport) {
                request
            }
        } catch {
            throw CredentialsError(.notFound, "cannot reach the container credentials endpoint \(HTTPTransport.redactedURL(uri)): \(error)")
        }
        guard reply.isSuccess else {
            throw CredentialsError(.notFound, "the container credentials endpoint \(HTTPTransport.redactedURL(uri)) answered "
                                   + "HTTP \(reply.status); check the task role or pod identity association")
        }
        return try Self.parseCredentialDocument(reply.body, context: "the container credentials endpoint")
    }

    /// The IMDS base URL: `AWS_EC2_METADATA_SERVICE_ENDPOINT` or `http://169.254.169.254`.
    var instanceMetadataEndpoint: String {
        var base = setting("AWS_EC2_METADATA_SERVICE_ENDPOINT") ?? "http://169.254.169.254"
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    /// IMDSv2: a session token (`PUT /latest/api/token`), the role name, then the role's credentials (docs/aws.md#imdsv2-the-ec2-instance-role).
    func instanceMetadataCredentials() async throws -> AWSCredentials {
        guard !AWSCredentialResolution.instanceMetadataDisabled(environment: environment) else {
            throw CredentialsError(.notFound, "EC2 instance metadata is disabled (AWS_EC2_METADATA_DISABLED=true)")
        }
        let base = instanceMetadataEndpoint
        let retry = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(200), maxDelay: .seconds(1))
        func call(_ method: String, _ path: String, _ headers: [(name: String, value: String)]) async throws -> HTTPReply {
            do {
                return try await retry.send(transport, timeout: .seconds(2)) {
                    HTTPRequestSpec(method: method, url: base + path, headers: headers)
                }
            } catch let error as HTTPTransportError {
                throw CredentialsError(.notFound, "EC2 instance metadata at \(base) did not answer: \(error)")
            }
        }
        let tokenReply = try await call("PUT", "/latest/api/token", [("X-aws-ec2-metadata-token-ttl-seconds", "21600")])
        guard tokenReply.isSuccess else {
            throw CredentialsError(.notFound, "EC2 instance metadata at \(base) refused a session token (HTTP \(tokenReply.status)); "
                                   + "inside a container the instance needs HttpPutResponseHopLimit ≥ 2")
        }
        let token = Encoding.trimmed(String(decoding: tokenReply.body, as: UTF8.self))
        let auth = [(name: "X-aws-ec2-metadata-token", value: token)]
        let rolesPath = "/latest/meta-data/iam/security-credentials/"
        let roles = try await call("GET", rolesPath, auth)
        let role = roles.isSuccess
            ? String(decoding: roles.body, as: UTF8.self).split(whereSeparator: \.isNewline).first.map { Encoding.trimmed($0) } : nil
        guard let role, !role.isEmpty else {
            throw CredentialsError(.notFound, "EC2 instance metadata at \(base) lists no instance role (HTTP \(roles.status)); "
                                   + "attach an instance profile")
        }
        let document = try await call("GET", rolesPath + role, auth)
        guard document.isSuccess else {
            throw CredentialsError(.notFound, "EC2 instance metadata at \(base) has no credentials for role \(role) (HTTP \(document.status))")
        }
        return try Self.parseCredentialDocument(document.body, context: "EC2 instance metadata role \(role)")
    }
}
