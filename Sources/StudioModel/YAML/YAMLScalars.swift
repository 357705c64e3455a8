/// PyYAML's (YAML 1.1) implicit typing of plain scalars and the few tags configs use.
enum YAMLScalars {
    private static let nulls: Set<String> = ["", "~", "null", "Null", "NULL"]
    private static let trues: Set<String> = ["yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]
    private static let falses: Set<String> = ["no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"]

    /// The value of a plain (unquoted) scalar: null, bool, int, float, or else the string.
    static func resolvePlain(_ text: String) -> JSONValue {
        if nulls.contains(text) { return .null }
        if let b = bool(text) { return .bool(b) }
        if let i = int(text) { return i }
        if let d = float(text) { return .double(d) }
        return .string(text)
    }

    /// YAML 1.1 booleans in the three spellings PyYAML accepts (`yes`, `Yes`, `YES`, …).
    static func bool(_ text: String) -> Bool? {
        if trues.contains(text) { return true }
        if falses.contains(text) { return false }
        return nil
    }

    static func isNull(_ text: String) -> Bool { nulls.contains(text) }

    /// YAML 1.1 integers: decimal, `0b…`, `0x…`, `0…` octal, and `1:30` sexagesimal; `_` separators.
    /// Values beyond Int64 become floats.
    static func int(_ text: String) -> JSONValue? {
        var body = Substring(text)
        var negative = false
        if let first = body.first, first == "-" || first == "+" {
            negative = first == "-"
            body = body.dropFirst()
        }
        guard let first = body.first else { return nil }
        func only(_ s: Substring, _ allowed: String) -> Bool { s.allSatisfy { allowed.contains($0) } }
        let digits: String
        let radix: Int
        if body.hasPrefix("0b") {
            let rest = body.dropFirst(2)
            guard !rest.isEmpty, only(rest, "01_") else { return nil }
            digits = String(rest); radix = 2
        } else if body.hasPrefix("0x") {
            let rest = body.dropFirst(2)
            guard !rest.isEmpty, only(rest, "0123456789abcdefABCDEF_") else { return nil }
            digits = String(rest); radix = 16
        } else if body == "0" {
            return .int(0)
        } else if first == "0" {
            let rest = body.dropFirst()
            guard only(rest, "01234567_") else { return nil }
            digits = String(rest); radix = 8
        } else if first.isASCII, first.isNumber {
            if only(body, "0123456789_") {
                digits = String(body); radix = 10
            } else if body.contains(":") {
                let parts = body.split(separator: ":", omittingEmptySubsequences: false)
                guard only(parts[0], "0123456789_"), parts.dropFirst().allSatisfy(isSexagesimalPart) else { return nil }
                var value: Double = 0
                for part in parts { value = value * 60 + Double(part.filter { $0 != "_" })! }
                if let i = Int64(exactly: value) { return .int(negative ? -i : i) }
                return .double(negative ? -value : value)
            } else {
                return nil
            }
        } else {
            return nil
        }
        let clean = digits.filter { $0 != "_" }
        if clean.isEmpty { return .int(0) }
        if let magnitude = UInt64(clean, radix: radix) {
            if negative, magnitude <= UInt64(Int64.max) + 1 { return .int(magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)) }
            if !negative, magnitude <= UInt64(Int64.max) { return .int(Int64(magnitude)) }
        }
        var value: Double = 0
        for c in clean { value = value * Double(radix) + Double(c.hexDigitValue ?? 0) }
        return .double(negative ? -value : value)
    }

    /// One `:`-separated part after the first in a sexagesimal number: `[0-5]?[0-9]`.
    private static func isSexagesimalPart(_ part: Substring) -> Bool {
        let chars = Array(part)
        switch chars.count {
        case 1: return chars[0].isASCII && chars[0].isNumber
        case 2: return ("0"..."5").contains(chars[0]) && chars[1].isASCII && chars[1].isNumber
        default: return false
        }
    }

    /// YAML 1.1 floats as PyYAML matches them: `1.5`, `1.`, `.5`, `1.0e+5` (the exponent needs a
    /// sign and the mantissa a dot, so `1e5` is a string), `1:30.5`, `.inf`, `-.inf`, `.nan`.
    static func float(_ text: String) -> Double? {
        var body = Substring(text)
        var negative = false
        var signed = false
        if let first = body.first, first == "-" || first == "+" {
            negative = first == "-"
            signed = true
            body = body.dropFirst()
        }
        if [".inf", ".Inf", ".INF"].contains(body) { return negative ? -.infinity : .infinity }
        if !signed, [".nan", ".NaN", ".NAN"].contains(body) { return .nan }
        func isDigits(_ s: Substring) -> Bool { s.allSatisfy { $0 == "_" || ($0.isASCII && $0.isNumber) } }
        var mantissa = body
        var exponent = ""
        if let e = body.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            let exp = body[body.index(after: e)...]
            guard let sign = exp.first, sign == "+" || sign == "-", exp.count > 1,
                  exp.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            exponent = "e" + exp
            mantissa = body[..<e]
        }
        let pieces = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard pieces.count == 2 else { return nil }
        let intPart = pieces[0]
        let fracPart = pieces[1]
        guard isDigits(fracPart) else { return nil }
        let fraction = fracPart.filter { $0 != "_" }
        if intPart.contains(":") {
            let parts = intPart.split(separator: ":", omittingEmptySubsequences: false)
            guard exponent.isEmpty, let head = parts.first?.first, head.isASCII, head.isNumber, isDigits(parts[0]),
                  parts.dropFirst().allSatisfy(isSexagesimalPart) else { return nil }
            var value: Double = 0
            for part in parts { value = value * 60 + Double(part.filter { $0 != "_" })! }
            value += Double("0." + (fraction.isEmpty ? "0" : fraction))!
            return negative ? -value : value
        }
        if intPart.isEmpty {
            guard !signed, !fracPart.isEmpty else { return nil }
        } else {
            guard let head = intPart.first, head.isASCII, head.isNumber, isDigits(intPart) else { return nil }
        }
        let integer = intPart.filter { $0 != "_" }
        guard let value = Double((integer.isEmpty ? "0" : integer) + "." + (fraction.isEmpty ? "0" : fraction) + exponent)
        else { return nil }
        return negative ? -value : value
    }

    /// A mapping key as text, as `json.dumps` writes non-string keys: ints in decimal, floats as
    /// `repr`, `true`/`false`, `null`.
    static func keyText(_ value: JSONValue) -> String? {
        switch value {
        case .string(let s): return s
        case .null: return "null"
        case .array, .object: return nil
        default: return value.scalarText
        }
    }
}
