/// A parsed INI document as the AWS shared files use it: `[section]` headers, `key = value` lines,
/// `#`/`;` comments, and indented sub-keys (`s3 =` then `  addressing_style = path` → `s3.addressing_style`).
struct INIFile: Sendable, Equatable {
    /// Section name → lower-cased key → value, in the file's own spelling of section names.
    var sections: [String: [String: String]] = [:]

    /// Parses `text`; `path` only names the file in errors. Values are never quoted in errors.
    static func parse(_ text: String, path: String) throws -> INIFile {
        var file = INIFile()
        var section: String?
        var parentKey: String? // the key whose empty value opened an indented sub-block
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            let isIndented = rawLine.first == " " || rawLine.first == "\t"
            let line = Encoding.trimmed(rawLine)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else {
                    throw CredentialsError(.malformedFile, "\(path) line \(lineNumber): a section header must end with ']'")
                }
                let name = Encoding.trimmed(line.dropFirst().dropLast())
                section = name
                parentKey = nil
                if file.sections[name] == nil { file.sections[name] = [:] }
                continue
            }
            guard let current = section else {
                throw CredentialsError(.malformedFile, "\(path) line \(lineNumber): a setting appears before any [section]")
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw CredentialsError(.malformedFile, "\(path) line \(lineNumber): expected 'key = value'")
            }
            let key = Encoding.trimmed(line[..<equals]).lowercased()
            let value = stripInlineComment(Encoding.trimmed(line[line.index(after: equals)...]))
            guard !key.isEmpty else {
                throw CredentialsError(.malformedFile, "\(path) line \(lineNumber): a setting has no name before '='")
            }
            if isIndented, let parentKey {
                file.sections[current]![parentKey + "." + key] = value
            } else {
                file.sections[current]![key] = value
                parentKey = value.isEmpty ? key : nil
            }
        }
        return file
    }

    /// Drops ` # comment` / ` ; comment` (the marker must follow whitespace, so values may contain `#`).
    private static func stripInlineComment(_ value: String) -> String {
        var previous: Character = " "
        var index = value.startIndex
        while index < value.endIndex {
            let character = value[index]
            if (character == "#" || character == ";") && (previous == " " || previous == "\t") && index != value.startIndex {
                return Encoding.trimmed(value[..<index])
            }
            previous = character
            index = value.index(after: index)
        }
        return value
    }
}
