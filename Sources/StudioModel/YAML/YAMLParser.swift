/// A YAML reader for StudioML configs with PyYAML (YAML 1.1) semantics: block and flow collections,
/// plain, quoted and block scalars, comments, one document, anchors, aliases and `<<` merge keys.
/// Anything else (complex keys, several documents, unknown tags) is refused with its line number.
///
/// Every node parser leaves the position at the start of the next line with content (its column set
/// to that line's indentation), or at the end of the text.
struct YAMLParser {
    /// Node properties: `&anchor` and `!tag`, with the line they were written on.
    struct Properties {
        var anchor: String?
        var tag: String?
        var line = 0
        /// The column of the first property on `line`.
        var column: Int?
        var isEmpty: Bool { anchor == nil && tag == nil }
    }

    let lines: [[Unicode.Scalar]]
    let endsWithNewline: Bool
    var line = 0
    var col = 0
    var anchors: [String: JSONValue] = [:]
    /// Collections open around the current position: bounded so that `[[[[…` cannot overflow the stack.
    var depth = 0
    /// Configs nest a few levels; 128 keeps a debug build far from the end of a thread's stack.
    static let maximumDepth = 128
    /// Nodes that aliases may still copy in: bounded so that nested aliases ("billion laughs") cannot
    /// make a tree whose walk never ends.
    var aliasBudget = 1_000_000

    /// Parses one YAML document into JSON values; an empty document is null.
    static func parse(_ text: String) throws -> JSONValue {
        var parser = YAMLParser(text: text)
        return try parser.parseDocument()
    }

    init(text: String) {
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        var lines: [[Unicode.Scalar]] = []
        var currentLine: [Unicode.Scalar] = []
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if c == "\n" || c == "\r" {
                lines.append(currentLine)
                currentLine = []
                if c == "\r", i + 1 < scalars.count, scalars[i + 1] == "\n" { i += 1 }
            } else {
                currentLine.append(c)
            }
            i += 1
        }
        endsWithNewline = currentLine.isEmpty && !lines.isEmpty
        if !currentLine.isEmpty { lines.append(currentLine) }
        self.lines = lines
    }

    // MARK: Position helpers

    func error(_ message: String, line errorLine: Int? = nil) -> ModelError {
        ModelError(.invalidYAML, "invalid YAML: \(message)", line: (errorLine ?? line) + 1)
    }

    func unsupported(_ message: String, line errorLine: Int? = nil) -> ModelError {
        ModelError(.unsupportedYAML, "unsupported YAML: \(message)", line: (errorLine ?? line) + 1)
    }

    var atEOF: Bool { line >= lines.count }

    func char(_ l: Int, _ c: Int) -> Unicode.Scalar? {
        guard l < lines.count, c >= 0, c < lines[l].count else { return nil }
        return lines[l][c]
    }

    var cur: Unicode.Scalar? { char(line, col) }
    func peek(_ offset: Int) -> Unicode.Scalar? { char(line, col + offset) }

    static func isBlank(_ c: Unicode.Scalar?) -> Bool { c == nil || c == " " || c == "\t" }

    /// Whether `l` is a `---` or `...` marker line.
    func isDocumentMarker(_ l: Int) -> Bool { isMarker(l, "-") || isMarker(l, ".") }

    func isMarker(_ l: Int, _ c: Unicode.Scalar) -> Bool {
        guard l < lines.count, lines[l].count >= 3, lines[l][0] == c, lines[l][1] == c, lines[l][2] == c else { return false }
        return Self.isBlank(char(l, 3))
    }

    /// End of the current block: end of text or a document marker.
    var atDocumentEnd: Bool { atEOF || isDocumentMarker(line) }

    /// The indentation of line `l`, or nil for a blank or comment-only line.
    func indentation(_ l: Int) throws -> Int? {
        var i = 0
        while char(l, i) == " " { i += 1 }
        var j = i
        while char(l, j) == " " || char(l, j) == "\t" { j += 1 }
        guard let c = char(l, j), c != "#" else { return nil }
        if j != i { throw error("tab characters must not be used for indentation; use spaces", line: l) }
        return i
    }

    mutating func skipInlineSpaces() {
        while cur == " " || cur == "\t" { col += 1 }
    }

    /// Whether the rest of the current line is empty or a comment.
    var restOfLineIsEmpty: Bool {
        var i = col
        while char(line, i) == " " || char(line, i) == "\t" { i += 1 }
        guard let c = char(line, i) else { return true }
        return c == "#" && (i == 0 || Self.isBlank(char(line, i - 1)))
    }

    /// Moves to the next line with content.
    mutating func advanceLine() throws {
        line += 1
        while line < lines.count {
            if let indent = try indentation(line) {
                col = indent
                return
            }
            line += 1
        }
        col = 0
    }

    /// Requires the rest of the line to be empty or a comment, then moves to the next content line.
    mutating func finishLine() throws {
        guard restOfLineIsEmpty else {
            skipInlineSpaces()
            if cur == ":" { throw error("mapping values are not allowed here (a ':' followed by a space inside a value; quote the value)") }
            throw error("unexpected text '\(String(String.UnicodeScalarView(lines[line][col...])))' after a value")
        }
        try advanceLine()
    }

    // MARK: Document

    mutating func parseDocument() throws -> JSONValue {
        line = -1
        try advanceLine()
        while !atEOF, col == 0, cur == "%" {
            let directive = String(String.UnicodeScalarView(lines[line]))
            guard directive.hasPrefix("%YAML") else { throw unsupported("the directive '\(directive)'") }
            try advanceLine()
        }
        var root: JSONValue = .null
        if atEOF {
            return .null
        } else if isMarker(line, "-") {
            col = 3
            root = try parseNode(parentIndent: -1, indentlessSequence: false, inlineCollections: false)
        } else if !isMarker(line, ".") {
            root = try parseNode(parentIndent: -1, indentlessSequence: false, inlineCollections: true)
        }
        if atEOF { return root }
        var endedExplicitly = false
        if isMarker(line, ".") {
            col = 3
            try finishLine()
            if atEOF { return root }
            endedExplicitly = true
        }
        if endedExplicitly || isMarker(line, "-") || isMarker(line, ".") {
            throw unsupported("multiple documents in one file (a second '---' or content after '...'); keep one document")
        }
        throw error("unexpected content at column \(col + 1); check the indentation")
    }

    // MARK: Block structure

    /// Parses the node at the current position (after `key:`, `- `, `---`, or at the start of a
    /// line): properties, then the node on this line or, when the line has nothing more, on the
    /// following more-indented lines.
    mutating func parseNode(parentIndent: Int, indentlessSequence: Bool, inlineCollections: Bool,
                            inherited: Properties = Properties()) throws -> JSONValue
    {
        skipInlineSpaces()
        var props = inherited
        try parseProperties(into: &props)
        skipInlineSpaces()
        if restOfLineIsEmpty {
            try advanceLine()
            if !atDocumentEnd, col > parentIndent {
                return try parseNode(parentIndent: parentIndent, indentlessSequence: false, inlineCollections: true,
                                     inherited: props)
            }
            if !atDocumentEnd, indentlessSequence, col == parentIndent, cur == "-", Self.isBlank(peek(1)) {
                return try register(props, try checkCollectionTag(props, try parseBlockSequence(column: col)))
            }
            return try register(props, try resolveScalar("", plain: true, props: props))
        }
        return try parseBlockNode(parentIndent: parentIndent, props: props, inlineCollections: inlineCollections)
    }

    /// Parses a node that starts with content at the current position.
    mutating func parseBlockNode(parentIndent: Int, props: Properties, inlineCollections: Bool) throws -> JSONValue {
        guard let c = cur else { throw error("expected a value") }
        let startLine = line
        switch c {
        case "-" where Self.isBlank(peek(1)):
            guard inlineCollections else {
                throw error("a block sequence cannot start on the same line as its key; start it on the next line")
            }
            return try register(props, try checkCollectionTag(props, try parseBlockSequence(column: col)))
        case "?" where Self.isBlank(peek(1)):
            throw unsupported("complex mapping keys ('? ')")
        case "[", "{":
            let value = try parseFlowCollection()
            skipInlineSpaces()
            if cur == ":" { throw unsupported("a flow collection used as a mapping key") }
            try finishLine()
            return try register(props, try checkCollectionTag(props, value))
        case "|", ">":
            let text = try parseBlockScalar(parentIndent: parentIndent)
            return try register(props, try resolveScalar(text, plain: false, props: props))
        case "*":
            guard props.isEmpty else { throw error("an alias cannot have an anchor or a tag") }
            let value = try parseAlias()
            skipInlineSpaces()
            if cur == ":" { throw unsupported("an alias used as a mapping key") }
            try finishLine()
            return value
        case "@", "`":
            throw error("'\(c)' is reserved and cannot start a plain value; quote the value")
        case ",", "]", "}", "%":
            throw error("unexpected '\(c)'; quote the value if it is text")
        default:
            if isMappingKeyHere() {
                guard inlineCollections else {
                    throw error("mapping values are not allowed here; put the nested mapping on its own indented lines")
                }
                // Properties written on the same line as the first key belong to that key.
                let keyProps = props.line == startLine ? props : Properties()
                let mapping = try parseBlockMapping(column: props.line == startLine ? props.column ?? col : col,
                                                    firstKeyProps: keyProps)
                return props.line == startLine ? mapping : try register(props, try checkCollectionTag(props, mapping))
            }
            if c == "\"" || c == "'" {
                let text = try parseQuoted()
                try finishLine()
                return try register(props, try resolveScalar(text, plain: false, props: props))
            }
            let text = try parsePlainBlock(parentIndent: parentIndent)
            return try register(props, try resolveScalar(text, plain: true, props: props))
        }
    }

    /// Whether the current line, from the current column, is `key: …` (a plain or quoted key).
    func isMappingKeyHere() -> Bool {
        var i = col
        if let q = cur, q == "\"" || q == "'" {
            i += 1
            while let c = char(line, i) {
                if q == "'" && c == "'" {
                    if char(line, i + 1) == "'" { i += 2; continue }
                    break
                }
                if q == "\"" && c == "\\" { i += 2; continue }
                if q == "\"" && c == "\"" { break }
                i += 1
            }
            guard char(line, i) != nil else { return false }
            i += 1
            while char(line, i) == " " || char(line, i) == "\t" { i += 1 }
            return char(line, i) == ":" && Self.isBlank(char(line, i + 1))
        }
        while let c = char(line, i) {
            if c == ":" && Self.isBlank(char(line, i + 1)) { return true }
            if c == "#" && i > col && Self.isBlank(char(line, i - 1)) { return false }
            i += 1
        }
        return false
    }

    /// Enters one more collection level; pair with `depth -= 1`.
    mutating func enterCollection() throws {
        depth += 1
        if depth > Self.maximumDepth { throw unsupported("collections nested deeper than \(Self.maximumDepth) levels") }
    }

    mutating func parseBlockMapping(column: Int, firstKeyProps: Properties) throws -> JSONValue {
        try enterCollection()
        defer { depth -= 1 }
        var entries: [(key: String, value: JSONValue, isMerge: Bool)] = []
        var keyProps = firstKeyProps
        var first = true
        while true {
            if !first {
                keyProps = Properties()
                try parseProperties(into: &keyProps)
                skipInlineSpaces()
            }
            first = false
            guard let c = cur else { throw error("expected a mapping key") }
            if c == "?" && Self.isBlank(peek(1)) { throw unsupported("complex mapping keys ('? ')") }
            if c == "-" && Self.isBlank(peek(1)) { throw error("a sequence entry ('- ') where a 'key: value' entry was expected; check the indentation") }
            if c == "*" { throw unsupported("an alias used as a mapping key") }
            if c == "[" || c == "{" { throw unsupported("a flow collection used as a mapping key") }
            guard isMappingKeyHere() else {
                throw error("expected 'key: value' at this indentation (column \(col + 1)), found '\(String(String.UnicodeScalarView(lines[line][col...])))'")
            }
            let key: String
            var isMerge = false
            if c == "\"" || c == "'" {
                key = try parseQuoted()
                skipInlineSpaces()
            } else {
                let text = scanPlainLine(flow: false)
                isMerge = text == "<<" && keyProps.tag == nil
                guard let k = YAMLScalars.keyText(try resolveScalar(text, plain: true, props: keyProps)) else {
                    throw unsupported("this mapping key")
                }
                key = k
            }
            if let anchor = keyProps.anchor { anchors[anchor] = .string(key) }
            guard cur == ":" else { throw error("expected ':' after the key '\(key)'") }
            col += 1
            let value = try parseNode(parentIndent: column, indentlessSequence: true, inlineCollections: false)
            entries.append((key, value, isMerge))
            if atDocumentEnd || col < column { break }
            if col > column { throw error("unexpected indentation (column \(col + 1)); this mapping's keys are at column \(column + 1)") }
        }
        return try buildMapping(entries)
    }

    mutating func parseBlockSequence(column: Int) throws -> JSONValue {
        try enterCollection()
        defer { depth -= 1 }
        var items: [JSONValue] = []
        while true {
            col += 1
            items.append(try parseNode(parentIndent: column, indentlessSequence: false, inlineCollections: true))
            if atDocumentEnd || col < column { break }
            if col > column { throw error("unexpected indentation (column \(col + 1)); this list's entries are at column \(column + 1)") }
            guard cur == "-", Self.isBlank(peek(1)) else { break }
        }
        return .array(items)
    }

    /// Builds a mapping, applying `<<` merge keys as PyYAML does: merged pairs first (from a list,
    /// earlier mappings win), then the mapping's own pairs, which override them.
    func buildMapping(_ entries: [(key: String, value: JSONValue, isMerge: Bool)]) throws -> JSONValue {
        var merged: [(String, JSONValue)] = []
        var own: [(String, JSONValue)] = []
        for entry in entries {
            guard entry.isMerge else { own.append((entry.key, entry.value)); continue }
            switch entry.value {
            case .object(let o):
                merged += o.map { ($0.key, $0.value) }
            case .array(let items):
                for item in items.reversed() {
                    guard let o = item.objectValue else { throw error("a '<<' merge list must contain only mappings") }
                    merged += o.map { ($0.key, $0.value) }
                }
            default:
                throw error("a '<<' merge key needs a mapping or a list of mappings, not \(entry.value.typeDescription)")
            }
        }
        return .object(JSONObject(merged + own))
    }

    // MARK: Plain scalars

    /// Scans a plain scalar on the current line: up to `: `, ` #`, the end of the line, or (in flow
    /// context) a flow indicator. Leaves the column at the stop; returns the text without trailing spaces.
    mutating func scanPlainLine(flow: Bool) -> String {
        let start = col
        var i = col
        while let c = char(line, i) {
            let next = char(line, i + 1)
            if c == ":" && (Self.isBlank(next) || (flow && ",[]{}".unicodeScalars.contains(next!))) { break }
            if flow && ",[]{}".unicodeScalars.contains(c) { break }
            if c == "#" && i > start && Self.isBlank(char(line, i - 1)) { break }
            i += 1
        }
        var end = i
        while end > start, lines[line][end - 1] == " " || lines[line][end - 1] == "\t" { end -= 1 }
        col = i
        return String(String.UnicodeScalarView(lines[line][start..<end]))
    }

    /// A block-context plain scalar, folding continuation lines indented deeper than `parentIndent`.
    mutating func parsePlainBlock(parentIndent: Int) throws -> String {
        var text = scanPlainLine(flow: false)
        while true {
            if cur == ":" { throw error("mapping values are not allowed here (a ':' followed by a space inside a value; quote the value)") }
            if cur != nil { break }  // a comment ends the scalar
            var l = line + 1
            var blankLines = 0
            while l < lines.count, lines[l].allSatisfy({ $0 == " " || $0 == "\t" }) { blankLines += 1; l += 1 }
            guard l < lines.count, !isDocumentMarker(l), let indent = try indentation(l), indent > parentIndent else { break }
            line = l
            col = indent
            let more = scanPlainLine(flow: false)
            text += (blankLines == 0 ? " " : String(repeating: "\n", count: blankLines)) + more
        }
        try finishLine()
        return text
    }
}
