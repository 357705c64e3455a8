#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One AWS profile: the credentials-file section merged over the config-file section of the same name.
public struct AWSProfile: Sendable, Equatable, CustomStringConvertible {
    /// The profile name (`default` for the unnamed one).
    public let name: String
    /// All settings, keys lower-cased; credentials-file values win over config-file values.
    public let settings: [String: String]

    /// Creates a profile from its settings.
    public init(name: String, settings: [String: String]) {
        self.name = name
        self.settings = settings
    }

    /// A setting, or nil when absent or empty.
    public subscript(key: String) -> String? {
        guard let value = settings[key.lowercased()], !value.isEmpty else { return nil }
        return value
    }

    /// `region`.
    public var region: String? { self["region"] }
    /// `role_arn` (assume-role or web identity).
    public var roleArn: String? { self["role_arn"] }
    /// `source_profile` (assume-role chained from another profile).
    public var sourceProfile: String? { self["source_profile"] }
    /// `credential_source` (`Environment`, `Ec2InstanceMetadata`, `EcsContainer`).
    public var credentialSource: String? { self["credential_source"] }
    /// `role_session_name`.
    public var roleSessionName: String? { self["role_session_name"] }
    /// `web_identity_token_file`.
    public var webIdentityTokenFile: String? { self["web_identity_token_file"] }
    /// `credential_process` (a command line; noted, never run here).
    public var credentialProcess: String? { self["credential_process"] }

    /// The static keys of this profile, if it has them.
    public func staticCredentials() throws -> AWSCredentials? {
        let accessKey = self["aws_access_key_id"], secretKey = self["aws_secret_access_key"]
        switch (accessKey, secretKey) {
        case (nil, nil):
            return nil
        case let (accessKey?, secretKey?):
            return AWSCredentials(accessKeyId: accessKey, secretAccessKey: secretKey,
                                  sessionToken: self["aws_session_token"] ?? self["aws_security_token"])
        default:
            let missing = accessKey == nil ? "aws_access_key_id" : "aws_secret_access_key"
            throw CredentialsError(.partialCredentials,
                                   "AWS profile '\(name)' sets only half of its key pair: add \(missing)")
        }
    }

    /// The setting names, never their values (which may be secrets).
    public var description: String { "AWSProfile(\(name): \(settings.keys.sorted().joined(separator: ", ")))" }
}

/// The AWS shared `credentials` and `config` files, parsed.
public struct AWSSharedFiles: Sendable, Equatable {
    /// The credentials file path used (`AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`).
    public let credentialsPath: String?
    /// The config file path used (`AWS_CONFIG_FILE` or `~/.aws/config`).
    public let configPath: String?
    /// Profile name → settings from the credentials file (bare section names).
    let credentialsSections: [String: [String: String]]
    /// Profile name → settings from the config file (`[profile NAME]`, or `[default]`).
    let configSections: [String: [String: String]]

    /// The file paths selected by `environment` (`~` expanded with `HOME`); nil when neither override nor HOME is set.
    public static func paths(environment: [String: String]) -> (credentials: String?, config: String?) {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
        func resolve(_ variable: String, _ defaultName: String) -> String? {
            if let override = environment[variable], !override.isEmpty { return expandingTilde(override, home: home) }
            return home.map { $0 + "/.aws/" + defaultName }
        }
        return (resolve("AWS_SHARED_CREDENTIALS_FILE", "credentials"), resolve("AWS_CONFIG_FILE", "config"))
    }

    /// Reads both files as `environment` selects them; a missing file counts as empty.
    public static func load(environment: [String: String]) throws -> AWSSharedFiles {
        let paths = paths(environment: environment)
        return try AWSSharedFiles(credentialsPath: paths.credentials, configPath: paths.config)
    }

    /// Reads the given files; a missing file counts as empty, an unreadable or malformed one is an error.
    public init(credentialsPath: String?, configPath: String?) throws {
        self.credentialsPath = credentialsPath
        self.configPath = configPath
        credentialsSections = try credentialsPath.flatMap(Self.readIfPresent)?.sections ?? [:]
        configSections = Self.profiles(fromConfig: try configPath.flatMap(Self.readIfPresent) ?? INIFile())
    }

    /// Creates the files from their text (for tests and for callers that read the files themselves).
    public init(credentialsText: String, configText: String) throws {
        credentialsPath = nil
        configPath = nil
        credentialsSections = try INIFile.parse(credentialsText, path: "AWS credentials file").sections
        configSections = Self.profiles(fromConfig: try INIFile.parse(configText, path: "AWS config file"))
    }

    /// Config sections are `[profile NAME]`; a bare name other than `default` is not a profile (botocore).
    private static func profiles(fromConfig file: INIFile) -> [String: [String: String]] {
        var profiles: [String: [String: String]] = [:]
        for (section, settings) in file.sections {
            let words = section.split(separator: " ", omittingEmptySubsequences: true)
            if words.count == 2, words[0] == "profile" {
                profiles[String(words[1]), default: [:]].merge(settings) { _, prefixed in prefixed }
            } else if section == "default" {
                profiles["default", default: [:]].merge(settings) { prefixed, _ in prefixed }
            }
        }
        return profiles
    }

    /// Every profile name found in either file.
    public var profileNames: [String] { Set(credentialsSections.keys).union(configSections.keys).sorted() }

    /// The named profile (credentials-file settings over config-file settings), or nil if neither file has it.
    public func profile(named name: String) -> AWSProfile? {
        let fromConfig = configSections[name], fromCredentials = credentialsSections[name]
        guard fromConfig != nil || fromCredentials != nil else { return nil }
        let merged = (fromConfig ?? [:]).merging(fromCredentials ?? [:]) { _, credentialsValue in credentialsValue }
        return AWSProfile(name: name, settings: merged)
    }

    /// The profile as the credentials file alone defines it.
    func credentialsFileProfile(named name: String) -> AWSProfile? {
        credentialsSections[name].map { AWSProfile(name: name, settings: $0) }
    }

    /// The profile as the config file alone defines it.
    func configFileProfile(named name: String) -> AWSProfile? {
        configSections[name].map { AWSProfile(name: name, settings: $0) }
    }

    private static func readIfPresent(_ path: String) throws -> INIFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CredentialsError(.unreadableFile, "cannot read AWS shared file \(path): check its permissions")
        }
        return try INIFile.parse(String(decoding: data, as: UTF8.self), path: path)
    }

    static func expandingTilde(_ path: String, home: String?) -> String {
        guard let home, path == "~" || path.hasPrefix("~/") else { return path }
        return home + path.dropFirst()
    }
}
