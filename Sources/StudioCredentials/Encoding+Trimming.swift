// Apart from Encoding.swift (which needs Crypto) so that INIFile can be fuzzed on its own (Fuzz/ini.swift).
extension Encoding {
    /// Strips leading and trailing spaces, tabs, CRs and LFs.
    static func trimmed<Text: StringProtocol>(_ text: Text) -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let first = text.firstIndex(where: { !isBlank($0) }),
              let last = text.lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(text[first...last])
    }
}
