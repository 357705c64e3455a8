/// Properties, tags, aliases, quoted scalars and block scalars.
extension YAMLParser {
    static let supportedTags: Set<String> = ["!", "!!str", "!!int", "!!float", "!!bool", "!!null", "!!map", "!!seq"]

    /// Reads `&anchor` and `!tag` properties (either order) at the current position.
    mutating func parseProperties(into props: inout Properties) throws {
        while let c = cur, c == "&" || c == "!" {
            let start = col
            col += 1
            if c == "!", cur == "<" {
                // A verbatim tag `!<…>` may contain flow indicators.
                while let d = cur, d != ">" { col += 1 }
                if cur == ">" { col += 1 }
            }
            while let d = cur, !Self.isBlank(d), !",[]{}".unicodeScalars.contains(d) { col += 1 }
            let text = String(String.UnicodeScalarView(lines[line][start..<col]))
            if c == "&" {
                guard text.count > 1 else { throw error("an anchor '&' needs a name") }
                guard props.anchor == nil else { throw error("a node can have only one anchor") }
                props.anchor = String(text.dropFirst())
            } else {
                guard props.tag == nil else { throw error("a node can have only one tag") }
                var tag = text
                if tag.hasPrefix("!<tag:yaml.org,2002:"), tag.hasSuffix(">") {
                    tag = "!!" + tag.dropFirst("!<tag:yaml.org,2002:".count).dropLast()
                }
                guard Self.supportedTags.contains(tag) else {
                    throw unsupported("the tag '\(text)' (only !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are understood)")
                }
                props.tag = tag
            }
            if props.line != line || props.column == nil { props.column = start }
            props.line = line
            skipInlineSpaces()
        }
    }

    /// Records the node under its anchor, if it has one, and returns it.
    mutating func register(_ props: Properties, _ value: JSONValue) throws -> JSONValue {
        if let anchor = props.anchor { anchors[anchor] = value }
        return value
    }

    /// Checks that a collection's tag, if any, fits it.
    func checkCollectionTag(_ props: Properties, _ value: JSONValue) throws -> JSONValue {
        guard let tag = props.tag, tag != "!" else { return value }
        switch (tag, value) {
        case ("!!map", .object), ("!!seq", .array): return value
        default: throw error("the tag \(tag) does not fit \(value.typeDescription)", line: props.line)
        }
    }

    /// The value of a scalar, typed by its tag, or by PyYAML's implicit rules when plain and untagged.
    func resolveScalar(_ text: String, plain: Bool, props: Properties) throws -> JSONValue {
        guard let tag = props.tag else { return plain ? YAMLScalars.resolvePlain(text) : .string(text) }
        let bad = error("'\(text)' is not a valid \(tag) value", line: props.line)
        switch tag {
        case "!": return plain ? YAMLScalars.resolvePlain(text) : .string(text)
        case "!!str": return .string(text)
        case "!!null": return .null
        case "!!bool":
            guard let b = YAMLScalars.bool(text) else { throw bad }
            return .bool(b)
        case "!!int":
            guard let i = YAMLScalars.int(text) else { throw bad }
            return i
        case "!!float":
            if let d = YAMLScalars.float(text) { return .double(d) }
            if let i = YAMLScalars.int(text)?.doubleValue { return .double(i) }
            throw bad
        default:
            throw error("the tag \(tag) does not fit a scalar", line: props.line)
        }
    }

    /// `*name`: the value anchored earlier as `&name`.
    mutating func parseAlias() throws -> JSONValue {
        col += 1
        let start = col
        while let d = cur, !Self.isBlank(d), !",[]{}".unicodeScalars.contains(d) { col += 1 }
        let name = String(String.UnicodeScalarView(lines[line][start..<col]))
        guard !name.isEmpty else { throw error("an alias '*' needs a name") }
        guard let value = anchors[name] else { throw error("the alias '*\(name)' refers to no earlier anchor '&\(name)'") }
        // The copy shares storage, but later walks (variable expansion, writing) visit every node.
        guard let valueDepth = Self.measure(value, budget: &aliasBudget) else {
            throw unsupported("aliases that expand to more than a million nodes")
        }
        guard depth + valueDepth <= Self.maximumDepth else {
            throw unsupported("collections nested deeper than \(Self.maximumDepth) levels (through the alias '*\(name)')")
        }
        return value
    }

    /// The collection depth of `value`, spending one unit of `budget` per node; nil when the budget runs out.
    static func measure(_ value: JSONValue, budget: inout Int) -> Int? {
        budget -= 1
        guard budget >= 0 else { return nil }
        var children: [JSONValue]
        switch value {
        case .array(let items): children = items
        case .object(let object): children = object.values
        default: return 0
        }
        var deepest = 0
        for child in children {
            guard let childDepth = measure(child, budget: &budget) else { return nil }
            deepest = max(deepest, childDepth)
        }
        return deepest + 1
    }

    // MARK: Quoted scalars

    /// A single- or double-quoted scalar, possibly over several lines (line breaks fold to spaces,
    /// blank lines to newlines). Leaves the column after the closing quote.
    mutating func parseQuoted() throws -> String {
        let quote = cur!
        let startLine = line
        col += 1
        var out = String.UnicodeScalarView()
        var pendingSpace = String.UnicodeScalarView()
        while true {
            guard let c = cur else {
                // Fold the line break: trailing spaces go, leading spaces of the next line go.
                pendingSpace = String.UnicodeScalarView()
                var blankLines = 0
                line += 1
                while line < lines.count, lines[line].allSatisfy({ $0 == " " || $0 == "\t" }) { blankLines += 1; line += 1 }
                guard line < lines.count, !isDocumentMarker(line) else {
                    throw error("unterminated quoted string (it starts here)", line: startLine)
                }
                col = 0
                skipInlineSpaces()
                out.append(contentsOf: (blankLines == 0 ? " " : String(repeating: "\n", count: blankLines)).unicodeScalars)
                continue
            }
            if c == " " || c == "\t" { pendingSpace.append(c); col += 1; continue }
            out.append(contentsOf: pendingSpace)
            pendingSpace = String.UnicodeScalarView()
            if quote == "'" {
                if c == "'" {
                    if peek(1) == "'" { out.append("'"); col += 2; continue }
                    col += 1
                    return String(out)
                }
                out.append(c)
                col += 1
                continue
            }
            if c == "\"" { col += 1; return String(out) }
            guard c == "\\" else { out.append(c); col += 1; continue }
            guard let e = peek(1) else {
                // An escaped line break joins the lines without a space.
                line += 1
                while line < lines.count, lines[line].allSatisfy({ $0 == " " || $0 == "\t" }) {
                    out.append("\n")
                    line += 1
                }
                guard line < lines.count else { throw error("unterminated quoted string (it starts here)", line: startLine) }
                col = 0
                skipInlineSpaces()
                continue
            }
            col += 2
            let simple: [Unicode.Scalar: Unicode.Scalar] = [
                "0": "\0", "a": "\u{07}", "b": "\u{08}", "t": "\t", "\t": "\t", "n": "\n", "v": "\u{0B}",
                "f": "\u{0C}", "r": "\r", "e": "\u{1B}", " ": " ", "\"": "\"", "/": "/", "\\": "\\",
                "N": "\u{85}", "_": "\u{A0}", "L": "\u{2028}", "P": "\u{2029}",
            ]
            if let s = simple[e] { out.append(s); continue }
            let width: Int
            switch e {
            case "x": width = 2
            case "u": width = 4
            case "U": width = 8
            default: throw error("unknown escape '\\\(e)' in a double-quoted string")
            }
            var v: UInt32 = 0
            for _ in 0..<width {
                guard let h = cur, let d = Character(h).hexDigitValue else {
                    throw error("expected \(width) hex digits after '\\\(e)'")
                }
                v = v * 16 + UInt32(d)
                col += 1
            }
            guard let scalar = Unicode.Scalar(v) else { throw error("'\\\(e)' escape is not a valid character") }
            out.append(scalar)
        }
    }

    // MARK: Block scalars

    /// A literal (`|`) or folded (`>`) block scalar with optional chomping (`-`, `+`) and indentation
    /// indicators, following PyYAML's `scan_block_scalar`.
    mutating func parseBlockScalar(parentIndent: Int) throws -> String {
        let folded = cur == ">"
        col += 1
        var chomping: Bool? = nil  // nil clip, false strip, true keep
        var increment: Int? = nil
        for _ in 0..<2 {
            if let c = cur, c == "+" || c == "-" {
                guard chomping == nil else { throw error("repeated chomping indicator") }
                chomping = c == "+"
                col += 1
            } else if let c = cur, ("1"..."9").contains(c) {
                guard increment == nil else { throw error("repeated indentation indicator") }
                increment = Int(c.value - 48)
                col += 1
            }
        }
        guard restOfLineIsEmpty else { throw error("unexpected text after a block scalar indicator") }
        let minIndent = max(parentIndent + 1, 1)
        var indent: Int
        if let increment {
            indent = minIndent + increment - 1
        } else {
            var maxIndent = 0
            var l = line + 1
            while l < lines.count, lines[l].allSatisfy({ $0 == " " }) { maxIndent = max(maxIndent, lines[l].count); l += 1 }
            if l < lines.count { maxIndent = max(maxIndent, lines[l].prefix { $0 == " " }.count) }
            indent = max(minIndent, maxIndent)
        }
        enum Kind { case blank, content, end }
        func kind(_ l: Int) -> Kind {
            guard l < lines.count else { return .end }
            let spaces = lines[l].prefix { $0 == " " }.count
            if spaces >= indent { return lines[l].count == indent ? .blank : .content }
            return spaces == lines[l].count ? .blank : .end
        }
        var out = String.UnicodeScalarView()
        var lineBreak = ""
        var l = line + 1
        var breaks = 0
        while kind(l) == .blank { breaks += 1; l += 1 }
        while kind(l) == .content {
            out.append(contentsOf: String(repeating: "\n", count: breaks).unicodeScalars)
            let content = lines[l][indent...]
            let leadingNonSpace = content.first != " " && content.first != "\t"
            out.append(contentsOf: content)
            lineBreak = (l == lines.count - 1 && !endsWithNewline) ? "" : "\n"
            l += 1
            breaks = 0
            while kind(l) == .blank { breaks += 1; l += 1 }
            guard kind(l) == .content else { break }
            let next = lines[l][indent]
            if folded && lineBreak == "\n" && leadingNonSpace && next != " " && next != "\t" {
                if breaks == 0 { out.append(" ") }
            } else {
                out.append(contentsOf: lineBreak.unicodeScalars)
            }
        }
        if chomping != false { out.append(contentsOf: lineBreak.unicodeScalars) }
        if chomping == true { out.append(contentsOf: String(repeating: "\n", count: breaks).unicodeScalars) }
        line = l - 1
        try advanceLine()
        return String(out)
    }
}
