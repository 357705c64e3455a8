import XCTest
@testable import StudioCredentials

final class AWSCredentialSourceTests: XCTestCase {
    let files = try! AWSSharedFiles(credentialsText: AWSSharedFilesTests.credentialsText,
                                    configText: AWSSharedFilesTests.configText)
    let noFiles = try! AWSSharedFiles(credentialsText: "", configText: "")
    let envKeys = ["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret"]

    func testMessageKeysComeFirst() throws {
        let message = StudioAWSSettings(credentials: AWSCredentials(accessKeyId: "AKIDMSG", secretAccessKey: "m"),
                                        region: "eu-north-1")
        let resolved = try AWSCredentialResolution.resolve(message: message, environment: envKeys, files: files)
        XCTAssertEqual(resolved.source, .staticKeys(message.credentials!, origin: "the message"))
        XCTAssertEqual(resolved.region, "eu-north-1")
    }

    func testEnvironmentBeatsFilesUnlessTheMessageNamesAProfile() throws {
        let fromEnv = try AWSCredentialResolution.resolve(environment: envKeys, files: files)
        XCTAssertEqual(fromEnv.source, .staticKeys(AWSCredentials(accessKeyId: "AKIDENV", secretAccessKey: "env-secret"),
                                                   origin: "the environment"))
        XCTAssertEqual(fromEnv.region, "us-west-2", "the default profile's region")

        let named = try AWSCredentialResolution.resolve(message: StudioAWSSettings(profile: "runner"),
                                                        environment: envKeys, files: files)
        guard case let .staticKeys(credentials, origin) = named.source else { return XCTFail("\(named.source)") }
        XCTAssertEqual(credentials.accessKeyId, "AKIDRUNNER")
        XCTAssertTrue(origin.contains("'runner'"))
        XCTAssertEqual(named.region, "eu-central-1")
        XCTAssertEqual(named.profileName, "runner")
    }

    func testAssumeRoleAndWebIdentityProfiles() throws {
        let chained = try AWSCredentialResolution.resolve(environment: ["AWS_PROFILE": "chained"], files: files)
        XCTAssertEqual(chained.source, .assumeRole(roleArn: "arn:aws:iam::123456789012:role/chained", sessionName: nil,
                                                   sourceProfile: "default", credentialSource: nil))
        let irsa = try AWSCredentialResolution.resolve(environment: ["AWS_PROFILE": "irsa", "HOME": "/home/u"], files: files)
        XCTAssertEqual(irsa.source, .webIdentity(roleArn: "arn:aws:iam::123456789012:role/runner",
                                                 tokenFile: "/home/u/token", sessionName: "studio"))
    }

    func testWebIdentityEnvironmentWinsOverProfile() throws {
        let env = ["AWS_PROFILE": "irsa", "AWS_ROLE_ARN": "arn:aws:iam::1:role/env",
                   "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"]
        let resolved = try AWSCredentialResolution.resolve(environment: env, files: files)
        XCTAssertEqual(resolved.source, .webIdentity(roleArn: "arn:aws:iam::1:role/env",
                                                     tokenFile: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
                                                     sessionName: "studio"))
    }

    func testCredentialProcessIsNotedNotRun() throws {
        let resolved = try AWSCredentialResolution.resolve(environment: ["AWS_PROFILE": "proc"], files: files)
        XCTAssertEqual(resolved.source, .credentialProcess(command: "/usr/bin/get-creds --json", profile: "proc"))
    }

    func testContainerThenInstanceMetadata() throws {
        let relative = try AWSCredentialResolution.resolve(
            environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"], files: noFiles)
        XCTAssertEqual(relative.source, .container(uri: "http://169.254.170.2/v2/credentials/abc",
                                                   authorizationTokenFile: nil, authorizationToken: nil))
        let podIdentity = try AWSCredentialResolution.resolve(environment: [
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "secret-token",
        ], files: noFiles)
        XCTAssertFalse(podIdentity.source.description.contains("secret-token"))
        XCTAssertEqual(try AWSCredentialResolution.resolve(environment: [:], files: noFiles).source, .instanceMetadata)
        XCTAssertEqual(try AWSCredentialResolution.resolve(environment: [:], files: noFiles).region, "us-east-1")
        XCTAssertThrowsError(try AWSCredentialResolution.resolve(environment: ["AWS_EC2_METADATA_DISABLED": "true"],
                                                                 files: noFiles)) { error in
            XCTAssertEqual((error as? CredentialsError)?.code, .notFound)
        }
    }

    func testUnknownNamedProfileIsAnError() {
        XCTAssertThrowsError(try AWSCredentialResolution.resolve(environment: ["AWS_PROFILE": "nope"], files: files)) { error in
            XCTAssertEqual(String(describing: error), "AWS profile 'nope' named by AWS_PROFILE is not defined")
        }
    }

    func testSourceDescriptionsAreRedacted() {
        let source = AWSCredentialSource.staticKeys(
            AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "topsecret"), origin: "the environment")
        XCTAssertEqual(source.description, "static keys AKIA…MPLE from the environment")
    }
}
