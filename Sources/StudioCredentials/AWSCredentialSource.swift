/// Where AWS credentials will come from: a static pair, or a recipe that a network provider carries out.
public enum AWSCredentialSource: Sendable, Equatable, CustomStringConvertible {
    /// Keys known now; `origin` says where they were found (never the keys themselves).
    case staticKeys(AWSCredentials, origin: String)
    /// STS `AssumeRole` of `roleArn` using the credentials of profile `sourceProfile` or of `credentialSource`
    /// (`Environment`, `Ec2InstanceMetadata`, `EcsContainer`).
    case assumeRole(roleArn: String, sessionName: String?, sourceProfile: String?, credentialSource: String?)
    /// STS `AssumeRoleWithWebIdentity` with the token re-read from `tokenFile` at every refresh (docs/aws.md#web-identity-sts-assumerolewithwebidentity).
    case webIdentity(roleArn: String, tokenFile: String, sessionName: String?)
    /// A `credential_process` command line (not run by this module).
    case credentialProcess(command: String, profile: String)
    /// The ECS / EKS Pod Identity endpoint (docs/aws.md#container-credentials-ecs-eks-pod-identity); the token file is re-read at every fetch.
    case container(uri: String, authorizationTokenFile: String?, authorizationToken: String?)
    /// The EC2 instance metadata service, IMDSv2 (docs/aws.md#imdsv2-the-ec2-instance-role).
    case instanceMetadata

    /// A one-line summary without secrets.
    public var description: String {
        switch self {
        case let .staticKeys(credentials, origin): return "static keys \(credentials.redactedAccessKeyId) from \(origin)"
        case let .assumeRole(roleArn, _, sourceProfile, credentialSource):
            return "assume role \(roleArn) via " + (sourceProfile.map { "profile \($0)" } ?? credentialSource ?? "?")
        case let .webIdentity(roleArn, tokenFile, _): return "web identity \(roleArn) with token file \(tokenFile)"
        case let .credentialProcess(_, profile): return "credential_process of profile \(profile)"
        case let .container(uri, _, _): return "container credentials from \(uri)"
        case .instanceMetadata: return "EC2 instance metadata"
        }
    }
}

/// The outcome of walking the AWS chain without the network: the source, the region and the profile used.
public struct AWSCredentialResolution: Sendable, Equatable {
    /// Where credentials come from.
    public var source: AWSCredentialSource
    /// The region for the SigV4 scope and the STS endpoint.
    public var region: String
    /// The selected profile name.
    public var profileName: String

    /// Walks botocore's order (docs/aws.md#the-credential-chain-in-detail): message keys, environment, assume-role profile, web identity,
    /// credentials file, `credential_process`, config-file keys, container endpoint, IMDS.
    public static func resolve(message: StudioAWSSettings? = nil, environment: [String: String],
                               files: AWSSharedFiles) throws -> AWSCredentialResolution {
        let explicitProfile = message?.profile
        let profileName = explicitProfile ?? AWSEnvironment.profileName(environment: environment) ?? "default"
        let profile = files.profile(named: profileName)
        if profile == nil, profileName != "default" {
            let origin = explicitProfile != nil ? "the message" : "AWS_PROFILE"
            let places = [files.credentialsPath, files.configPath].compactMap { $0 }.joined(separator: " or ")
            throw CredentialsError(.invalidField, "AWS profile '\(profileName)' named by \(origin) is not defined"
                                   + (places.isEmpty ? "" : " in \(places)"))
        }
        let region = AWSEnvironment.region(explicit: message?.region, environment: environment, profile: profile)
        func result(_ source: AWSCredentialSource) -> AWSCredentialResolution {
            AWSCredentialResolution(source: source, region: region, profileName: profileName)
        }

        if let credentials = message?.credentials { return result(.staticKeys(credentials, origin: "the message")) }
        // botocore skips the environment when a profile is chosen explicitly in code (here: by the message).
        if explicitProfile == nil, let credentials = try AWSEnvironment.credentials(environment: environment) {
            return result(.staticKeys(credentials, origin: "the environment"))
        }
        if let profile, let roleArn = profile.roleArn, profile.sourceProfile != nil || profile.credentialSource != nil {
            return result(.assumeRole(roleArn: roleArn, sessionName: profile.roleSessionName,
                                      sourceProfile: profile.sourceProfile, credentialSource: profile.credentialSource))
        }
        let home = environment["HOME"]
        let envTokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        let envRoleArn = environment["AWS_ROLE_ARN"].flatMap { $0.isEmpty ? nil : $0 }
        if let tokenFile = envTokenFile ?? profile?.webIdentityTokenFile, let roleArn = envRoleArn ?? profile?.roleArn {
            let sessionName = environment["AWS_ROLE_SESSION_NAME"].flatMap { $0.isEmpty ? nil : $0 }
                ?? profile?.roleSessionName
            return result(.webIdentity(roleArn: roleArn, tokenFile: AWSSharedFiles.expandingTilde(tokenFile, home: home),
                                       sessionName: sessionName))
        }
        if let credentials = try files.credentialsFileProfile(named: profileName)?.staticCredentials() {
            return result(.staticKeys(credentials, origin: "profile '\(profileName)' in \(files.credentialsPath ?? "the credentials file")"))
        }
        if let command = profile?.credentialProcess {
            return result(.credentialProcess(command: command, profile: profileName))
        }
        if let credentials = try files.configFileProfile(named: profileName)?.staticCredentials() {
            return result(.staticKeys(credentials, origin: "profile '\(profileName)' in \(files.configPath ?? "the config file")"))
        }
        let tokenFile = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        let token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            return result(.container(uri: "http://169.254.170.2" + relative, authorizationTokenFile: tokenFile,
                                     authorizationToken: token))
        }
        if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty {
            return result(.container(uri: full, authorizationTokenFile: tokenFile, authorizationToken: token))
        }
        guard !instanceMetadataDisabled(environment: environment) else {
            throw CredentialsError(.notFound, "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                                   + "a profile, or credentials.aws in the message (EC2 metadata is disabled)")
        }
        return result(.instanceMetadata)
    }

    /// Whether the IMDS step is switched off (`AWS_EC2_METADATA_DISABLED=true`).
    public static func instanceMetadataDisabled(environment: [String: String]) -> Bool {
        environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true"
    }
}
