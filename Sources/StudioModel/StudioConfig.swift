#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A StudioML config (`config.yaml`, or the `config` part of a message), deep-merged over built-in
/// defaults so that a config that sets only `database.bucket` still has everything else.
///
/// StudioML itself did not merge (a missing `resources_needed` crashed `studio run`); we do. As in
/// StudioML, a config with a `database` but no `storage` section keeps its artifacts in the database's
/// store, so the merged `storage` is then a copy of `database`.
public struct StudioConfig: Sendable, Equatable {
    /// The config as given (after `$VAR` expansion when loaded from a file), before merging.
    public var source: JSONObject
    /// The config merged over `StudioConfig.defaults`.
    public var json: JSONObject

    /// The built-in defaults.
    public static let defaults: JSONObject = [
        "database": ["type": "local"],
        "storage": ["type": "local"],
        "saveWorkspaceFrequency": "1m",
        "saveMetricsFrequency": "1m",
        "experimentLifetime": nil,
        "sleep_time": 1,
        "worker_timeout": 30,
        "verbose": "info",
        "resources_needed": ["cpus": 1, "ram": "1g", "hdd": "1g", "gpus": 0],
        "env": [:],
    ]

    /// A config from an already-parsed tree (null counts as empty); no `$VAR` expansion.
    public init(json value: JSONValue) throws {
        let object: JSONObject
        switch value {
        case .null: object = JSONObject()
        case .object(let o): object = o
        default: throw ModelError(.invalidField, "a StudioML config must be a mapping of settings, not \(value.typeDescription)")
        }
        for section in ["database", "storage", "env", "resources_needed"] {
            if let v = object[section], !v.isNull, v.objectValue == nil {
                throw ModelError(.invalidField, "config field '\(section)' must be a mapping, not \(v.typeDescription)")
            }
        }
        source = object
        var defaults = Self.defaults
        if !object.contains("storage") || object["storage"]!.isNull, let database = object["database"]?.objectValue {
            defaults["storage"] = .object(database.merged(over: Self.defaults["database"]!.objectValue!))
        }
        var cleaned = object
        // A section written as `storage:` with nothing under it (YAML null) means "use the defaults".
        for section in ["database", "storage", "env", "resources_needed"] where cleaned[section]?.isNull == true {
            cleaned.removeValue(forKey: section)
        }
        json = cleaned.merged(over: defaults)
    }

    /// Parses config text (YAML, or JSON when `format` says so or the text starts with `{`), expanding
    /// `$VAR` and `${VAR}` in string values from `environment`.
    public init(text: String, format: ConfigFormat = .auto, environment: [String: String]) throws {
        let isJSON: Bool
        switch format {
        case .json: isJSON = true
        case .yaml: isJSON = false
        case .auto: isJSON = text.trimmedWhitespace.hasPrefix("{")
        }
        let tree = isJSON ? try JSONValue(parsing: text) : try YAMLParser.parse(text)
        try self.init(json: Self.expandVariables(in: tree, environment: environment))
    }

    /// Loads a config file (`.json` is JSON, anything else YAML unless it starts with `{`).
    public static func load(path: String, environment: [String: String]) throws -> StudioConfig {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ModelError(.unreadableFile, "cannot read the config file \(path): \(error)")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw ModelError(.unreadableFile, "the config file \(path) is not UTF-8 text")
        }
        do {
            return try StudioConfig(text: text, format: path.lowercased().hasSuffix(".json") ? .json : .auto,
                                    environment: environment)
        } catch var error as ModelError {
            error.message = "config file \(path): " + error.message
            throw error
        }
    }

    /// Expands `$NAME` and `${NAME}` in every string value (not keys), as Python's
    /// `os.path.expandvars`: names are `[A-Za-z0-9_]+`, and unknown variables stay as written.
    public static func expandVariables(in value: JSONValue, environment: [String: String]) -> JSONValue {
        switch value {
        case .string(let s): return .string(expandVariables(in: s, environment: environment))
        case .array(let items): return .array(items.map { expandVariables(in: $0, environment: environment) })
        case .object(let object):
            return .object(JSONObject(object.map { ($0.key, expandVariables(in: $0.value, environment: environment)) }))
        default: return value
        }
    }

    /// Expands `$NAME` and `${NAME}` in one string, as Python's `os.path.expandvars`.
    public static func expandVariables(in text: String, environment: [String: String]) -> String {
        guard text.contains("$") else { return text }
        let chars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        func isWord(_ c: Unicode.Scalar) -> Bool {
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_")
        }
        while i < chars.count {
            guard chars[i] == "$", i + 1 < chars.count else { out.append(chars[i]); i += 1; continue }
            var name = ""
            var end = i + 1
            if chars[i + 1] == "{" {
                guard let close = chars[(i + 2)...].firstIndex(of: "}") else { out.append(chars[i]); i += 1; continue }
                name = String(String.UnicodeScalarView(chars[(i + 2)..<close]))
                end = close + 1
            } else {
                while end < chars.count, isWord(chars[end]) { end += 1 }
                guard end > i + 1 else { out.append(chars[i]); i += 1; continue }
                name = String(String.UnicodeScalarView(chars[(i + 1)..<end]))
            }
            if let replacement = environment[name] {
                out.append(contentsOf: replacement.unicodeScalars)
            } else {
                out.append(contentsOf: chars[i..<end])
            }
            i = end
        }
        return String(out)
    }

    // MARK: Typed accessors

    /// Where experiment records are kept.
    public var database: StoreConfig { StoreConfig(json: json["database"]?.objectValue ?? ["type": "local"]) }
    /// Where artifacts are kept.
    public var storage: StoreConfig { StoreConfig(json: json["storage"]?.objectValue ?? ["type": "local"]) }

    /// `env`: variables exported into every experiment; numbers and booleans become text, null "".
    public var env: [String: String] {
        var result: [String: String] = [:]
        for (name, value) in json["env"]?.objectValue ?? [:] {
            result[name] = value.scalarText ?? value.serialized(.compact)
        }
        return result
    }

    /// `experimentLifetime`: how long after `time_added` an experiment may still start; nil for forever.
    public var experimentLifetime: StudioDuration? {
        get throws { try StudioDuration.parse(json["experimentLifetime"], field: "experimentLifetime") }
    }

    /// `saveWorkspaceFrequency`: how often the worker checkpoints mutable artifacts.
    public var saveWorkspaceFrequency: StudioDuration {
        get throws { try StudioDuration.parse(json["saveWorkspaceFrequency"], field: "saveWorkspaceFrequency") ?? StudioDuration(seconds: 60) }
    }

    /// `saveMetricsFrequency`: how often the worker appends a metrics line.
    public var saveMetricsFrequency: StudioDuration {
        get throws { try StudioDuration.parse(json["saveMetricsFrequency"], field: "saveMetricsFrequency") ?? StudioDuration(seconds: 60) }
    }

    /// `sleep_time` in seconds: the pause between polls when resources are short.
    public var sleepTime: Double {
        get throws { try Self.seconds(json["sleep_time"], field: "sleep_time") ?? 1 }
    }

    /// `worker_timeout` in seconds.
    public var workerTimeout: Double {
        get throws { try Self.seconds(json["worker_timeout"], field: "worker_timeout") ?? 30 }
    }

    /// `resources_needed`: the defaults for experiments that do not say.
    public var resourcesNeeded: ResourcesNeeded {
        ResourcesNeeded(json: json["resources_needed"]?.objectValue ?? [:], fieldName: "resources_needed")
    }

    /// `cloud.queue.sqs.credentials.aws`: the submitter's SQS credentials, opaque and secret.
    public var queueCredentials: JSONValue? {
        json["cloud"]?.value(at: ["queue", "sqs", "credentials", "aws"]).flatMap { $0.isNull ? nil : $0 }
    }

    /// `verbose` as written (`debug`, `info`, `warn`, `error`, `crit`, or a number).
    public var verbose: String { json["verbose"]?.scalarText ?? "info" }

    /// `verbose` as a Python logging level, as StudioML's `parse_verbosity` (debug 10 … crit 50;
    /// `True` and unknown words are info, 20).
    public var verbosityLevel: Int {
        let levels = ["debug": 10, "info": 20, "warn": 30, "warning": 30, "error": 40, "crit": 50, "critical": 50]
        if let i = json["verbose"]?.int64Value { return Int(clamping: i) }
        return levels[verbose.lowercased()] ?? Int(verbose) ?? 20
    }

    private static func seconds(_ value: JSONValue?, field: String) throws -> Double? {
        guard let value, !value.isNull else { return nil }
        if let d = value.doubleValue, d >= 0 { return d }
        if let s = value.stringValue, let d = Double(s.trimmedWhitespace), d >= 0 { return d }
        throw ModelError(.invalidField, "\(field) must be a number of seconds, not \(value.description)")
    }
}

/// The syntax of a config text.
public enum ConfigFormat: Sendable {
    case auto, yaml, json
}
