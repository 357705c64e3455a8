#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A StudioML experiment dict: the `experiment` part of a message and the record stored at
/// `experiments/<key>`. A typed view over the JSON object, so fields this type does not know survive
/// a read-modify-write. Missing fields read as defaults; only fields the worker cannot do without
/// are checked (`key`, and the types of `args`, `filename` and `artifacts`).
public struct Experiment: Sendable, Equatable {
    /// The dict as stored.
    public var json: JSONObject

    /// Wraps and checks an experiment object.
    public init(json value: JSONValue) throws {
        guard case .object(let object) = value else {
            throw ModelError(.invalidField, "an experiment must be a JSON object, not \(value.typeDescription)")
        }
        guard let keyValue = object["key"] else {
            throw ModelError(.missingField, "the experiment has no 'key'; it cannot be run or recorded")
        }
        guard let key = keyValue.stringValue, !key.isEmpty else {
            throw ModelError(.invalidField, "experiment field 'key' must be a non-empty string, not \(keyValue.description)")
        }
        if key.contains("/") || key == "." || key == ".." {
            throw ModelError(.invalidField, "experiment key '\(key)' must not contain '/' (it names storage paths)")
        }
        if let args = object["args"], !args.isNull {
            guard let items = args.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                throw ModelError(.invalidField, "experiment field 'args' must be a list of strings, not \(args.description)")
            }
        }
        if let filename = object["filename"], !filename.isNull, filename.stringValue == nil {
            throw ModelError(.invalidField, "experiment field 'filename' must be a string, not \(filename.typeDescription)")
        }
        if let artifacts = object["artifacts"], !artifacts.isNull {
            guard let map = artifacts.objectValue else {
                throw ModelError(.invalidField, "experiment field 'artifacts' must be an object of tag → artifact, not \(artifacts.typeDescription)")
            }
            for (tag, entry) in map where entry.objectValue == nil {
                throw ModelError(.invalidField, "experiment field 'artifacts.\(tag)' must be an object, not \(entry.typeDescription)")
            }
        }
        json = object
    }

    /// Parses and checks a stored record or a message's experiment from JSON bytes.
    public init(parsing data: Data) throws {
        try self.init(json: JSONValue(parsing: data))
    }

    /// A new experiment with every field StudioML's client writes, in its order; `status` is `waiting`
    /// and `time_added`/`time_last_checkpoint` are `timeAdded`.
    public init(key: String, filename: String, args: [String] = [], pythonenv: [String] = [],
                pythonver: String = "3", project: String? = nil,
                resourcesNeeded: JSONObject = ["gpus": 0, "cpus": 1, "ram": "1g", "hdd": "1g"],
                timeAdded: Double, maxDuration: String? = nil, metric: String? = nil, owner: String = "guest",
                artifacts: [(tag: String, artifact: Artifact)] = [])
    {
        var o = JSONObject()
        o["key"] = .string(key)
        o["args"] = .array(args.map(JSONValue.string))
        o["filename"] = .string(filename)
        o["pythonenv"] = .array(pythonenv.map(JSONValue.string))
        o["project"] = project.map(JSONValue.string) ?? .null
        o["pythonver"] = .string(pythonver)
        o["resources_needed"] = .object(resourcesNeeded)
        o["status"] = .string("waiting")
        o["time_added"] = .double(timeAdded)
        o["time_started"] = .null
        o["time_last_checkpoint"] = .double(timeAdded)
        o["time_finished"] = .null
        o["info"] = .object([:])
        o["git"] = .null
        o["metric"] = metric.map(JSONValue.string) ?? .null
        o["max_duration"] = maxDuration.map(JSONValue.string) ?? .null
        o["owner"] = .string(owner)
        o["from_compl_service"] = .bool(false)
        o["artifacts"] = .object(JSONObject(artifacts.map { ($0.tag, JSONValue.object($0.artifact.json)) }))
        json = o
    }

    /// A new key as StudioML makes them: `<int epoch seconds>_<lowercase uuid4>`.
    public static func generateKey(now: Double = Date().timeIntervalSince1970) -> String {
        "\(Int64(now))_\(UUID().uuidString.lowercased())"
    }

    /// The record's JSON text (`json.dumps` form unless told otherwise).
    public func jsonData(_ options: JSONWriteOptions = .pythonDefault) -> Data {
        JSONValue.object(json).jsonData(options)
    }

    // MARK: Fields

    /// The experiment key, e.g. `1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5`.
    public var key: String { json["key"]?.stringValue ?? "" }

    /// The script's arguments.
    public var args: [String] {
        get { json["args"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        set { json["args"] = .array(newValue.map(JSONValue.string)) }
    }

    /// The script path relative to the workspace (`-m` for module runs); "" when missing.
    public var filename: String {
        get { json["filename"]?.stringValue ?? "" }
        set { json["filename"] = .string(newValue) }
    }

    /// The submitter's `pip freeze` lines.
    public var pythonenv: [String] {
        get { json["pythonenv"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        set { json["pythonenv"] = .array(newValue.map(JSONValue.string)) }
    }

    /// The submitter's Python `major.minor`, e.g. `3.11`.
    public var pythonver: String? {
        get { json["pythonver"].flatMap { $0.isNull ? nil : $0.scalarText } }
        set { json["pythonver"] = newValue.map(JSONValue.string) ?? .null }
    }

    /// `--project`.
    public var project: String? {
        get { json["project"]?.stringValue }
        set { json["project"] = newValue.map(JSONValue.string) ?? .null }
    }

    /// What the experiment needs to run.
    public var resourcesNeeded: ResourcesNeeded {
        get { ResourcesNeeded(json: json["resources_needed"]?.objectValue ?? [:], fieldName: "experiment.resources_needed") }
        set { json["resources_needed"] = .object(newValue.json) }
    }

    /// The lifecycle status; `waiting` when missing.
    public var status: ExperimentStatus {
        get { ExperimentStatus(rawValue: json["status"]?.stringValue ?? "waiting") }
        set { json["status"] = .string(newValue.rawValue) }
    }

    /// When the submitter added it (float epoch seconds).
    public var timeAdded: Double? {
        get { json["time_added"]?.doubleValue }
        set { json["time_added"] = newValue.map(JSONValue.double) ?? .null }
    }

    /// When a worker started it.
    public var timeStarted: Double? {
        get { json["time_started"]?.doubleValue }
        set { json["time_started"] = newValue.map(JSONValue.double) ?? .null }
    }

    /// When its artifacts were last checkpointed.
    public var timeLastCheckpoint: Double? {
        get { json["time_last_checkpoint"]?.doubleValue }
        set { json["time_last_checkpoint"] = newValue.map(JSONValue.double) ?? .null }
    }

    /// When it finished.
    public var timeFinished: Double? {
        get { json["time_finished"]?.doubleValue }
        set { json["time_finished"] = newValue.map(JSONValue.double) ?? .null }
    }

    /// The config the experiment was submitted with, secrets removed (`SecretRedaction`): ours, not StudioML's
    /// (whose readers ignore it), so the web UI can show what an experiment ran with. Setting it redacts.
    public var redactedConfig: JSONObject? {
        get { json["config"]?.objectValue }
        set { json["config"] = newValue.map { SecretRedaction.redact(.object($0)) } ?? nil }
    }

    /// Free-form information; `{}` when missing.
    public var info: JSONObject {
        get { json["info"]?.objectValue ?? [:] }
        set { json["info"] = .object(newValue) }
    }

    /// `max_duration` as written (`"25s"`, `"48h2m10s"`), nil when null or missing.
    public var maxDurationText: String? {
        get { json["max_duration"].flatMap { $0.isNull ? nil : $0.scalarText } }
        set { json["max_duration"] = newValue.map(JSONValue.string) ?? .null }
    }

    /// `max_duration` parsed; nil for no limit.
    public var maxDuration: StudioDuration? {
        get throws { try StudioDuration.parse(json["max_duration"], field: "experiment.max_duration") }
    }

    /// The owner, `guest` without authentication.
    public var owner: String? {
        get { json["owner"]?.stringValue }
        set { json["owner"] = newValue.map(JSONValue.string) ?? .null }
    }

    /// `--metric`.
    public var metric: String? {
        get { json["metric"]?.stringValue }
        set { json["metric"] = newValue.map(JSONValue.string) ?? .null }
    }

    /// `git` (always null from StudioML 0.0.49 on Python 3), opaque.
    public var git: JSONValue {
        get { json["git"] ?? .null }
        set { json["git"] = newValue }
    }

    /// Whether a completion-service job submitted it.
    public var fromCompletionService: Bool { json["from_compl_service"]?.boolValue ?? false }

    /// The artifacts in their stored order.
    public var orderedArtifacts: [(tag: String, artifact: Artifact)] {
        (json["artifacts"]?.objectValue ?? [:]).compactMap { member in
            member.value.objectValue.map { (tag: member.key, artifact: Artifact(json: $0)) }
        }
    }

    /// The artifacts by tag.
    public var artifacts: [String: Artifact] {
        Dictionary(orderedArtifacts.map { ($0.tag, $0.artifact) }, uniquingKeysWith: { $1 })
    }

    /// The artifact with `tag`, if any.
    public func artifact(_ tag: String) -> Artifact? {
        json["artifacts"]?[tag]?.objectValue.map(Artifact.init(json:))
    }

    /// Adds or replaces the artifact with `tag` (a new tag goes last).
    public mutating func setArtifact(_ artifact: Artifact?, for tag: String) {
        var map = json["artifacts"]?.objectValue ?? [:]
        map[tag] = artifact.map { .object($0.json) }
        json["artifacts"] = .object(map)
    }
}

/// A field a record writer owns: it writes only these and keeps the rest of the stored record.
public enum OwnedField: Sendable, Hashable {
    /// A top-level field such as `status` or `time_started`.
    case field(String)
    /// One key inside `info`.
    case infoKey(String)

    public static let status = OwnedField.field("status")
    public static let timeStarted = OwnedField.field("time_started")
    public static let timeLastCheckpoint = OwnedField.field("time_last_checkpoint")
    public static let timeFinished = OwnedField.field("time_finished")
}

extension Experiment {
    /// This (freshly re-read, stored) record with only `ownedFields` taken from `writer`'s copy:
    /// StudioML's read-modify-write. A field the writer lacks is removed; everything else, including
    /// fields neither side knows and other `info` keys, stays as stored.
    public func merging(ownedFields: [OwnedField], from writer: Experiment) -> Experiment {
        var result = self
        for field in ownedFields {
            switch field {
            case .field(let name):
                result.json[name] = writer.json[name]
            case .infoKey(let name):
                var info = result.info
                info[name] = writer.info[name]
                result.info = info
            }
        }
        return result
    }
}
