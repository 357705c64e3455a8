#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioModel
import StudioQueues

/// Finds and loads the config a command uses: `--config FILE`, else `$STUDIOML_HOME/config.yaml`
/// when it exists, else the built-in defaults (a local queue and store, no set-up needed).
enum ConfigLoader {
    static func load(path: String?, home: String, environment: [String: String]) throws -> StudioConfig {
        if let path { return try StudioConfig.load(path: path, environment: environment) }
        let fallback = home + "/config.yaml"
        if FileManager.default.fileExists(atPath: fallback) {
            return try StudioConfig.load(path: fallback, environment: environment)
        }
        return try StudioConfig(json: .object([:]))
    }
}

extension ConfigLoader {
    /// Opens the queue `name` selects, with what the config says about it: an SQS queue takes
    /// `cloud.queue.sqs.credentials.aws` from the config, a RabbitMQ queue `cloud.queue.rmq` and
    /// `cloud.queue.persistent` (for the submitter's and the worker's `--config` alike), every other queue the process environment.
    static func openQueue(_ name: String, home: String, config: StudioConfig) throws -> any JobQueue {
        if name.hasPrefix("sqs_") || name.hasPrefix("ec2_") {
            return try SQSQueue(name: name, settings: SQSQueue.settings(fromConfig: config.source))
        }
        if name.hasPrefix("rmq_") { return try RabbitMQQueue(name: name, config: config.source) }
        return try QueueSelector.open(name, home: home)
    }
}
