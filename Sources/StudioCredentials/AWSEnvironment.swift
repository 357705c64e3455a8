#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// AWS settings read from process environment variables (passed in as a dictionary, so tests stay pure).
public enum AWSEnvironment {
    /// The region used when nothing names one.
    public static let defaultRegion = "us-east-1"

    /// `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN` or legacy `AWS_SECURITY_TOKEN`,
    /// `AWS_CREDENTIAL_EXPIRATION`); nil when neither key is set, an error when only one is.
    public static func credentials(environment: [String: String]) throws -> AWSCredentials? {
        func value(_ name: String) -> String? {
            guard let value = environment[name], !value.isEmpty else { return nil }
            return value
        }
        let accessKey = value("AWS_ACCESS_KEY_ID"), secretKey = value("AWS_SECRET_ACCESS_KEY")
        switch (accessKey, secretKey) {
        case (nil, nil):
            return nil
        case let (accessKey?, secretKey?):
            var expiration: Date?
            if let text = value("AWS_CREDENTIAL_EXPIRATION") {
                guard let parsed = Timestamps.parseRFC3339(text) else {
                    throw CredentialsError(.invalidField,
                                           "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time like 2024-05-01T13:34:56Z")
                }
                expiration = parsed
            }
            return AWSCredentials(accessKeyId: accessKey, secretAccessKey: secretKey,
                                  sessionToken: value("AWS_SESSION_TOKEN") ?? value("AWS_SECURITY_TOKEN"),
                                  expiration: expiration)
        default:
            let missing = accessKey == nil ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY"
            throw CredentialsError(.partialCredentials, "only half of the AWS key pair is in the environment: set \(missing)")
        }
    }

    /// The profile the environment selects: `AWS_PROFILE`, then `AWS_DEFAULT_PROFILE`, else nil (meaning `default`).
    public static func profileName(environment: [String: String]) -> String? {
        for name in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"] {
            if let value = environment[name], !value.isEmpty { return value }
        }
        return nil
    }

    /// The region: `explicit` (e.g. from the message), `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's
    /// `region`, else `us-east-1`.
    public static func region(explicit: String? = nil, environment: [String: String], profile: AWSProfile?) -> String {
        let candidates = [explicit, environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"], profile?.region]
        return candidates.lazy.compactMap { $0 }.first { !$0.isEmpty } ?? defaultRegion
    }
}

/// The AWS settings a StudioML message or config carries under `credentials.aws`
/// (`access_key`, `secret_access_key`, `session_token`, `region`|`region_name`, `profile`|`profile_name`).
public struct StudioAWSSettings: Sendable, Equatable, CustomStringConvertible {
    /// Static keys, when the message carries both halves.
    public var credentials: AWSCredentials?
    /// The region the message names.
    public var region: String?
    /// The profile the message names.
    public var profile: String?

    /// Creates settings from their parts.
    public init(credentials: AWSCredentials? = nil, region: String? = nil, profile: String? = nil) {
        self.credentials = credentials
        self.region = region
        self.profile = profile
    }

    /// Reads the `credentials.aws` dictionary; an error when only one half of the key pair is present.
    public init(_ dictionary: [String: String]) throws {
        func value(_ names: String...) -> String? {
            names.lazy.compactMap { dictionary[$0] }.first { !$0.isEmpty }
        }
        let accessKey = value("access_key", "aws_access_key_id"), secretKey = value("secret_access_key", "aws_secret_access_key")
        switch (accessKey, secretKey) {
        case (nil, nil):
            credentials = nil
        case let (accessKey?, secretKey?):
            credentials = AWSCredentials(accessKeyId: accessKey, secretAccessKey: secretKey,
                                         sessionToken: value("session_token", "aws_session_token"))
        default:
            let missing = accessKey == nil ? "access_key" : "secret_access_key"
            throw CredentialsError(.partialCredentials,
                                   "the message's credentials.aws has only half of the key pair: add \(missing)")
        }
        region = value("region", "region_name")
        profile = value("profile", "profile_name")
    }

    /// A redacted summary.
    public var description: String {
        "StudioAWSSettings(credentials: \(credentials.map(String.init(describing:)) ?? "nil"), "
            + "region: \(region ?? "nil"), profile: \(profile ?? "nil"))"
    }
}
