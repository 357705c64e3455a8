import XCTest
@testable import StudioCredentials

final class AWSEnvironmentTests: XCTestCase {
    func testEnvironmentCredentials() throws {
        XCTAssertNil(try AWSEnvironment.credentials(environment: [:]))
        XCTAssertNil(try AWSEnvironment.credentials(environment: ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""]))
        let full = try AWSEnvironment.credentials(environment: [
            "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SECURITY_TOKEN": "legacy",
            "AWS_SESSION_TOKEN": "token", "AWS_CREDENTIAL_EXPIRATION": "2024-05-01T13:34:56Z",
        ])
        XCTAssertEqual(full?.sessionToken, "token")
        XCTAssertEqual(full?.expiration?.timeIntervalSince1970, 1_714_570_496)
        let legacy = try AWSEnvironment.credentials(environment: [
            "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SECURITY_TOKEN": "legacy",
        ])
        XCTAssertEqual(legacy?.sessionToken, "legacy")
    }

    func testPartialEnvironmentCredentialsNameTheMissingVariable() {
        XCTAssertThrowsError(try AWSEnvironment.credentials(environment: ["AWS_SECRET_ACCESS_KEY": "topsecret"])) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.contains("AWS_ACCESS_KEY_ID"), message)
            XCTAssertFalse(message.contains("topsecret"), message)
            XCTAssertEqual((error as? CredentialsError)?.code, .partialCredentials)
        }
        XCTAssertThrowsError(try AWSEnvironment.credentials(environment: [
            "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s", "AWS_CREDENTIAL_EXPIRATION": "soon",
        ]))
    }

    func testProfileSelection() {
        XCTAssertNil(AWSEnvironment.profileName(environment: [:]))
        XCTAssertEqual(AWSEnvironment.profileName(environment: ["AWS_DEFAULT_PROFILE": "b"]), "b")
        XCTAssertEqual(AWSEnvironment.profileName(environment: ["AWS_PROFILE": "a", "AWS_DEFAULT_PROFILE": "b"]), "a")
    }

    func testRegionResolutionOrder() {
        let profile = AWSProfile(name: "p", settings: ["region": "ap-south-1"])
        let env = ["AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-2"]
        XCTAssertEqual(AWSEnvironment.region(explicit: "us-west-1", environment: env, profile: profile), "us-west-1")
        XCTAssertEqual(AWSEnvironment.region(environment: env, profile: profile), "eu-west-1")
        XCTAssertEqual(AWSEnvironment.region(environment: ["AWS_DEFAULT_REGION": "eu-west-2"], profile: profile), "eu-west-2")
        XCTAssertEqual(AWSEnvironment.region(explicit: "", environment: [:], profile: profile), "ap-south-1")
        XCTAssertEqual(AWSEnvironment.region(environment: [:], profile: nil), "us-east-1")
    }

    func testStudioMessageSettings() throws {
        let settings = try StudioAWSSettings(["access_key": "AKIDMSG", "secret_access_key": "msg-secret",
                                              "region_name": "us-west-2", "profile_name": "p", "session_token": "t"])
        XCTAssertEqual(settings.credentials,
                       AWSCredentials(accessKeyId: "AKIDMSG", secretAccessKey: "msg-secret", sessionToken: "t"))
        XCTAssertEqual(settings.region, "us-west-2")
        XCTAssertEqual(settings.profile, "p")
        XCTAssertFalse(String(describing: settings).contains("msg-secret"))

        let preferred = try StudioAWSSettings(["region": "a", "region_name": "b", "profile": "x", "profile_name": "y"])
        XCTAssertNil(preferred.credentials)
        XCTAssertEqual(preferred.region, "a")
        XCTAssertEqual(preferred.profile, "x")

        XCTAssertThrowsError(try StudioAWSSettings(["access_key": "AKIDMSG"])) { error in
            XCTAssertEqual(String(describing: error),
                           "the message's credentials.aws has only half of the key pair: add secret_access_key")
        }
    }
}
