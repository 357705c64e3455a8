#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AMQP091
import StudioQueues
import Synchronization
import XCTest

/// `amqps://` against a real rabbitmq-server with a TLS listener whose certificate a test CA signed:
/// with that CA the queue works end to end; without it the broker's certificate is refused.
final class RabbitMQTLSTests: XCTestCase {
    private static let server = Mutex<RabbitMQServer?>(nil)

    override class func tearDown() {
        server.withLock { server in
            server?.remove()
            server = nil
        }
        super.tearDown()
    }

    private func tlsServer() throws -> RabbitMQServer {
        try Self.server.withLock { server in
            if let server { return server }
            let started = try RabbitMQServer(tls: true)
            server = started
            return started
        }
    }

    private func tlsURL(_ server: RabbitMQServer) throws -> AMQPURL {
        try AMQPURL(parsing: "amqps://guest:guest@127.0.0.1:\(try XCTUnwrap(server.tlsPort))/%2F")
    }

    func testAQueueOverTLSSendsReceivesAndAcknowledges() async throws {
        let server = try tlsServer()
        var options = AMQPConnection.Options()
        options.caFile = server.caFile
        let queue = try RabbitMQQueue(name: "rmq_tls\(UInt32.random(in: 0...UInt32.max))", url: try tlsURL(server),
                                      persistent: false, options: options)
        try await queue.send(Data(#"{"experiment":{"key":"tls"},"config":{}}"#.utf8))
        let received = try await queue.receive(lease: 30, wait: 5)
        let message = try XCTUnwrap(received)
        XCTAssertEqual(String(decoding: message.body, as: UTF8.self), #"{"experiment":{"key":"tls"},"config":{}}"#)
        try await queue.acknowledge(message)
        let after = try await queue.receive(lease: 30, wait: 1)
        XCTAssertNil(after)
        await queue.close()
    }

    func testABrokerCertificateFromAnUnknownCAIsRefused() async throws {
        let server = try tlsServer()
        var options = AMQPConnection.Options()
        options.timeout = 10
        let queue = try RabbitMQQueue(name: "rmq_tls_untrusted", url: try tlsURL(server), persistent: false, options: options)
        do {
            try await queue.send(Data("{}".utf8))
            XCTFail("a broker certificate signed by an unknown CA was accepted")
        } catch {
            XCTAssertFalse("\(error)".contains("guest:guest"), "the password leaked into: \(error)")
            XCTAssertTrue("\(error)".contains("CERTIFICATE_VERIFY_FAILED"), "refused, but not for the certificate: \(error)")
        }
        await queue.close()
    }
}
