#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `resources_needed` (`{"gpus":0,"cpus":1,"ram":"1g","hdd":"1g"}`, plus `gpuMem`, `gpuCount`) as a
/// view over the raw values, which StudioML keeps as given: an int or a string such as `"3g"`.
public struct ResourcesNeeded: Sendable, Equatable {
    /// The object as stored.
    public var json: JSONObject
    /// The field name used in error messages (`resources_needed` or `experiment.resources_needed`).
    var fieldName: String

    /// Wraps a `resources_needed` object.
    public init(json: JSONObject, fieldName: String = "resources_needed") {
        self.json = json
        self.fieldName = fieldName
    }

    /// Number of CPUs, when given.
    public var cpus: Int? { get throws { try count("cpus") } }
    /// Number of GPUs, when given (0 means none).
    public var gpus: Int? { get throws { try count("gpus") } }
    /// `gpuCount`, when given.
    public var gpuCount: Int? { get throws { try count("gpuCount") } }
    /// Memory in bytes, when given.
    public var ramBytes: Int64? { get throws { try ByteSize.parse(json["ram"], field: "\(fieldName).ram") } }
    /// Disk in bytes, when given.
    public var hddBytes: Int64? { get throws { try ByteSize.parse(json["hdd"], field: "\(fieldName).hdd") } }
    /// GPU memory in bytes, when given.
    public var gpuMemBytes: Int64? { get throws { try ByteSize.parse(json["gpuMem"], field: "\(fieldName).gpuMem") } }

    private func count(_ name: String) throws -> Int? {
        guard let value = json[name] else { return nil }
        switch value {
        case .null: return nil
        case .int(let i) where i >= 0 && i <= Int64(Int32.max): return Int(i)
        case .string(let s) where Int(s.trimmedWhitespace).map({ $0 >= 0 }) == true: return Int(s.trimmedWhitespace)
        default:
            if let i = value.int64Value, i >= 0, i <= Int64(Int32.max) { return Int(i) }
            throw ModelError(.invalidField, "\(fieldName).\(name) must be a whole number of at least 0, not \(value.description)")
        }
    }
}
