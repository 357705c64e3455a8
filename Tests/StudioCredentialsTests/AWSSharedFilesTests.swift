import XCTest
@testable import StudioCredentials

final class AWSSharedFilesTests: XCTestCase {
    static let credentialsText = """
        [default]
        aws_access_key_id = AKIDDEFAULT
        aws_secret_access_key = default-secret

        [runner]
        aws_access_key_id = AKIDRUNNER
        aws_secret_access_key = runner-secret
        aws_security_token = runner-token

        [half]
        aws_access_key_id = AKIDHALF
        """
    static let configText = """
        [default]
        region = us-west-2

        [profile runner]
        region = eu-central-1
        aws_access_key_id = AKIDFROMCONFIG

        [runner]
        region = ignored-because-bare

        [profile irsa]
        role_arn = arn:aws:iam::123456789012:role/runner
        web_identity_token_file = ~/token
        role_session_name = studio

        [profile chained]
        role_arn = arn:aws:iam::123456789012:role/chained
        source_profile = default

        [profile proc]
        credential_process = /usr/bin/get-creds --json
        """

    func files() throws -> AWSSharedFiles {
        try AWSSharedFiles(credentialsText: Self.credentialsText, configText: Self.configText)
    }

    func testProfilesMergeWithCredentialsFileWinning() throws {
        let files = try files()
        XCTAssertEqual(files.profileNames, ["chained", "default", "half", "irsa", "proc", "runner"])
        let runner = try XCTUnwrap(files.profile(named: "runner"))
        XCTAssertEqual(runner.region, "eu-central-1")
        XCTAssertEqual(try runner.staticCredentials(),
                       AWSCredentials(accessKeyId: "AKIDRUNNER", secretAccessKey: "runner-secret", sessionToken: "runner-token"))
        XCTAssertEqual(files.profile(named: "default")?.region, "us-west-2")
        XCTAssertEqual(files.profile(named: "irsa")?.webIdentityTokenFile, "~/token")
        XCTAssertEqual(files.profile(named: "proc")?.credentialProcess, "/usr/bin/get-creds --json")
        XCTAssertNil(files.profile(named: "missing"))
    }

    func testHalfAKeyPairIsAnErrorNamingTheMissingKey() throws {
        XCTAssertThrowsError(try files().profile(named: "half")!.staticCredentials()) { error in
            XCTAssertEqual(String(describing: error), "AWS profile 'half' sets only half of its key pair: add aws_secret_access_key")
        }
    }

    func testProfileDescriptionShowsNamesNotValues() throws {
        let text = String(describing: try files().profile(named: "runner")!)
        XCTAssertFalse(text.contains("runner-secret"))
        XCTAssertTrue(text.contains("aws_secret_access_key"))
    }

    func testPathsFromEnvironment() {
        XCTAssertTrue(AWSSharedFiles.paths(environment: [:]) == (nil, nil))
        XCTAssertTrue(AWSSharedFiles.paths(environment: ["HOME": "/home/u"])
                      == ("/home/u/.aws/credentials", "/home/u/.aws/config"))
        XCTAssertTrue(AWSSharedFiles.paths(environment: ["HOME": "/home/u", "AWS_SHARED_CREDENTIALS_FILE": "~/c",
                                                         "AWS_CONFIG_FILE": "/etc/aws/config"])
                      == ("/home/u/c", "/etc/aws/config"))
    }

    func testLoadReadsRealFilesAndToleratesMissingOnes() throws {
        let directory = try makeTemporaryDirectory(for: self)
        try write(Self.credentialsText, to: directory + "/creds")
        let files = try AWSSharedFiles.load(environment: ["AWS_SHARED_CREDENTIALS_FILE": directory + "/creds",
                                                          "AWS_CONFIG_FILE": directory + "/absent"])
        XCTAssertEqual(files.credentialsPath, directory + "/creds")
        XCTAssertEqual(try files.profile(named: "default")?.staticCredentials()?.accessKeyId, "AKIDDEFAULT")
        XCTAssertNil(files.profile(named: "irsa"))

        try write("[default]\nnot a setting\n", to: directory + "/bad")
        XCTAssertThrowsError(try AWSSharedFiles.load(environment: ["AWS_CONFIG_FILE": directory + "/bad"])) { error in
            XCTAssertTrue(String(describing: error).hasPrefix(directory + "/bad line 2:"))
        }
    }
}
