#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A StudioML duration such as `"25s"`, `"5h"`, `"48h2m10s"` or `"1d"`, in whole seconds.
///
/// StudioML's own regex silently read anything it did not understand (`"1d"`, `"90"`, `"5x"`) as
/// zero; this one reads days and bare numbers of seconds and rejects the rest.
public struct StudioDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The length in seconds (never negative).
    public var seconds: Int64

    /// A duration of `seconds` seconds.
    public init(seconds: Int64) { self.seconds = seconds }

    /// Parses `48h2m10s`-style text (units d, h, m, s, each at most once, in that order, any case),
    /// or a bare number of seconds (fractions are truncated).
    public init(parsing text: String) throws {
        let trimmed = text.trimmedWhitespace.lowercased()
        guard !trimmed.isEmpty else { throw Self.invalid(text) }
        if let bare = Double(trimmed), bare.isFinite, trimmed.allSatisfy({ $0.isNumber || $0 == "." }) {
            guard bare < 9.2e18 else { throw Self.invalid(text) }
            self.seconds = Int64(bare)
            return
        }
        let units: [(Character, Int64)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
        var total: Int64 = 0
        var nextUnit = 0
        var number = ""
        for c in trimmed where c != " " {
            if c.isASCII && c.isNumber {
                number.append(c)
                continue
            }
            guard !number.isEmpty, let value = Int64(number),
                  let unitIndex = units.firstIndex(where: { $0.0 == c }), unitIndex >= nextUnit
            else { throw Self.invalid(text) }
            let (product, overflow1) = value.multipliedReportingOverflow(by: units[unitIndex].1)
            let (sum, overflow2) = total.addingReportingOverflow(product)
            guard !overflow1, !overflow2 else { throw Self.invalid(text) }
            total = sum
            nextUnit = unitIndex + 1
            number = ""
        }
        guard number.isEmpty else { throw Self.invalid(text) }
        self.seconds = total
    }

    /// Reads a config or record value: null, a missing value or empty text is no duration; a number is
    /// seconds; text is parsed as above.
    public static func parse(_ value: JSONValue?, field: String) throws -> StudioDuration? {
        guard let value else { return nil }
        switch value {
        case .null: return nil
        case .int(let i):
            guard i >= 0 else { throw invalid(String(i), field: field) }
            return StudioDuration(seconds: i)
        case .double(let d):
            guard d.isFinite, d >= 0, d < 9.2e18 else { throw invalid(JSONWriter.pythonFloatRepr(d), field: field) }
            return StudioDuration(seconds: Int64(d))
        case .string(let s):
            if s.trimmedWhitespace.isEmpty { return nil }
            do { return try StudioDuration(parsing: s) } catch { throw invalid(s, field: field) }
        default:
            throw ModelError(.invalidDuration, "\(field) must be a duration such as 30s, 5m, 2h or 48h2m10s, not \(value.typeDescription)")
        }
    }

    /// The duration in whole minutes, rounded down: how StudioML schedules its periodic jobs.
    public var wholeMinutes: Int64 { seconds / 60 }

    /// The same length as a Swift `Duration`.
    public var duration: Duration { .seconds(seconds) }

    /// Canonical text such as `1d2h3m4s`, `0s` for zero.
    public var description: String {
        if seconds == 0 { return "0s" }
        var rest = seconds
        var text = ""
        for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text
    }

    public static func < (lhs: StudioDuration, rhs: StudioDuration) -> Bool { lhs.seconds < rhs.seconds }

    private static func invalid(_ text: String, field: String? = nil) -> ModelError {
        let prefix = field.map { "\($0): " } ?? ""
        return ModelError(.invalidDuration,
                          "\(prefix)invalid duration '\(text)'; use seconds (90) or units d, h, m, s in that order, such as 30s, 5m, 2h or 48h2m10s")
    }
}

/// Byte sizes as StudioML's `resources_needed` writes them: `"3g"`, `"512m"`, `"1.5G"`, `"100k"`,
/// `"8GiB"`; a bare number is bytes. Multiples are binary (k = 1024), as StudioML's `memstr2int`.
public enum ByteSize {
    /// The number of bytes in `text`, truncated to a whole byte.
    public static func parse(_ text: String) throws -> Int64 {
        let trimmed = text.trimmedWhitespace
        var unitStart = trimmed.endIndex
        while unitStart > trimmed.startIndex, trimmed[trimmed.index(before: unitStart)].isLetter {
            unitStart = trimmed.index(before: unitStart)
        }
        let numberText = trimmed[..<unitStart].trimmedWhitespace
        let unit = trimmed[unitStart...].lowercased()
        let factors: [String: Double] = [
            "": 1, "b": 1,
            "k": 1024, "kb": 1024, "kib": 1024,
            "m": 1_048_576, "mb": 1_048_576, "mib": 1_048_576,
            "g": 1_073_741_824, "gb": 1_073_741_824, "gib": 1_073_741_824,
            "t": 1_099_511_627_776, "tb": 1_099_511_627_776, "tib": 1_099_511_627_776,
        ]
        guard let factor = factors[unit], !numberText.isEmpty,
              numberText.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let number = Double(numberText), number.isFinite
        else { throw invalid(text) }
        let bytes = number * factor
        guard bytes < 9.2e18 else { throw invalid(text) }
        return Int64(bytes)
    }

    /// Reads a config or record value: null or missing is nil, an integer is bytes, text is parsed.
    public static func parse(_ value: JSONValue?, field: String) throws -> Int64? {
        guard let value else { return nil }
        switch value {
        case .null: return nil
        case .int(let i) where i >= 0: return i
        case .double(let d) where d.isFinite && d >= 0 && d < 9.2e18: return Int64(d)
        case .string(let s):
            do { return try parse(s) } catch { throw invalid(s, field: field) }
        default:
            throw ModelError(.invalidSize, "\(field) must be a size such as 512m or 3g, not \(value.description)")
        }
    }

    private static func invalid(_ text: String, field: String? = nil) -> ModelError {
        let prefix = field.map { "\($0): " } ?? ""
        return ModelError(.invalidSize, "\(prefix)invalid size '\(text)'; use bytes (1048576) or a number with k, m, g or t, such as 512m or 1.5g")
    }
}
