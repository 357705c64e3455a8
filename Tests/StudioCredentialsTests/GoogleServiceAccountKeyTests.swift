#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import XCTest
import _CryptoExtras
@testable import StudioCredentials

/// A fixed RSA key made for these tests only (made with `openssl genpkey`; generating one in a
/// debug build of BoringSSL takes minutes).
let testRSAKey = try! _RSA.Signing.PrivateKey(pemRepresentation: """
-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDbpN9YNH4JNXNp
oKNGcvHhb0VlVvTMd1CsQMJNzTs6+lP5eudZqh+gaQIZ35w8WORyetVRX2rrHJTd
lmVPFg5T6etyW1fU/4qwssZot8h5rMcGjZcRij/GYhnkMlWWFxJDOr8vmdRPeSNy
ZGCHvmBHBJDPvdiHbvrOu3kQ+wHj1fKPQxsgYw1zVeAacDpurQ+qPxXAMrQG0Ad8
zRSXNZVNXPZcAg6gskHqJvqe/Pcgh1cY7qdGebW+K2cqOXD20ndOdGH0HMvyafNQ
nLPYI27tWb4jZhoceHtFlucvzSOxCQsFiIhK3sFjg7CUDBj0tNutMogFooGmbBgD
AAkXjkKlAgMBAAECggEAV0zeSuA+UimxEEQ9cVRhiHFiG0fnL9eitHxe3m6awrPZ
qbjseGqSfH8QSzliD2hjkI7694dd50oqbzKGXNtO4ZKBtyfQLsRNGzNLgja+E4KV
bqjbaSjSdWbrlJRfCTNtWlRgxio1xUrISIDWD04fVUrexftWs2nsfTvtgE7MLwJP
ip5oH5qlGg93NGLPaOlL/LjR2fetYaTqqOavbSAyTx9tCURngvaS7z6wPuokyObj
/BjK3eapQWil34ZKbrktX69eiis3hG8UipeIkVm1B1RCv8kYyo1GTJIGl1bO2FE8
+Waus4o+BmYw5pLVT+pYPcYyv8FwmtF5WnZV3+7n5wKBgQDxAgZUH94AdMCm3m10
6FtRyUdvRsb2ibXYxBErjJv3wLuAfeAKu+7quy2nlcn3qQk8HAf8iE86/95EjaCb
lPIGhAmcll+1/R6w3KZM/X8rlTQgAcupDAqiBEVinPPAEsfQwjidDhOnf8i4AtVU
Ir5NYA431rHnxqXwGhtEQ+eeuwKBgQDpTqJ7q/LdZDJuhHTa3RZMlBxdxmvrJ8i2
ODZTzYnhuMemV27vUMFWMVJR/kCJ5+qOeYjlKZQuWdynLC4LerwwkTY78D6M/cO9
NKfmhgV7JrhRGvJKsycQs0iXtbCWTc7v3rBBTq44sEZREvGckB69g1VCrOu7lf7t
9esmEgZ+HwKBgQDo8m0NiNO6mx7O63Tep+wETEl4m++Zwhd7Ul/KORlTyf0xv/j6
RxYx2gPR1K0nbUIY0HtDsrjqLQA4QLA5USjx9VOY/5u5OtQcXNl81xTBGnEMcs/Y
MGRin0A1hcDwKPbrp56y5zVGE/P9L/fkX8SS40I65JCGl3Iydfle7UeGGwKBgQDA
bMfcorxj1zE1L/BFV5X9wScIPRBjWmPTztcYFW1Ei6e3TWPE5GEhmvpfgAlw9KPj
sN+0yq9Z72nrQ6gSdb9je1E07Hhaxy47DoPwwNcidJQO6N+vtsVgo84aupMT1Mb5
1jyfEKrnPJQyaCJ40/FWs0yN+ptPE264i1zQAIv0VwKBgGFZvWWmo9jM1fWqwywa
FPmWnYHDo0Xckmnao8hjhfXOoiiqKDAar3ouznjIrhepIawjlFLeuxO53eXkaO/M
hiEGWj7oRo2OyiK2jJIjrMG/m3hNCJnmhTLzd96Iz+QkAa+mTzwpQ9Ds+9iZkHbm
sd5z2nYX1PdjxNn5pM7ooG5J
-----END PRIVATE KEY-----
""")

/// A service-account key file's JSON with `overrides` applied (nil removes a field).
func serviceAccountJSON(_ overrides: [String: String?] = [:]) throws -> [UInt8] {
    var fields: [String: String] = [
        "type": "service_account", "project_id": "my-proj", "private_key_id": "4f1ce2",
        "private_key": testRSAKey.pkcs8PEMRepresentation, "client_email": "runner@my-proj.iam.gserviceaccount.com",
        "client_id": "1098765432101234567", "token_uri": "https://oauth2.googleapis.com/token",
    ]
    for (key, value) in overrides { fields[key] = value }
    return Array(try JSONEncoder().encode(fields))
}

final class GoogleServiceAccountKeyTests: XCTestCase {
    func testParsesAKeyFileWrittenToDisk() throws {
        let directory = try makeTemporaryDirectory(for: self)
        try write(String(decoding: try serviceAccountJSON(), as: UTF8.self), to: directory + "/sa.json")
        guard case let .serviceAccount(key) = try GoogleCredentialsFile.load(path: directory + "/sa.json") else {
            return XCTFail("expected a service account")
        }
        XCTAssertEqual(key.clientEmail, "runner@my-proj.iam.gserviceaccount.com")
        XCTAssertEqual(key.privateKeyId, "4f1ce2")
        XCTAssertEqual(key.projectId, "my-proj")
        XCTAssertEqual(key.tokenURI, "https://oauth2.googleapis.com/token")
        XCTAssertEqual(key.universeDomain, "googleapis.com")
        XCTAssertEqual(key.privateKey.publicKey.derRepresentation, testRSAKey.publicKey.derRepresentation)
    }

    func testAcceptsPKCS1AndDefaultsTheTokenURI() throws {
        let key = try GoogleServiceAccountKey(
            parsing: serviceAccountJSON(["private_key": testRSAKey.pemRepresentation, "token_uri": nil]), path: "k.json")
        XCTAssertTrue(testRSAKey.pemRepresentation.hasPrefix("-----BEGIN RSA PRIVATE KEY-----"))
        XCTAssertEqual(key.tokenURI, GoogleServiceAccountKey.defaultTokenURI)
    }

    func testMissingFieldsAreNamed() throws {
        for field in ["client_email", "private_key", "type"] {
            XCTAssertThrowsError(try GoogleCredentialsFile.parse(serviceAccountJSON([field: nil]), path: "/s/sa.json")) { error in
                let message = String(describing: error)
                XCTAssertTrue(message.hasPrefix("/s/sa.json: "), message)
                XCTAssertTrue(message.contains("\"\(field)\""), message)
                XCTAssertEqual((error as? CredentialsError)?.code, .missingField)
            }
        }
    }

    func testBadKeyIsNamedButNeverEchoed() throws {
        let bogus = "-----BEGIN PRIVATE KEY-----\nTOPSECRETMATERIAL\n-----END PRIVATE KEY-----\n"
        XCTAssertThrowsError(try GoogleCredentialsFile.parse(serviceAccountJSON(["private_key": bogus]), path: "sa.json")) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.contains("\"private_key\""), message)
            XCTAssertFalse(message.contains("TOPSECRET"), message)
            XCTAssertEqual((error as? CredentialsError)?.code, .invalidField)
        }
    }

    func testWrongTypesAndMalformedFiles() throws {
        XCTAssertThrowsError(try GoogleCredentialsFile.parse(Array(#"{"type":"service_account","client_email":7}"#.utf8),
                                                             path: "a.json")) { error in
            XCTAssertEqual(String(describing: error), "a.json: field \"client_email\" must be a string")
        }
        XCTAssertThrowsError(try GoogleCredentialsFile.parse(Array("not json".utf8), path: "b.json")) { error in
            XCTAssertEqual(String(describing: error), "b.json is not valid JSON")
        }
        XCTAssertThrowsError(try GoogleCredentialsFile.parse(Array(#"{"type":"impersonated_service_account"}"#.utf8),
                                                             path: "c.json")) { error in
            XCTAssertEqual((error as? CredentialsError)?.code, .unsupportedType)
        }
        XCTAssertThrowsError(try GoogleCredentialsFile.load(path: "/nonexistent/sa.json")) { error in
            XCTAssertEqual(String(describing: error), "Google credentials file /nonexistent/sa.json does not exist")
        }
    }

    func testDescriptionsHideTheKey() throws {
        let file = try GoogleCredentialsFile.parse(serviceAccountJSON(), path: "sa.json")
        guard case let .serviceAccount(key) = file else { return XCTFail() }
        var dumped = ""
        dump(key, to: &dumped)
        let body = testRSAKey.pkcs8PEMRepresentation.split(separator: "\n")[1]
        for text in [String(describing: file), String(describing: key), String(reflecting: key), dumped] {
            XCTAssertFalse(text.contains(body), text)
            XCTAssertFalse(text.contains("PRIVATE KEY-----"), text)
        }
    }

    func testAuthorizedUser() throws {
        let json = #"{"type":"authorized_user","client_id":"cid.apps.googleusercontent.com","client_secret":"csecret","refresh_token":"1//0grefresh","quota_project_id":"billing"}"#
        guard case let .authorizedUser(user) = try GoogleCredentialsFile.parse(Array(json.utf8), path: "adc.json") else {
            return XCTFail()
        }
        XCTAssertEqual(user.refreshToken, "1//0grefresh")
        XCTAssertEqual(user.quotaProjectId, "billing")
        XCTAssertEqual(user.tokenURI, "https://oauth2.googleapis.com/token")
        XCTAssertFalse(user.description.contains("csecret"))
        XCTAssertFalse(user.description.contains("1//0grefresh"))
        XCTAssertThrowsError(try GoogleCredentialsFile.parse(Array(#"{"type":"authorized_user","client_id":"c","client_secret":"s"}"#.utf8),
                                                             path: "adc.json")) { error in
            XCTAssertEqual(String(describing: error), "adc.json: an authorized_user file is missing field \"refresh_token\"")
        }
    }
}
