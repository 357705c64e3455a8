#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import XCTest
import _CryptoExtras
import StudioHTTP
@testable import StudioCredentials

/// `scripts/fake-google-auth.py` on a loopback port, stopped when the test ends.
final class FakeGoogleAuthServer {
    let pid: pid_t
    let port: Int
    let logPath: String
    let keysDirectory: String

    init(for testCase: XCTestCase, directory: String, expiresIn: Int = 3600, failFirst: Int = 0) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/fake-google-auth.py").path
        logPath = directory + "/auth-log.jsonl"
        keysDirectory = directory + "/public-keys"
        try FileManager.default.createDirectory(atPath: keysDirectory, withIntermediateDirectories: true)
        let portFile = directory + "/auth-port"
        let arguments = ["/usr/bin/env", "python3", script, "--port-file", portFile, "--log", logPath,
                         "--keys-dir", keysDirectory, "--expires-in", String(expiresIn), "--fail-first", String(failFirst)]
        var pid: pid_t = 0
        let cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        guard posix_spawn(&pid, arguments[0], nil, nil, cArguments, environ) == 0 else {
            throw XCTSkip("cannot start python3 for the fake token server")
        }
        self.pid = pid
        testCase.addTeardownBlock { [pid] in
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        let deadline = Date().addingTimeInterval(20)
        while true {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) {
                self.port = port
                break
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { throw XCTSkip("the fake token server exited (python3 cryptography missing?)") }
            guard Date() < deadline else { throw XCTSkip("the fake token server did not start within 20 s") }
            usleep(20_000)
        }
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Trusts `key` under key id `kid`.
    func trust(_ key: _RSA.Signing.PrivateKey, kid: String) throws {
        try write(key.publicKey.pemRepresentation, to: keysDirectory + "/\(kid).pem")
    }

    /// The requests the server saw, one JSON object each.
    func requests() throws -> [[String: JSONValue]] {
        guard let data = FileManager.default.contents(atPath: logPath) else { return [] }
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
            guard case let .object(object) = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)) else { return [:] }
            return object
        }
    }
}

/// A service-account key file for `key`, pointing its `token_uri` at `server`.
func serviceAccountFile(key: _RSA.Signing.PrivateKey, kid: String, email: String, tokenURI: String) throws -> String {
    let fields = ["type": "service_account", "project_id": "file-project", "private_key_id": kid,
                  "private_key": key.pkcs8PEMRepresentation, "client_email": email, "token_uri": tokenURI]
    return String(decoding: try JSONEncoder().encode(fields), as: UTF8.self)
}

/// A fast retry policy for tests.
let quickRetry = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50))

final class GoogleTokenProviderTests: XCTestCase {
    func testServiceAccountJWTBearerExchangeIsVerifiedByTheServer() async throws {
        let directory = try makeTemporaryDirectory(for: self)
        let server = try FakeGoogleAuthServer(for: self, directory: directory)
        try server.trust(testRSAKey, kid: "kid-one")
        let keyPath = directory + "/sa.json"
        try write(try serviceAccountFile(key: testRSAKey, kid: "kid-one", email: "one@p.iam.gserviceaccount.com",
                                         tokenURI: server.baseURL + "/token"), to: keyPath)
        let provider = GoogleTokenProvider(source: try GoogleApplicationDefaultCredentials.resolve(
            environment: ["GOOGLE_APPLICATION_CREDENTIALS": keyPath]), scopes: ["https://www.googleapis.com/auth/pubsub"],
            environment: [:], retry: quickRetry)

        let token = try await provider.accessToken()
        XCTAssertEqual(token, "sa-kid-one-1")
        // Cached: a second call does not go to the server.
        let again = try await provider.accessToken()
        XCTAssertEqual(again, token)
        let requests = try server.requests()
        XCTAssertEqual(requests.count, 1)
        let request = try XCTUnwrap(requests.first)
        XCTAssertEqual(request["verified"], .bool(true))
        XCTAssertEqual(request["iss"], .string("one@p.iam.gserviceaccount.com"))
        XCTAssertEqual(request["aud"], .string(server.baseURL + "/token"))
        XCTAssertEqual(request["scope"], .string("https://www.googleapis.com/auth/pubsub"))
        let projectId = try await provider.projectId()
        XCTAssertEqual(projectId, "file-project")
    }

    func testAWrongKeyIsRefusedWithAOneLineErrorWithoutSecrets() async throws {
        let directory = try makeTemporaryDirectory(for: self)
        let server = try FakeGoogleAuthServer(for: self, directory: directory)
        let otherKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        try server.trust(otherKey, kid: "kid-one")  // the server knows a different public key under this kid
        let keyPath = directory + "/sa.json"
        try write(try serviceAccountFile(key: testRSAKey, kid: "kid-one", email: "one@p.iam.gserviceaccount.com",
                                         tokenURI: server.baseURL + "/token"), to: keyPath)
        let provider = GoogleTokenProvider(source: .file(path: keyPath, try GoogleCredentialsFile.load(path: keyPath)),
                                           environment: [:], retry: quickRetry)
        do {
            _ = try await provider.accessToken()
            XCTFail("a token was issued for an unverifiable JWT")
        } catch let error as CredentialsError {
            XCTAssertTrue(error.message.contains("invalid_grant"), error.message)
            XCTAssertTrue(error.message.contains(keyPath), error.message)
            XCTAssertFalse(error.message.contains("\n"))
            XCTAssertFalse(error.message.contains("PRIVATE KEY"))
        }
        XCTAssertEqual(try server.requests().first?["error"].map { _ in true }, true)
    }

    func testMetadataServerTokenAndProject() async throws {
        let directory = try makeTemporaryDirectory(for: self)
        let server = try FakeGoogleAuthServer(for: self, directory: directory, expiresIn: 1967)
        let environment = ["GCE_METADATA_HOST": "127.0.0.1:\(server.port)", "HOME": directory]
        let source = try GoogleApplicationDefaultCredentials.resolve(environment: environment)
        guard case .metadataServer = source else { return XCTFail("expected the metadata server, got \(source)") }
        let provider = GoogleTokenProvider(source: source, environment: environment, retry: quickRetry)
        let token = try await provider.accessToken()
        XCTAssertEqual(token, "meta-1")
        let projectId = try await provider.projectId()
        XCTAssertEqual(projectId, "meta-project")
        let withEnvironment = GoogleTokenProvider(source: source, environment: environment.merging(["GOOGLE_CLOUD_PROJECT": "env-project"]) { $1 },
                                                  retry: quickRetry)
        let overridden = try await withEnvironment.projectId()
        XCTAssertEqual(overridden, "env-project")
        let scopes = try server.requests().first { $0["kind"] == .string("metadata") }?["scopes"]
        XCTAssertEqual(scopes, .string("https://www.googleapis.com/auth/cloud-platform"))
    }

    func testServerErrorsAreRetriedWithBackoff() async throws {
        let directory = try makeTemporaryDirectory(for: self)
        let server = try FakeGoogleAuthServer(for: self, directory: directory, failFirst: 2)
        let provider = GoogleTokenProvider(source: .metadataServer(host: "127.0.0.1:\(server.port)"), environment: [:],
                                           retry: quickRetry)
        let token = try await provider.accessToken()
        XCTAssertEqual(token, "meta-1")
        XCTAssertEqual(try server.requests().filter { $0["injected"] != nil }.count, 2)
    }

    func testTokensAreRefreshedBeforeTheyExpire() async throws {
        let directory = try makeTemporaryDirectory(for: self)
        // 200 s of life is inside the 225 s metadata margin: every call must fetch a new token.
        let server = try FakeGoogleAuthServer(for: self, directory: directory, expiresIn: 200)
        let provider = GoogleTokenProvider(source: .metadataServer(host: "127.0.0.1:\(server.port)"), environment: [:],
                                           retry: quickRetry)
        let first = try await provider.accessToken()
        let second = try await provider.accessToken()
        XCTAssertEqual(first, "meta-1")
        XCTAssertEqual(second, "meta-2")
    }

    func testAuthorizedUserRefreshGrant() async throws {
        let directory = try makeTemporaryDirectory(for: self)
        let server = try FakeGoogleAuthServer(for: self, directory: directory)
        // gcloud's well-known file: $CLOUDSDK_CONFIG/application_default_credentials.json.
        try write(#"{"type":"authorized_user","client_id":"cid","client_secret":"csecret","refresh_token":"rtoken","#
                  + #""quota_project_id":"quota-proj","token_uri":"\#(server.baseURL)/token"}"#,
                  to: directory + "/application_default_credentials.json")
        let userProvider = GoogleTokenProvider(source: try GoogleApplicationDefaultCredentials.resolve(
            environment: ["CLOUDSDK_CONFIG": directory]), environment: [:], retry: quickRetry)
        let token = try await userProvider.accessToken()
        XCTAssertEqual(token, "user-1")
        XCTAssertEqual(try server.requests().first?["verified"], .bool(true))
        let projectId = try await userProvider.projectId()
        XCTAssertEqual(projectId, "quota-proj")
    }

    func testExternalAccountExchangesTheCurrentSubjectTokenAndImpersonates() async throws {
        let directory = try makeTemporaryDirectory(for: self)
        let server = try FakeGoogleAuthServer(for: self, directory: directory, expiresIn: 200)
        let tokenFile = directory + "/token"
        try write("subject-A\n", to: tokenFile)
        let path = directory + "/wif.json"
        try write("""
            {"type":"external_account",
             "audience":"//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q",
             "subject_token_type":"urn:ietf:params:oauth:token-type:jwt","token_url":"\(server.baseURL)/v1/token",
             "service_account_impersonation_url":"\(server.baseURL)/v1/projects/-/serviceAccounts/r@p.iam.gserviceaccount.com:generateAccessToken",
             "credential_source":{"file":"\(tokenFile)"}}
            """, to: path)
        let provider = GoogleTokenProvider(source: .file(path: path, try GoogleCredentialsFile.load(path: path)),
                                           environment: [:], retry: quickRetry)
        let first = try await provider.accessToken()
        XCTAssertEqual(first, "impersonated-1")
        try write("subject-B\n", to: tokenFile)  // a projected token rotated by the kubelet
        let second = try await provider.accessToken()  // 200 s of life: inside the margin, so fetched again
        XCTAssertEqual(second, "impersonated-2")
        let requests = try server.requests()
        XCTAssertEqual(requests.filter { $0["kind"] == .string("sts") }.map { $0["subject_token"] },
                       [.string("subject-A"), .string("subject-B")])
        XCTAssertEqual(requests.filter { $0["kind"] == .string("impersonate") }.map { $0["bearer"] },
                       [.string("sts-subject-A"), .string("sts-subject-B")])
        XCTAssertEqual(requests.first { $0["kind"] == .string("impersonate") }?["lifetime"], .string("3600s"))
    }

    func testAKeySwappedTheWayTheKubeletSwapsASecretIsUsedAtTheNextRefresh() async throws {
        let directory = try makeTemporaryDirectory(for: self)
        // 200 s of life is inside the 300 s margin: every call refreshes, so every call may see a new key.
        let server = try FakeGoogleAuthServer(for: self, directory: directory, expiresIn: 200)
        let secondKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        try server.trust(testRSAKey, kid: "kid-a")
        try server.trust(secondKey, kid: "kid-b")
        // /secret/sa.json -> ..data/sa.json, ..data -> ..2024_01_01_00_00_00.1 (the kubelet layout).
        let secret = directory + "/secret"
        try FileManager.default.createDirectory(atPath: secret + "/..2024_01_01_00_00_00.1", withIntermediateDirectories: true)
        try write(try serviceAccountFile(key: testRSAKey, kid: "kid-a", email: "a@p.iam.gserviceaccount.com",
                                         tokenURI: server.baseURL + "/token"), to: secret + "/..2024_01_01_00_00_00.1/sa.json")
        XCTAssertEqual(symlink("..2024_01_01_00_00_00.1", secret + "/..data"), 0)
        XCTAssertEqual(symlink("..data/sa.json", secret + "/sa.json"), 0)
        let provider = try GoogleTokenProvider.applicationDefault(environment: ["GOOGLE_APPLICATION_CREDENTIALS": secret + "/sa.json"])
        let before = try await provider.accessToken()
        XCTAssertEqual(before, "sa-kid-a-1")

        // The swap: write the new version, point ..data_tmp at it, rename over ..data, remove the old version.
        try FileManager.default.createDirectory(atPath: secret + "/..2024_01_01_00_10_00.2", withIntermediateDirectories: true)
        try write(try serviceAccountFile(key: secondKey, kid: "kid-b", email: "b@p.iam.gserviceaccount.com",
                                         tokenURI: server.baseURL + "/token"), to: secret + "/..2024_01_01_00_10_00.2/sa.json")
        XCTAssertEqual(symlink("..2024_01_01_00_10_00.2", secret + "/..data_tmp"), 0)
        XCTAssertEqual(rename(secret + "/..data_tmp", secret + "/..data"), 0)
        try FileManager.default.removeItem(atPath: secret + "/..2024_01_01_00_00_00.1")

        let after = try await provider.accessToken()
        XCTAssertEqual(after, "sa-kid-b-2")
        let issuers = try server.requests().map { $0["iss"] }
        XCTAssertEqual(issuers, [.string("a@p.iam.gserviceaccount.com"), .string("b@p.iam.gserviceaccount.com")])
    }

    func testAMalformedKeyFileNamesTheFileAndFieldButNotTheKey() throws {
        let directory = try makeTemporaryDirectory(for: self)
        let path = directory + "/sa.json"
        try write(#"{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n"}"#, to: path)
        XCTAssertThrowsError(try GoogleTokenProvider.applicationDefault(environment: ["GOOGLE_APPLICATION_CREDENTIALS": path])) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(path) && message.contains("client_email"), message)
            XCTAssertFalse(message.contains("c2VjcmV0"), message)
        }
        XCTAssertThrowsError(try GoogleTokenProvider.applicationDefault(environment: ["GOOGLE_APPLICATION_CREDENTIALS": directory + "/none.json"])) { error in
            XCTAssertTrue("\(error)".contains("none.json"), "\(error)")
        }
    }

    func testAnAPIClientFetchesANewTokenOnceAfterA401() async throws {
        let directory = try makeTemporaryDirectory(for: self)
        let server = try FakeGoogleAuthServer(for: self, directory: directory)
        let provider = GoogleTokenProvider(source: .metadataServer(host: "127.0.0.1:\(server.port)"), environment: [:],
                                           retry: quickRetry)
        let client = GoogleAPIClient(baseURL: server.baseURL, tokens: provider, retry: quickRetry)
        // The fake's generateAccessToken refuses any bearer but an STS token: 401 every time.
        let reply = try await client.sendJSON("POST", "/v1/projects/-/serviceAccounts/x:generateAccessToken", json: #"{"scope":[]}"#)
        XCTAssertEqual(reply.status, 401)
        let requests = try server.requests()
        XCTAssertEqual(requests.filter { $0["kind"] == .string("metadata") }.count, 2, "one token, then one more after the 401")
        XCTAssertEqual(requests.filter { $0["kind"] == .string("impersonate") }.map { $0["bearer"] }, [.string("meta-1"), .string("meta-2")])
    }

    func testAMetadataServerThatNeverAnsweredIsAConfigurationError() async throws {
        // Port 9 on loopback: nothing listens, as off Google Cloud.
        let provider = GoogleTokenProvider(source: .metadataServer(host: "127.0.0.1:9"), environment: [:],
                                           retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10)))
        let start = Date()
        defer { XCTAssertLessThan(Date().timeIntervalSince(start), 9, "each attempt is bounded by the 3-s metadata timeout") }
        do {
            _ = try await provider.accessToken()
            XCTFail("a token without a metadata server")
        } catch let error as CredentialsError {
            XCTAssertEqual(error.code, .notFound)
            XCTAssertTrue(error.message.contains("GOOGLE_APPLICATION_CREDENTIALS"), error.message)
        }
    }

    func testEmulatorEndpointsAndErrorSummaries() {
        XCTAssertEqual(GoogleAPIClient.endpoint(emulatorHost: "localhost:8085", defaultURL: "https://x").url, "http://localhost:8085")
        XCTAssertEqual(GoogleAPIClient.endpoint(emulatorHost: "http://h:1", defaultURL: "https://x").url, "http://h:1")
        XCTAssertFalse(GoogleAPIClient.endpoint(emulatorHost: nil, defaultURL: "https://x").isEmulator)
        let reply = HTTPReply(status: 403, headers: [], body: Array(#"{"error":{"code":403,"message":"User not authorized","status":"PERMISSION_DENIED"}}"#.utf8))
        XCTAssertEqual(GoogleAPIClient.errorSummary(reply), "HTTP 403 PERMISSION_DENIED: User not authorized")
    }
}
