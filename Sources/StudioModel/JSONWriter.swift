#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How to write JSON, mirroring the `json.dumps` arguments StudioML relies on.
public struct JSONWriteOptions: Sendable, Equatable {
    /// Written between array elements and object members (Python default `", "`).
    public var itemSeparator: String
    /// Written between an object key and its value (Python default `": "`).
    public var keySeparator: String
    /// Escape every non-ASCII character as `\uXXXX` (Python's default `ensure_ascii=True`).
    public var ensureASCII: Bool
    /// Pretty-print with this many spaces per level; nil writes one line.
    public var indent: Int?

    public init(itemSeparator: String = ", ", keySeparator: String = ": ", ensureASCII: Bool = true, indent: Int? = nil) {
        self.itemSeparator = itemSeparator
        self.keySeparator = keySeparator
        self.ensureASCII = ensureASCII
        self.indent = indent
    }

    /// `json.dumps(value)`: separators `", "` and `": "`, ASCII only. StudioML's queue message bodies.
    public static let pythonDefault = JSONWriteOptions()
    /// `json.dumps(value, separators=(',', ':'))`, ASCII only.
    public static let compact = JSONWriteOptions(itemSeparator: ",", keySeparator: ":")
    /// `json.dumps(value, indent=2)`: for people to read.
    public static let pretty = JSONWriteOptions(itemSeparator: ",", keySeparator: ": ", indent: 2)
}

extension JSONValue {
    /// The JSON text of this value, written as Python's `json.dumps` would with these options.
    public func serialized(_ options: JSONWriteOptions = .pythonDefault) -> String {
        var out = ""
        JSONWriter(options: options).write(self, into: &out, level: 0)
        return out
    }

    /// The UTF-8 bytes of `serialized(options)`.
    public func jsonData(_ options: JSONWriteOptions = .pythonDefault) -> Data {
        Data(serialized(options).utf8)
    }
}

/// Writes JSON text byte-compatible with CPython's `json` encoder.
struct JSONWriter {
    let options: JSONWriteOptions

    func write(_ value: JSONValue, into out: inout String, level: Int) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += JSONWriter.pythonFloatRepr(d)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (n, item) in items.enumerated() {
                if n > 0 { out += options.itemSeparator }
                newline(into: &out, level: level + 1)
                write(item, into: &out, level: level + 1)
            }
            newline(into: &out, level: level)
            out += "]"
        case .object(let object):
            guard !object.isEmpty else { out += "{}"; return }
            out += "{"
            for (n, member) in object.enumerated() {
                if n > 0 { out += options.itemSeparator }
                newline(into: &out, level: level + 1)
                writeString(member.key, into: &out)
                out += options.keySeparator
                write(member.value, into: &out, level: level + 1)
            }
            newline(into: &out, level: level)
            out += "}"
        }
    }

    private func newline(into out: inout String, level: Int) {
        guard let indent = options.indent else { return }
        out += "\n" + String(repeating: " ", count: indent * level)
    }

    private func writeString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                let v = scalar.value
                if v < 0x20 || (options.ensureASCII && v >= 0x7F) {
                    if v >= 0x10000 {
                        // Python writes astral characters as a UTF-16 surrogate pair.
                        let u = v - 0x10000
                        out += JSONWriter.unicodeEscape(0xD800 + (u >> 10))
                        out += JSONWriter.unicodeEscape(0xDC00 + (u & 0x3FF))
                    } else {
                        out += JSONWriter.unicodeEscape(v)
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    private static func unicodeEscape(_ v: UInt32) -> String {
        let hex = String(v, radix: 16)
        return "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// Python's `repr(float)`: the shortest digits that round-trip (as Swift's `description` finds
    /// them), in fixed notation when the decimal exponent is in [-4, 16), otherwise `1e+16` style.
    static func pythonFloatRepr(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        var text = Substring(d.description)
        let negative = text.hasPrefix("-")
        if negative { text = text.dropFirst() }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(String(text[text.index(after: e)...].filter { $0 != "+" })) ?? 0
            text = text[..<e]
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let intPart = parts[0]
        let fracPart = parts.count > 1 ? parts[1] : ""
        var digits = Array(intPart + fracPart)
        var pointPosition = intPart.count + exponent  // digits[0..<pointPosition] are the integer part
        while let first = digits.first, first == "0" { digits.removeFirst(); pointPosition -= 1 }
        while let last = digits.last, last == "0" { digits.removeLast() }
        let sign = negative ? "-" : ""
        if digits.isEmpty { return sign + "0.0" }
        if pointPosition > -4 && pointPosition <= 16 {
            if pointPosition <= 0 {
                return sign + "0." + String(repeating: "0", count: -pointPosition) + String(digits)
            }
            if pointPosition >= digits.count {
                return sign + String(digits) + String(repeating: "0", count: pointPosition - digits.count) + ".0"
            }
            return sign + String(digits[..<pointPosition]) + "." + String(digits[pointPosition...])
        }
        let e = pointPosition - 1
        let mantissa = digits.count > 1 ? String(digits[0]) + "." + String(digits[1...]) : String(digits[0])
        let magnitude = String(abs(e))
        return sign + mantissa + "e" + (e < 0 ? "-" : "+") + (magnitude.count < 2 ? "0" : "") + magnitude
    }
}
