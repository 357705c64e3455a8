#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An `external_account` file (Workload Identity Federation): a subject token exchanged at STS (docs/google.md#workload-identity-federation-external_account).
public struct GoogleExternalAccount: Sendable, Equatable, CustomStringConvertible {
    /// Where the subject token comes from.
    public enum Source: Sendable, Equatable {
        /// A file, re-read at every refresh (a projected Kubernetes token rotates).
        case file(path: String)
        /// A URL to GET (with extra headers).
        case url(String, headers: [String: String])
    }

    /// How the subject token is stored in the file or response.
    public enum Format: Sendable, Equatable {
        /// The whole content is the token.
        case text
        /// A JSON object whose field `subjectTokenFieldName` holds the token.
        case json(subjectTokenFieldName: String)
    }

    /// The workload identity pool provider, `//iam.googleapis.com/projects/…/providers/…`.
    public let audience: String
    /// e.g. `urn:ietf:params:oauth:token-type:jwt`.
    public let subjectTokenType: String
    /// The STS endpoint (`https://sts.googleapis.com/v1/token` by default).
    public let tokenURL: String
    /// The IAM `generateAccessToken` URL, when the STS token is used to impersonate a service account.
    public let serviceAccountImpersonationURL: String?
    /// The impersonated token's lifetime (`service_account_impersonation.token_lifetime_seconds`).
    public let tokenLifetimeSeconds: Int?
    /// The subject token's source.
    public let source: Source
    /// The subject token's format.
    public let format: Format
    /// Billing project for `x-goog-user-project`.
    public let quotaProjectId: String?
    /// Workforce pools only: the project sent in STS `options`.
    public let workforcePoolUserProject: String?
    /// OAuth client id for HTTP Basic client authentication at STS.
    public let clientId: String?
    /// OAuth client secret for HTTP Basic client authentication at STS.
    public let clientSecret: String?

    init(_ fields: JSONFields) throws {
        let kind = "an external_account file"
        audience = try fields.requiredString("audience", in: kind)
        subjectTokenType = try fields.requiredString("subject_token_type", in: kind)
        let universe = try fields.string("universe_domain") ?? "googleapis.com"
        tokenURL = try fields.string("token_url") ?? "https://sts.\(universe)/v1/token"
        serviceAccountImpersonationURL = try fields.string("service_account_impersonation_url")
        tokenLifetimeSeconds = try fields.object("service_account_impersonation")?.integer("token_lifetime_seconds")
        quotaProjectId = try fields.string("quota_project_id")
        workforcePoolUserProject = try fields.string("workforce_pool_user_project")
        clientId = try fields.string("client_id")
        clientSecret = try fields.string("client_secret")

        guard let credentialSource = try fields.object("credential_source") else {
            throw CredentialsError(.missingField, "\(fields.context): \(kind) is missing field \"credential_source\"")
        }
        if credentialSource.has("environment_id") {
            throw CredentialsError(.unsupportedType, "\(credentialSource.context): AWS-sourced subject tokens "
                                   + "(environment_id) are not supported; use a file or url source")
        }
        if credentialSource.has("executable") {
            throw CredentialsError(.unsupportedType, "\(credentialSource.context): executable-sourced subject tokens "
                                   + "are not supported; use a file or url source")
        }
        let file = try credentialSource.string("file"), url = try credentialSource.string("url")
        switch (file, url) {
        case let (file?, nil):
            source = .file(path: file)
        case let (nil, url?):
            var headers: [String: String] = [:]
            if let headerFields = try credentialSource.object("headers") {
                for key in headerFields.object.keys {
                    headers[key] = try headerFields.string(key) ?? ""
                }
            }
            source = .url(url, headers: headers)
        default:
            throw CredentialsError(file == nil ? .missingField : .invalidField,
                                   "\(credentialSource.context): set exactly one of \"file\" or \"url\"")
        }
        let formatFields = try credentialSource.object("format")
        switch try formatFields?.string("type") ?? "text" {
        case "text":
            format = .text
        case "json":
            format = .json(subjectTokenFieldName: try formatFields!.requiredString("subject_token_field_name",
                                                                                   in: "a json format"))
        default:
            throw CredentialsError(.invalidField, "\(formatFields!.context): field \"type\" must be \"text\" or \"json\"")
        }
    }

    /// Extracts the subject token from a file's or response's contents according to `format`.
    public func subjectToken(from contents: [UInt8], origin: String) throws -> String {
        let token: String
        switch format {
        case .text:
            token = Encoding.trimmed(String(decoding: contents, as: UTF8.self))
        case let .json(fieldName):
            token = try JSONFields(parsing: contents, context: origin).requiredString(fieldName, in: "the subject token JSON")
        }
        guard !token.isEmpty else {
            throw CredentialsError(.missingField, "\(origin) holds an empty subject token")
        }
        return token
    }

    /// Reads the subject token from the `file` source now (call at every refresh: the file rotates).
    public func readSubjectTokenFile() throws -> String {
        guard case let .file(path) = source else {
            throw CredentialsError(.unsupportedType, "this external_account reads its subject token from a URL, not a file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CredentialsError(.unreadableFile, "cannot read the subject token file \(path)")
        }
        return try subjectToken(from: Array(data), origin: path)
    }

    /// The audience and source, without secrets.
    public var description: String {
        let from: String
        switch source {
        case let .file(path): from = "file \(path)"
        case let .url(url, _): from = "url \(url)"
        }
        return "GoogleExternalAccount(audience: \(audience), subject token from \(from))"
    }
}
