#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A StudioML queue message body, `{"experiment": {...}, "config": {...}}`. Other top-level fields
/// and the field order survive a round trip.
public struct StudioMessage: Sendable, Equatable {
    /// The experiment (at submit time identical to the stored record).
    public var experiment: Experiment
    /// The submitter's config as sent, unmerged.
    public var configJSON: JSONObject
    /// The whole body; `experiment` and `config` are kept in step with the properties above.
    private var rest: JSONObject

    /// A message for `experiment` with `config` (its `source` is sent, as StudioML sends what it loaded).
    public init(experiment: Experiment, config: JSONObject) {
        self.experiment = experiment
        self.configJSON = config
        rest = ["experiment": nil, "config": nil]
    }

    /// Parses a message body; encrypted messages are recognised and rejected.
    public init(parsing data: Data) throws {
        try self.init(json: JSONValue(parsing: data))
    }

    /// Parses a message body; encrypted messages are recognised and rejected.
    public init(parsing text: String) throws {
        try self.init(json: JSONValue(parsing: text))
    }

    /// Checks a parsed message body.
    public init(json value: JSONValue) throws {
        guard case .object(let object) = value else {
            throw ModelError(.invalidField, "a StudioML message must be a JSON object {experiment, config}, not \(value.typeDescription)")
        }
        guard let experimentValue = object["experiment"] else {
            if let inner = object["message"]?.objectValue, inner.contains("payload") || inner.contains("signature") {
                throw ModelError(.encryptedMessage,
                                 "encrypted StudioML messages are not supported: resubmit without public_key_path and signing_key_path in the submitter's config")
            }
            throw ModelError(.missingField, "the StudioML message has no 'experiment' object")
        }
        experiment = try Experiment(json: experimentValue)
        switch object["config"] {
        case nil, .null?: configJSON = [:]
        case .object(let config)?: configJSON = config
        case let other?:
            throw ModelError(.invalidField, "message field 'config' must be an object, not \(other.typeDescription)")
        }
        rest = object
    }

    /// The config merged over the defaults (no `$VAR` expansion: the submitter did that).
    public var config: StudioConfig {
        get throws { try StudioConfig(json: .object(configJSON)) }
    }

    /// The whole body in its original field order.
    public var json: JSONObject {
        var body = rest
        body["experiment"] = .object(experiment.json)
        body["config"] = .object(configJSON)
        return body
    }

    /// The body as StudioML's submitter writes it (`json.dumps` defaults unless told otherwise).
    public func jsonData(_ options: JSONWriteOptions = .pythonDefault) -> Data {
        JSONValue.object(json).jsonData(options)
    }
}
