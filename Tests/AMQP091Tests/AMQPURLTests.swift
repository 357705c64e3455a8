import AMQP091
import XCTest

final class AMQPURLTests: XCTestCase {
    func testPikaStyleURLs() throws {
        let url = try AMQPURL(parsing: "amqps://user%40corp:p%3Ass@broker.example:5671/prod%2Fa?heartbeat=15&connection_attempts=3")
        XCTAssertEqual(url.tls, true)
        XCTAssertEqual(url.user, "user@corp")
        XCTAssertEqual(url.password, "p:ss")
        XCTAssertEqual(url.host, "broker.example")
        XCTAssertEqual(url.port, 5671)
        XCTAssertEqual(url.virtualHost, "prod/a")
        XCTAssertEqual(url.heartbeat, 15)
        let defaults = try AMQPURL(parsing: AMQPURL.defaultURL)
        XCTAssertEqual([defaults.user, defaults.password, defaults.host, defaults.virtualHost], ["guest", "guest", "localhost", "/"])
        XCTAssertEqual(try AMQPURL(parsing: "amqp://guest:guest@localhost:5672/").virtualHost, "/")
        XCTAssertEqual(try AMQPURL(parsing: "amqp://h").port, 5672)
        XCTAssertEqual(try AMQPURL(parsing: "amqp://u:p@[::1]:5673/v").host, "::1")
    }

    func testDescriptionMasksThePassword() throws {
        let url = try AMQPURL(parsing: "amqp://alice:s3cret@host:5672/%2F")
        XCTAssertEqual(url.description, "amqp://alice:***@host:5672/%2F")
        XCTAssertFalse("\(url)".contains("s3cret"))
        XCTAssertEqual(AMQPURL.masked("http://bob:hunter2@x/"), "http://bob:***@x/")
    }

    func testBadURLsAreRefusedWithoutThePassword() {
        for text in ["http://u:s3cret@h/", "amqp://u:s3cret@h:99999/", "amqp://u:s3cret@h:x/", "amqp://u:s3cr%zzet@h/"] {
            XCTAssertThrowsError(try AMQPURL(parsing: text)) { error in
                XCTAssertFalse("\(error)".contains("s3cret"), "\(error)")
            }
        }
    }
}
