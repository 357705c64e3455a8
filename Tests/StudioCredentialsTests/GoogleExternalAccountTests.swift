import XCTest
@testable import StudioCredentials

final class GoogleExternalAccountTests: XCTestCase {
    func account(_ credentialSource: String, extra: String = "") throws -> GoogleExternalAccount {
        let json = """
            {"type":"external_account",
             "audience":"//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/pool/providers/prov",
             "subject_token_type":"urn:ietf:params:oauth:token-type:jwt",
             \(extra)
             "credential_source":\(credentialSource)}
            """
        guard case let .externalAccount(account) = try GoogleCredentialsFile.parse(Array(json.utf8), path: "wif.json") else {
            throw CredentialsError(.unsupportedType, "not external")
        }
        return account
    }

    func testFileSourceIsReReadOnEveryCall() throws {
        let directory = try makeTemporaryDirectory(for: self)
        let account = try self.account(#"{"file":"\#(directory)/token","format":{"type":"text"}}"#, extra: """
            "service_account_impersonation_url":"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/r@p.iam.gserviceaccount.com:generateAccessToken",
            "service_account_impersonation":{"token_lifetime_seconds":1800},
            """)
        XCTAssertEqual(account.tokenURL, "https://sts.googleapis.com/v1/token")
        XCTAssertEqual(account.tokenLifetimeSeconds, 1800)
        XCTAssertEqual(account.source, .file(path: directory + "/token"))
        try write("eyJhbGciOiJSUzI1NiJ9.first.sig\n", to: directory + "/token")
        XCTAssertEqual(try account.readSubjectTokenFile(), "eyJhbGciOiJSUzI1NiJ9.first.sig")
        try write("eyJhbGciOiJSUzI1NiJ9.second.sig", to: directory + "/token")
        XCTAssertEqual(try account.readSubjectTokenFile(), "eyJhbGciOiJSUzI1NiJ9.second.sig")
        try write("  \n", to: directory + "/token")
        XCTAssertThrowsError(try account.readSubjectTokenFile()) { error in
            XCTAssertEqual(String(describing: error), "\(directory)/token holds an empty subject token")
        }
    }

    func testURLSourceWithJSONFormat() throws {
        let account = try self.account(
            #"{"url":"http://169.254.169.254/token","headers":{"Metadata":"True"},"format":{"type":"json","subject_token_field_name":"access_token"}}"#,
            extra: #""token_url":"https://sts.example/v1/token","#)
        XCTAssertEqual(account.source, .url("http://169.254.169.254/token", headers: ["Metadata": "True"]))
        XCTAssertEqual(account.tokenURL, "https://sts.example/v1/token")
        XCTAssertEqual(try account.subjectToken(from: Array(#"{"access_token":"tok"}"#.utf8), origin: "the url"), "tok")
        XCTAssertThrowsError(try account.subjectToken(from: Array("{}".utf8), origin: "the url")) { error in
            XCTAssertEqual((error as? CredentialsError)?.code, .missingField)
        }
    }

    func testRejectsBadSources() {
        XCTAssertThrowsError(try account(#"{"environment_id":"aws1","region_url":"x"}"#)) { error in
            XCTAssertEqual((error as? CredentialsError)?.code, .unsupportedType)
        }
        XCTAssertThrowsError(try account(#"{"file":"/a","url":"http://b"}"#)) { error in
            XCTAssertEqual(String(describing: error), "wif.json credential_source: set exactly one of \"file\" or \"url\"")
        }
        XCTAssertThrowsError(try account(#"{}"#))
        XCTAssertThrowsError(try account(#"{"file":"/a","format":{"type":"json"}}"#)) { error in
            XCTAssertTrue(String(describing: error).contains("\"subject_token_field_name\""))
        }
    }
}
