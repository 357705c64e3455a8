/// Flow collections: `[a, b]` and `{a: 1, b: [x]}`, possibly over several lines.
extension YAMLParser {
    /// Skips spaces, comments and line breaks inside a flow collection.
    mutating func skipFlowSpace(startLine: Int) throws {
        while true {
            skipInlineSpaces()
            if cur == "#", col == 0 || Self.isBlank(peek(-1)) { col = lines[line].count }
            if cur != nil { return }
            line += 1
            col = 0
            guard line < lines.count, !isDocumentMarker(line) else {
                throw error("unterminated flow collection (it starts here)", line: startLine)
            }
        }
    }

    /// A `[...]` or `{...}` collection starting at the current position.
    mutating func parseFlowCollection() throws -> JSONValue {
        try enterCollection()
        defer { depth -= 1 }
        let startLine = line
        let isSequence = cur == "["
        col += 1
        var items: [JSONValue] = []
        var entries: [(key: String, value: JSONValue, isMerge: Bool)] = []
        let close: Unicode.Scalar = isSequence ? "]" : "}"
        while true {
            try skipFlowSpace(startLine: startLine)
            if cur == close { col += 1; break }
            if cur == "?" && Self.isBlank(peek(1)) { throw unsupported("complex mapping keys ('? ')") }
            let isMerge = cur == "<" && peek(1) == "<" && (Self.isBlank(peek(2)) || peek(2) == ":")
            let keyLine = line
            let node = try parseFlowNode(startLine: startLine)
            try skipFlowSpace(startLine: startLine)
            var value: JSONValue? = nil
            if cur == ":" {
                col += 1
                try skipFlowSpace(startLine: startLine)
                value = (cur == "," || cur == close) ? .null : try parseFlowNode(startLine: startLine)
                try skipFlowSpace(startLine: startLine)
            }
            if isSequence {
                if let value {
                    guard let key = YAMLScalars.keyText(node) else { throw unsupported("a collection used as a mapping key", line: keyLine) }
                    items.append(.object([key: value]))
                } else {
                    items.append(node)
                }
            } else {
                guard let key = YAMLScalars.keyText(node) else { throw unsupported("a collection used as a mapping key", line: keyLine) }
                entries.append((key, value ?? .null, isMerge))
            }
            if cur == "," { col += 1; continue }
            if cur == close { col += 1; break }
            throw error("expected ',' or '\(close)' in a flow \(isSequence ? "sequence" : "mapping")")
        }
        return isSequence ? .array(items) : try buildMapping(entries)
    }

    /// One node inside a flow collection.
    mutating func parseFlowNode(startLine: Int) throws -> JSONValue {
        var props = Properties()
        try parseProperties(into: &props)
        if props.isEmpty == false { try skipFlowSpace(startLine: startLine) }
        guard let c = cur else { throw error("expected a value") }
        switch c {
        case "[", "{":
            return try register(props, try checkCollectionTag(props, try parseFlowCollection()))
        case "\"", "'":
            return try register(props, try resolveScalar(try parseQuoted(), plain: false, props: props))
        case "*":
            guard props.isEmpty else { throw error("an alias cannot have an anchor or a tag") }
            return try parseAlias()
        case ",", "]", "}":
            return try register(props, try resolveScalar("", plain: true, props: props))
        case "|", ">":
            throw error("block scalars ('\(c)') are not allowed inside [ ] or { }")
        case "@", "`", "#":
            throw error("unexpected '\(c)' inside a flow collection; quote the value")
        default:
            if c == "-" && Self.isBlank(peek(1)) { throw error("'- ' entries are not allowed inside [ ] or { }") }
            var text = scanPlainLine(flow: true)
            // A plain scalar continues on the next line unless that line starts with an indicator.
            while cur == nil {
                var l = line + 1
                var blankLines = 0
                while l < lines.count, lines[l].allSatisfy({ $0 == " " || $0 == "\t" }) { blankLines += 1; l += 1 }
                guard l < lines.count, !isDocumentMarker(l) else { break }
                let first = lines[l].firstIndex { $0 != " " && $0 != "\t" }!
                let d = lines[l][first]
                if ",[]{}#".unicodeScalars.contains(d) || (d == ":" && Self.isBlank(char(l, first + 1))) { break }
                line = l
                col = first
                text += (blankLines == 0 ? " " : String(repeating: "\n", count: blankLines)) + scanPlainLine(flow: true)
            }
            return try register(props, try resolveScalar(text, plain: true, props: props))
        }
    }
}
