import XCTest
@testable import StudioCredentials

final class GoogleApplicationDefaultCredentialsTests: XCTestCase {
    func testExplicitFileThenWellKnownFileThenMetadataServer() throws {
        let directory = try makeTemporaryDirectory(for: self)
        try write(String(decoding: try serviceAccountJSON(), as: UTF8.self), to: directory + "/sa.json")
        let explicit = try GoogleApplicationDefaultCredentials.resolve(environment: [
            "GOOGLE_APPLICATION_CREDENTIALS": directory + "/sa.json", "CLOUDSDK_CONFIG": directory + "/gcloud",
        ])
        guard case let .file(path, .serviceAccount(key)) = explicit else { return XCTFail("\(explicit)") }
        XCTAssertEqual(path, directory + "/sa.json")
        XCTAssertEqual(key.clientEmail, "runner@my-proj.iam.gserviceaccount.com")

        try FileManager.default.createDirectory(atPath: directory + "/gcloud", withIntermediateDirectories: true)
        try write(#"{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"r"}"#,
                  to: directory + "/gcloud/application_default_credentials.json")
        guard case .file(_, .authorizedUser) = try GoogleApplicationDefaultCredentials.resolve(
            environment: ["CLOUDSDK_CONFIG": directory + "/gcloud"]) else { return XCTFail() }

        guard case let .metadataServer(host) = try GoogleApplicationDefaultCredentials.resolve(
            environment: ["HOME": directory + "/nohome"]) else { return XCTFail() }
        XCTAssertEqual(host, "169.254.169.254")
        guard case let .metadataServer(custom) = try GoogleApplicationDefaultCredentials.resolve(
            environment: ["GCE_METADATA_HOST": "metadata.test:8080"]) else { return XCTFail() }
        XCTAssertEqual(custom, "metadata.test:8080")
    }

    func testExplicitFileMustExist() {
        XCTAssertThrowsError(try GoogleApplicationDefaultCredentials.resolve(
            environment: ["GOOGLE_APPLICATION_CREDENTIALS": "/nonexistent/sa.json"])) { error in
            XCTAssertEqual(String(describing: error),
                           "GOOGLE_APPLICATION_CREDENTIALS names /nonexistent/sa.json, which does not exist")
        }
    }

    func testWellKnownPathAndProjectId() throws {
        XCTAssertEqual(GoogleApplicationDefaultCredentials.wellKnownFilePath(environment: ["HOME": "/home/u"]),
                       "/home/u/.config/gcloud/application_default_credentials.json")
        XCTAssertNil(GoogleApplicationDefaultCredentials.wellKnownFilePath(environment: [:]))
        let file = try GoogleCredentialsFile.parse(serviceAccountJSON(), path: "sa.json")
        let source = GoogleCredentialSource.file(path: "sa.json", file)
        XCTAssertEqual(GoogleApplicationDefaultCredentials.projectId(environment: [:], source: source), "my-proj")
        XCTAssertEqual(GoogleApplicationDefaultCredentials.projectId(environment: ["GCLOUD_PROJECT": "legacy"], source: source), "legacy")
        XCTAssertEqual(GoogleApplicationDefaultCredentials.projectId(
            environment: ["GOOGLE_CLOUD_PROJECT": "env", "GCLOUD_PROJECT": "legacy"], source: source), "env")
        XCTAssertNil(GoogleApplicationDefaultCredentials.projectId(environment: [:], source: .metadataServer(host: "h")))
    }
}
