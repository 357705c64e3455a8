#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioHTTP

/// Carries out an `AWSCredentialSource` recipe: hands out static keys, or fetches temporary credentials
/// from STS (web identity), the container endpoint or the EC2 instance metadata service (IMDSv2).
public struct AWSCredentialProvider: CredentialProvider {
    /// The recipe.
    public let source: AWSCredentialSource
    /// The region (for the regional STS endpoint).
    public let region: String
    /// The environment the endpoints and tokens are read from (`AWS_ENDPOINT_URL_STS`, …).
    public let environment: [String: String]
    let transport: HTTPTransport

    /// A provider for `source`; `environment` supplies endpoint overrides and container tokens.
    public init(source: AWSCredentialSource, region: String, environment: [String: String],
                transport: HTTPTransport = .shared) {
        self.source = source
        self.region = region
        self.environment = environment
        self.transport = transport
    }

    /// Fetches credentials now (callers cache them with `CachingCredentialProvider`).
    public func fetchCredential() async throws -> AWSCredentials {
        switch source {
        case let .staticKeys(credentials, _):
            return credentials
        case let .webIdentity(roleArn, tokenFile, sessionName):
            return try await assumeRoleWithWebIdentity(roleArn: roleArn, tokenFile: tokenFile, sessionName: sessionName)
        case let .container(uri, tokenFile, token):
            return try await containerCredentials(uri: uri, authorizationTokenFile: tokenFile, authorizationToken: token)
        case .instanceMetadata:
            return try await instanceMetadataCredentials()
        case .assumeRole:
            throw CredentialsError(.unsupportedType, "\(source) is not supported by studio: export AWS_ACCESS_KEY_ID and "
                                   + "AWS_SECRET_ACCESS_KEY, or use web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE)")
        case .credentialProcess:
            throw CredentialsError(.unsupportedType, "\(source) is not supported by studio: export AWS_ACCESS_KEY_ID and "
                                   + "AWS_SECRET_ACCESS_KEY, or put static keys in the profile")
        }
    }

    /// The credentials in an ECS/IMDS-style JSON document (`AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`).
    static func parseCredentialDocument(_ body: [UInt8], context: String) throws -> AWSCredentials {
        let fields = try JSONFields(parsing: body, context: context)
        if let code = try fields.string("Code"), code != "Success" {
            throw CredentialsError(.invalidField, "\(context) answered Code \(code) instead of Success")
        }
        let accessKey = try fields.requiredString("AccessKeyId", in: "the credentials document")
        let secretKey = try fields.requiredString("SecretAccessKey", in: "the credentials document")
        var expiration: Date?
        if let text = try fields.string("Expiration") {
            guard let parsed = Timestamps.parseRFC3339(text) else {
                throw CredentialsError(.invalidField, "\(context): Expiration is not an ISO 8601 time")
            }
            expiration = parsed
        }
        return AWSCredentials(accessKeyId: accessKey, secretAccessKey: secretKey,
                              sessionToken: try fields.string("Token"), expiration: expiration)
    }

    /// A non-empty environment value.
    func setting(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// The whole AWS chain for one client: resolution (without the network) at creation, then cached
/// credentials refreshed before they expire.
public final class AWSCredentialChain: Sendable {
    /// The region for SigV4 scopes and regional endpoints.
    public let region: String
    /// Where the credentials come from (for logs; never secret).
    public let source: AWSCredentialSource
    private let cache: CachingCredentialProvider<AWSCredentialProvider>

    /// Resolves the chain for `message` settings (a config's `credentials.aws`) and `environment`;
    /// throws a one-line error naming what was tried when no source is left.
    public init(message: StudioAWSSettings? = nil, environment: [String: String],
                transport: HTTPTransport = .shared) throws {
        let files = try AWSSharedFiles.load(environment: environment)
        let resolution: AWSCredentialResolution
        do {
            resolution = try AWSCredentialResolution.resolve(message: message, environment: environment, files: files)
        } catch let error as CredentialsError where error.code == .notFound {
            throw CredentialsError(.notFound, Self.triedMessage(files: files, environment: environment, last: "EC2 metadata is disabled"))
        }
        region = resolution.region
        source = resolution.source
        cache = CachingCredentialProvider(AWSCredentialProvider(
            source: resolution.source, region: resolution.region, environment: environment, transport: transport))
        self.files = files
        self.environment = environment
    }

    private let files: AWSSharedFiles?
    private let environment: [String: String]

    /// A chain that always hands out `credentials` (tests, callers that hold keys).
    public init(credentials: AWSCredentials, region: String) {
        self.region = region
        source = .staticKeys(credentials, origin: "the caller")
        cache = CachingCredentialProvider(AWSCredentialProvider(source: source, region: region, environment: [:]))
        files = nil
        environment = [:]
    }

    /// Credentials good for at least the mandatory refresh window; fetched or refreshed when needed.
    public func credentials() async throws -> AWSCredentials {
        do {
            return try await cache.fetchCredential()
        } catch let error as CredentialsError where source == .instanceMetadata {
            // IMDS is the chain's last resort: failing there means nothing at all was found.
            throw CredentialsError(.notFound, Self.triedMessage(files: files, environment: environment, last: error.message))
        }
    }

    /// Forgets cached credentials (after an `ExpiredToken` answer), so the next call fetches again.
    public func invalidate() async {
        await cache.invalidate()
    }

    /// "no AWS credentials found: tried …", naming every step of the chain.
    static func triedMessage(files: AWSSharedFiles?, environment: [String: String], last: String) -> String {
        let profile = AWSEnvironment.profileName(environment: environment) ?? "default"
        let places = [files?.credentialsPath, files?.configPath].compactMap { $0 }.joined(separator: ", ")
        return "no AWS credentials found: tried credentials.aws in the config, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
            + "profile '\(profile)'" + (places.isEmpty ? "" : " (\(places))")
            + ", AWS_WEB_IDENTITY_TOKEN_FILE, AWS_CONTAINER_CREDENTIALS_*_URI and EC2 instance metadata (\(last)); "
            + "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or credentials.aws"
    }
}
