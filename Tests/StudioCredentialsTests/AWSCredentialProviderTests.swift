#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioCredentials
import XCTest

final class AWSCredentialProviderTests: XCTestCase {
    private var directory = ""
    private var standIn: CredentialStandIn!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory(for: self)
        standIn = try CredentialStandIn(directory: directory)
        let standIn = self.standIn!
        addTeardownBlock { standIn.stop() }
    }

    /// Replaces `path` atomically (as the kubelet does), so readers see a new inode.
    private func rotate(_ path: String, to text: String) throws {
        try write(text, to: path + ".new")
        XCTAssertEqual(rename(path + ".new", path), 0)
    }

    func testStaticKeysAreHandedOutAsIs() async throws {
        let keys = AWSCredentials(accessKeyId: "AKIAEXAMPLEKEY1", secretAccessKey: "secret")
        let provider = AWSCredentialProvider(source: .staticKeys(keys, origin: "test"), region: "us-east-1", environment: [:])
        let fetched = try await provider.fetchCredential()
        XCTAssertEqual(fetched, keys)
    }

    func testWebIdentityCallsSTSUnsignedAndRereadsTheTokenFileEachTime() async throws {
        let tokenFile = directory + "/token"
        try write("token-one\n", to: tokenFile)
        let provider = AWSCredentialProvider(
            source: .webIdentity(roleArn: "arn:aws:iam::123456789012:role/runner", tokenFile: tokenFile, sessionName: "s1"),
            region: "eu-west-1", environment: ["AWS_ENDPOINT_URL_STS": standIn.baseURL])
        let first = try await provider.fetchCredential()
        XCTAssertTrue(first.accessKeyId.hasPrefix("ASIASTS"))
        XCTAssertEqual(first.secretAccessKey, "secret&sts")
        XCTAssertEqual(first.sessionToken, "session-for-token-one")
        XCTAssertEqual(first.expiration, Timestamps.parseRFC3339("2099-01-01T00:00:00Z"))

        try rotate(tokenFile, to: "token-two")
        let second = try await provider.fetchCredential()
        XCTAssertEqual(second.sessionToken, "session-for-token-two")

        let requests = try await standIn.requests()
        XCTAssertEqual(requests.count, 2)
        let request = try XCTUnwrap(requests.first)
        XCTAssertEqual(request.method, "POST")
        XCTAssertNil(request.headers["authorization"], "AssumeRoleWithWebIdentity is sent unsigned")
        XCTAssertTrue(request.body.contains("Action=AssumeRoleWithWebIdentity"))
        XCTAssertTrue(request.body.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Frunner"))
        XCTAssertTrue(request.body.contains("RoleSessionName=s1"))
        XCTAssertTrue(request.body.contains("WebIdentityToken=token-one"))
    }

    func testWebIdentityRefusalNamesTheRoleAndCodeButNotTheToken() async throws {
        let tokenFile = directory + "/token"
        try write("bad-token", to: tokenFile)
        let provider = AWSCredentialProvider(
            source: .webIdentity(roleArn: "arn:aws:iam::1:role/r", tokenFile: tokenFile, sessionName: nil),
            region: "us-east-1", environment: ["AWS_ENDPOINT_URL": standIn.baseURL])
        do {
            _ = try await provider.fetchCredential()
            XCTFail("expected a refusal")
        } catch let error as CredentialsError {
            XCTAssertTrue(error.message.contains("AccessDenied"), error.message)
            XCTAssertTrue(error.message.contains("arn:aws:iam::1:role/r"), error.message)
            XCTAssertFalse(error.message.contains("bad-token"), error.message)
        }
    }

    func testChainCachesWebIdentityCredentialsAndRereadsTheTokenAfterInvalidation() async throws {
        let tokenFile = directory + "/token"
        try write("first", to: tokenFile)
        let chain = try AWSCredentialChain(environment: [
            "AWS_ROLE_ARN": "arn:aws:iam::1:role/r", "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile,
            "AWS_ENDPOINT_URL_STS": standIn.baseURL, "AWS_REGION": "us-west-2", "HOME": directory,
        ])
        XCTAssertEqual(chain.region, "us-west-2")
        let first = try await chain.credentials()
        let cached = try await chain.credentials()
        XCTAssertEqual(first, cached)
        let countAfterTwoCalls = try await standIn.requests().count
        XCTAssertEqual(countAfterTwoCalls, 1, "the second call is served from the cache")

        try rotate(tokenFile, to: "second")
        await chain.invalidate()
        let refreshed = try await chain.credentials()
        XCTAssertEqual(refreshed.sessionToken, "session-for-second")
    }

    func testContainerCredentialsSendTheTokenFileReadAtEveryFetch() async throws {
        let tokenFile = directory + "/pod-identity-token"
        try write("alpha\n", to: tokenFile)
        let provider = AWSCredentialProvider(
            source: .container(uri: standIn.baseURL + "/container/v1", authorizationTokenFile: tokenFile, authorizationToken: "ignored"),
            region: "us-east-1", environment: [:])
        let first = try await provider.fetchCredential()
        XCTAssertEqual(first.accessKeyId, "ASIACONTAINER")
        XCTAssertEqual(first.sessionToken, "token-alpha")
        try rotate(tokenFile, to: "beta")
        let second = try await provider.fetchCredential()
        XCTAssertEqual(second.sessionToken, "token-beta")
    }

    func testContainerCredentialsFromTheEnvironmentTokenVariable() async throws {
        let chain = try AWSCredentialChain(environment: [
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": standIn.baseURL + "/container/x",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "gamma", "HOME": directory,
        ])
        let credentials = try await chain.credentials()
        XCTAssertEqual(credentials.sessionToken, "token-gamma")
    }

    func testContainerRefusalIsAnError() async throws {
        let provider = AWSCredentialProvider(
            source: .container(uri: standIn.baseURL + "/container/x", authorizationTokenFile: nil, authorizationToken: "deny"),
            region: "us-east-1", environment: [:])
        do {
            _ = try await provider.fetchCredential()
            XCTFail("expected an error")
        } catch let error as CredentialsError {
            XCTAssertTrue(error.message.contains("HTTP 403"), error.message)
        }
    }

    func testContainerURIMustBeLoopbackTheAgentsOrHTTPS() async throws {
        for allowed in ["http://127.0.0.1:8080/creds", "http://localhost/x", "http://169.254.170.2/v2/credentials/abc",
                        "http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/v1/credentials", "http://[::1]:99/x",
                        "https://creds.example.com/x"] {
            XCTAssertTrue(AWSCredentialProvider.isAllowedContainerURI(allowed), allowed)
        }
        for refused in ["http://example.com/creds", "http://169.254.169.254/x", "ftp://127.0.0.1/x", "http://127.0.0.1.evil.com/x"] {
            XCTAssertFalse(AWSCredentialProvider.isAllowedContainerURI(refused), refused)
        }
        let provider = AWSCredentialProvider(
            source: .container(uri: "http://example.com/creds", authorizationTokenFile: nil, authorizationToken: "t"),
            region: "us-east-1", environment: [:])
        do {
            _ = try await provider.fetchCredential()
            XCTFail("expected an error")
        } catch let error as CredentialsError {
            XCTAssertEqual(error.code, .invalidURL)
        }
    }

    func testInstanceMetadataUsesASessionTokenThenTheRoleThenItsCredentials() async throws {
        let chain = try AWSCredentialChain(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": standIn.baseURL + "/", "HOME": directory])
        XCTAssertEqual(chain.source, .instanceMetadata)
        let credentials = try await chain.credentials()
        XCTAssertEqual(credentials.accessKeyId, "ASIAIMDS")
        let requests = try await standIn.requests()
        XCTAssertEqual(requests.map { "\($0.method) \($0.path)" }, [
            "PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/",
            "GET /latest/meta-data/iam/security-credentials/test-role",
        ])
        XCTAssertEqual(requests[0].headers["x-aws-ec2-metadata-token-ttl-seconds"], "21600")
    }

    func testServerErrorsAreRetried() async throws {
        try await standIn.failNext(2, status: 503)
        let provider = AWSCredentialProvider(
            source: .container(uri: standIn.baseURL + "/container/x", authorizationTokenFile: nil, authorizationToken: "t"),
            region: "us-east-1", environment: [:])
        let credentials = try await provider.fetchCredential()
        XCTAssertEqual(credentials.accessKeyId, "ASIACONTAINER")
        let count = try await standIn.requests().count
        XCTAssertEqual(count, 3)
    }

    func testNothingFoundNamesWhatWasTried() async throws {
        // A closed port: IMDS does not answer, so the chain has nothing left.
        let chain = try AWSCredentialChain(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1", "HOME": directory])
        do {
            _ = try await chain.credentials()
            XCTFail("expected no credentials")
        } catch let error as CredentialsError {
            XCTAssertEqual(error.code, .notFound)
            XCTAssertTrue(error.message.hasPrefix("no AWS credentials found: tried"), error.message)
            XCTAssertTrue(error.message.contains("AWS_ACCESS_KEY_ID"), error.message)
            XCTAssertTrue(error.message.contains("EC2 instance metadata"), error.message)
            XCTAssertFalse(error.message.contains("\n"))
        }
    }

    func testMetadataDisabledFailsAtResolution() throws {
        XCTAssertThrowsError(try AWSCredentialChain(environment: ["AWS_EC2_METADATA_DISABLED": "true", "HOME": directory])) { error in
            XCTAssertTrue("\(error)".hasPrefix("no AWS credentials found: tried"), "\(error)")
        }
    }

    func testMessageKeysWinOverTheEnvironment() async throws {
        let settings = StudioAWSSettings(credentials: AWSCredentials(accessKeyId: "AKIAMESSAGE00001", secretAccessKey: "m"), region: "ap-south-1")
        let chain = try AWSCredentialChain(message: settings, environment: [
            "AWS_ACCESS_KEY_ID": "AKIAENVIRONMENT01", "AWS_SECRET_ACCESS_KEY": "e", "HOME": directory,
        ])
        let credentials = try await chain.credentials()
        XCTAssertEqual(credentials.accessKeyId, "AKIAMESSAGE00001")
        XCTAssertEqual(chain.region, "ap-south-1")
    }
}
