#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioInit
import XCTest

/// moto's standalone server (`python3 -m moto.server`) on a free loopback port, spawned through the test
/// process's one reaper (`ProcessSupervisor.shared`). Skips when moto is missing (`pip install 'moto[server]'`).
final class MotoServer: @unchecked Sendable {
    let run: SupervisedRun
    let port: Int
    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// The AWS part of an environment that talks to this server with dummy keys.
    var awsEnvironment: [String: String] {
        ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
         "AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true"]
    }

    init(in directory: TemporaryDirectory) throws {
        port = try LoopbackPort.free()
        run = try SupervisedRun(["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], in: directory)
        guard eventually(timeout: 30, { LoopbackPort.accepts(port) }) else {
            kill(run.pid, SIGKILL)
            throw XCTSkip("moto's server did not start; install it with: pip install 'moto[server]' (\(run.standardError.suffix(300)))")
        }
    }

    func stop() async {
        kill(run.pid, SIGKILL)
        _ = await run.wait(timeout: 10)
    }
}

extension MotoServer {
    /// A StudioML config with the database, storage and SQS queue on this server, with its fixed
    /// test credentials (StudioML's key names; our worker and StudioML's both read it).
    var studioConfig: String {
        """
        database:
            type: s3
            endpoint: \(endpoint)
            bucket: studioml-meta
            authentication: none
            credentials:
                aws:
                    access_key: testing
                    secret_access_key: testing
        storage:
            type: s3
            endpoint: \(endpoint)
            bucket: studioml-artifacts
            credentials:
                aws:
                    access_key: testing
                    secret_access_key: testing
        cloud:
            queue:
                sqs:
                    credentials:
                        aws:
                            access_key: testing
                            secret_access_key: testing
                            region: us-east-1
        saveMetricsFrequency: 1m
        saveWorkspaceFrequency: 1m

        """
    }
}
