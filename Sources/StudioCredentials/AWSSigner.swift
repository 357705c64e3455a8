#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// An HTTP header as a name/value pair; lists keep order and may repeat names.
public typealias HTTPHeaderField = (name: String, value: String)

/// Signs HTTP requests with AWS Signature Version 4 (header form and presigned-URL form).
public struct AWSSigner: Sendable {
    /// The key pair (and session token) to sign with.
    public var credentials: AWSCredentials
    /// The region in the credential scope, e.g. `us-east-1`.
    public var region: String
    /// The signing name in the credential scope, e.g. `s3`, `sqs`, `sts`.
    public var service: String
    /// Non-S3 services remove `.`/`..`/empty path segments and encode the wire path again (double encoding);
    /// S3 signs the object path as-is, encoded once. Defaults to `service != "s3"`.
    public var normalizesPath: Bool
    /// Adds and signs `x-amz-content-sha256` (required by S3). Defaults to `service == "s3"`.
    public var addsContentSHA256Header: Bool
    /// Signs `X-Amz-Security-Token`; when false it is added after signing (a few services want that).
    public var signsSessionToken: Bool = true

    /// Headers never signed: proxies and clients may change them in flight (botocore's list plus hop-by-hop ones).
    static let unsignedHeaderNames: Set<String> = [
        "authorization", "connection", "expect", "transfer-encoding", "user-agent", "x-amzn-trace-id",
    ]

    /// Creates a signer with the S3 / non-S3 defaults chosen from `service`.
    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.normalizesPath = service != "s3"
        self.addsContentSHA256Header = service == "s3"
    }

    /// Signs a request to be sent with `Authorization`; `url` carries the path and query exactly as sent.
    public func sign(method: String, url: String, headers: [HTTPHeaderField] = [],
                     payload: AWSPayloadHash = .empty, date: Date) throws -> AWSSignedRequest {
        let target = try AWSRequestURL(url)
        let amzDate = Timestamps.amzDate(date)
        let scope = credentialScope(date: date)

        var headersToSend = headers.filter { header in
            let name = header.name.lowercased()
            return !["authorization", "x-amz-date", "x-amz-security-token"].contains(name)
                && !(addsContentSHA256Header && name == "x-amz-content-sha256")
        }
        headersToSend.append(("X-Amz-Date", amzDate))
        if addsContentSHA256Header { headersToSend.append(("x-amz-content-sha256", payload.value)) }
        if signsSessionToken, let token = credentials.sessionToken {
            headersToSend.append(("X-Amz-Security-Token", token))
        }

        let canonical = canonicalHeaders(headersToSend, host: target.authority)
        let canonicalRequest = [
            method.uppercased(), canonicalURI(target.path), canonicalQuery(target.queryItems),
            canonical.lines, canonical.signedHeaders, payload.value,
        ].joined(separator: "\n")
        let stringToSign = self.stringToSign(canonicalRequest: canonicalRequest, amzDate: amzDate, scope: scope)
        let signature = self.signature(of: stringToSign, date: date)
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope), "
            + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"

        if !signsSessionToken, let token = credentials.sessionToken {
            headersToSend.append(("X-Amz-Security-Token", token))
        }
        headersToSend.append(("Authorization", authorization))
        return AWSSignedRequest(headers: headersToSend, canonicalRequest: canonicalRequest, stringToSign: stringToSign,
                                signedHeaders: canonical.signedHeaders, signature: signature)
    }

    /// Builds a presigned URL valid for `expires` seconds; `payload` defaults to `UNSIGNED-PAYLOAD` for S3
    /// and the empty-body hash otherwise.
    public func presign(method: String, url: String, headers: [HTTPHeaderField] = [], expires: Int,
                        payload: AWSPayloadHash? = nil, date: Date) throws -> AWSPresignedURL {
        let target = try AWSRequestURL(url)
        let amzDate = Timestamps.amzDate(date)
        let scope = credentialScope(date: date)
        let canonical = canonicalHeaders(headers, host: target.authority)

        var items = target.queryItems.filter { !$0.name.hasPrefix("X-Amz-") }
        items.append(("X-Amz-Algorithm", "AWS4-HMAC-SHA256"))
        items.append(("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope)"))
        items.append(("X-Amz-Date", amzDate))
        items.append(("X-Amz-Expires", String(expires)))
        items.append(("X-Amz-SignedHeaders", canonical.signedHeaders))
        if signsSessionToken, let token = credentials.sessionToken { items.append(("X-Amz-Security-Token", token)) }
        let query = canonicalQuery(items)

        let payloadLine = (payload ?? (service == "s3" ? .unsigned : .empty)).value
        let canonicalRequest = [
            method.uppercased(), canonicalURI(target.path), query, canonical.lines, canonical.signedHeaders, payloadLine,
        ].joined(separator: "\n")
        let stringToSign = self.stringToSign(canonicalRequest: canonicalRequest, amzDate: amzDate, scope: scope)
        let signature = self.signature(of: stringToSign, date: date)
        var finalQuery = query + "&X-Amz-Signature=" + signature
        if !signsSessionToken, let token = credentials.sessionToken {
            finalQuery += "&X-Amz-Security-Token=" + PercentEncoding.encode(token, keepSlash: false)
        }
        return AWSPresignedURL(url: target.withoutQuery + "?" + finalQuery, canonicalRequest: canonicalRequest,
                               stringToSign: stringToSign, signature: signature)
    }

    // MARK: - The algorithm's pieces (docs/aws.md#request-signing-sigv4)

    /// `YYYYMMDD/region/service/aws4_request`.
    public func credentialScope(date: Date) -> String {
        "\(Timestamps.amzDate(date).prefix(8))/\(region)/\(service)/aws4_request"
    }

    /// The canonical URI of a wire path: normalised and re-encoded for most services, encoded once for S3.
    func canonicalURI(_ wirePath: String) -> String {
        if normalizesPath {
            return PercentEncoding.encode(Self.removingDotSegments(wirePath), keepSlash: true)
        }
        return PercentEncoding.encode(PercentEncoding.decode(wirePath), keepSlash: true)
    }

    /// Removes `.`, `..` and empty segments, keeping a trailing slash.
    static func removingDotSegments(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(segment)
            }
        }
        let keepsTrailingSlash = path.hasSuffix("/") && !segments.isEmpty
        return "/" + segments.joined(separator: "/") + (keepsTrailingSlash ? "/" : "")
    }

    /// Encoded `name=value` pairs sorted by name then value, joined with `&`.
    func canonicalQuery(_ items: [HTTPHeaderField]) -> String {
        let encoded: [(name: String, value: String)] = items.map { item in
            (PercentEncoding.encode(item.name, keepSlash: false), PercentEncoding.encode(item.value, keepSlash: false))
        }
        let sorted = encoded.sorted { left, right in
            left.name == right.name ? left.value < right.value : left.name < right.name
        }
        return sorted.map { $0.name + "=" + $0.value }.joined(separator: "&")
    }

    /// The canonical header block (each line ends in `\n`) and the `;`-joined signed header names.
    func canonicalHeaders(_ headers: [HTTPHeaderField], host: String) -> (lines: String, signedHeaders: String) {
        var values: [String: [String]] = [:]
        for header in headers {
            let name = header.name.lowercased()
            guard !Self.unsignedHeaderNames.contains(name) else { continue }
            values[name, default: []].append(Self.collapsingWhitespace(header.value))
        }
        if values["host"] == nil { values["host"] = [host] }
        let names = values.keys.sorted()
        let lines = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
        return (lines, names.joined(separator: ";"))
    }

    /// Trims a header value and turns every internal whitespace run (folded lines included) into one space.
    static func collapsingWhitespace(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
            .joined(separator: " ")
    }

    func stringToSign(canonicalRequest: String, amzDate: String, scope: String) -> String {
        "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n" + Encoding.sha256Hex(Array(canonicalRequest.utf8))
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
    func signingKey(date: Date) -> SymmetricKey {
        func hmac(_ key: SymmetricKey, _ text: String) -> SymmetricKey {
            SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key))
        }
        let day = String(Timestamps.amzDate(date).prefix(8))
        let secret = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey).utf8))
        return hmac(hmac(hmac(hmac(secret, day), region), service), "aws4_request")
    }

    func signature(of stringToSign: String, date: Date) -> String {
        Encoding.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signingKey(date: date)))
    }
}

/// The result of header signing: the headers to send and the intermediate values (for tests and debugging).
public struct AWSSignedRequest: Sendable {
    /// The caller's headers plus `X-Amz-Date`, `x-amz-content-sha256` (S3), `X-Amz-Security-Token` and
    /// `Authorization`; `Host` is not added (the HTTP client sends it from the URL).
    public let headers: [HTTPHeaderField]
    /// The canonical request that was hashed.
    public let canonicalRequest: String
    /// The string that was signed.
    public let stringToSign: String
    /// The `;`-joined signed header names.
    public let signedHeaders: String
    /// The hex signature.
    public let signature: String

    /// The first value of header `name` (case-insensitive).
    public func value(forHeader name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}

/// A presigned URL and the intermediate values.
public struct AWSPresignedURL: Sendable {
    /// The URL to request, with the `X-Amz-*` query parameters and the signature.
    public let url: String
    /// The canonical request that was hashed.
    public let canonicalRequest: String
    /// The string that was signed.
    public let stringToSign: String
    /// The hex signature.
    public let signature: String
}
