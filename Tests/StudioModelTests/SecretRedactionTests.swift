import StudioModel
import XCTest

/// The one redaction of secrets in what we write, log and show.
final class SecretRedactionTests: XCTestCase {
    func testNamesURLsAndEnvironments() throws {
        XCTAssertTrue(SecretRedaction.isSecretName("aws_secret_access_key"))
        XCTAssertTrue(SecretRedaction.isSecretName("GOOGLE_APPLICATION_CREDENTIALS"))
        XCTAssertTrue(SecretRedaction.isSecretName("refreshToken"))
        XCTAssertFalse(SecretRedaction.isSecretName("key"))
        XCTAssertFalse(SecretRedaction.isSecretName("keyname"))
        let value = try JSONValue(parsing: Data("""
            {"env": {"A": "x", "B": null}, "artifacts": {"data": {"url": "https://u:p@h/o?X-Amz-Signature=abc", "key": "k"}},
             "list": ["s3://a:b@host/c"], "note": "https://h/p?q=1"}
            """.utf8))
        let redacted = SecretRedaction.redact(value)
        XCTAssertEqual(redacted["env"], .object(["A": .string("<redacted>"), "B": .null]))
        XCTAssertEqual(redacted["artifacts"]?["data"]?["url"], .string("https://u:<redacted>@h/o?<redacted>"), "a url's query is its signature")
        XCTAssertEqual(redacted["artifacts"]?["data"]?["key"], .string("k"))
        XCTAssertEqual(redacted["list"], .array([.string("s3://a:<redacted>@host/c")]))
        XCTAssertEqual(redacted["note"], .string("https://h/p?q=1"), "only a url member loses its query")
        XCTAssertEqual(SecretRedaction.redactURL("https://h/o?sig=1"), "https://h/o?<redacted>")
        XCTAssertEqual(SecretRedaction.redactURL("gs://bucket/key"), "gs://bucket/key")
    }
}
