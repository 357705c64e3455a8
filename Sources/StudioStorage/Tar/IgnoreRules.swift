import Glibc

/// The patterns of a `.studioml_ignore` file, with gitignore's rules: `#` comments, blank lines, `*`, `?`,
/// `[a-z]`, `**`, a trailing `/` for directories only, a leading (or inner) `/` anchoring to the root,
/// `!` re-including, the last matching line winning. An ignored directory is not descended into.
public struct IgnoreRules: Sendable {
    /// The file name looked for at the root of a packed directory.
    public static let fileName = ".studioml_ignore"

    private struct Rule: Sendable {
        var pattern: [UInt8]
        var negated: Bool
        var directoryOnly: Bool
        var anchored: Bool
    }

    private var rules: [Rule] = []

    /// Parses the text of an ignore file.
    public init(text: String) {
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = Array(rawLine.utf8)
            if line.last == 0x0D { line.removeLast() }
            // Trailing spaces are dropped unless escaped with a backslash.
            while line.last == 0x20 && !(line.count >= 2 && line[line.count - 2] == 0x5C) { line.removeLast() }
            guard let first = line.first, first != UInt8(ascii: "#") else { continue }
            var rule = Rule(pattern: line, negated: false, directoryOnly: false, anchored: false)
            if first == UInt8(ascii: "!") {
                rule.negated = true
                rule.pattern.removeFirst()
            } else if first == 0x5C, line.count > 1, line[1] == UInt8(ascii: "#") || line[1] == UInt8(ascii: "!") {
                rule.pattern.removeFirst()
            }
            while rule.pattern.last == 0x2F {
                rule.directoryOnly = true
                rule.pattern.removeLast()
            }
            if rule.pattern.first == 0x2F {
                rule.anchored = true
                rule.pattern.removeFirst()
            }
            if rule.pattern.contains(0x2F) { rule.anchored = true }
            if !rule.pattern.isEmpty { rules.append(rule) }
        }
    }

    /// Reads `<directory>/.studioml_ignore`; nil when there is none.
    public static func load(directory: String) throws -> IgnoreRules? {
        let path = "\(directory)/\(fileName)"
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw StorageError("cannot read '\(path)': \(Posix.message(errno))")
        }
        defer { Glibc.close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = try chunk.withUnsafeMutableBytes { try Posix.read(fd, $0.baseAddress!, $0.count, what: "'\(path)'") }
            if got == 0 { break }
            bytes += chunk[0..<got]
            guard bytes.count <= 1 << 20 else { throw StorageError("'\(path)' is over 1 MiB; is it really an ignore file?") }
        }
        return IgnoreRules(text: String(decoding: bytes, as: UTF8.self))
    }

    /// Whether a path relative to the packed directory (no leading `/`, no trailing `/`) is excluded.
    public func isIgnored(_ relativePath: [UInt8], isDirectory: Bool) -> Bool {
        var ignored = false
        let baseName = relativePath.lastIndex(of: 0x2F).map { Array(relativePath[($0 + 1)...]) } ?? relativePath
        for rule in rules {
            if rule.directoryOnly && !isDirectory { continue }
            if ignored == !rule.negated { continue }  // cannot change the outcome
            if Self.glob(rule.pattern, 0, rule.anchored ? relativePath : baseName, 0) { ignored = !rule.negated }
        }
        return ignored
    }

    /// Whether a path relative to the packed directory is excluded (text form).
    public func isIgnored(_ relativePath: String, isDirectory: Bool) -> Bool {
        isIgnored(Array(relativePath.utf8), isDirectory: isDirectory)
    }

    private static let star = UInt8(ascii: "*"), slash = UInt8(ascii: "/"), question = UInt8(ascii: "?")
    private static let open = UInt8(ascii: "["), close = UInt8(ascii: "]"), backslash = UInt8(ascii: "\\")

    /// gitignore glob matching on bytes: `*` and `?` stop at `/`; `**/` spans zero or more directories.
    private static func glob(_ p: [UInt8], _ patternStart: Int, _ s: [UInt8], _ subjectStart: Int) -> Bool {
        var pi = patternStart
        var si = subjectStart
        while pi < p.count {
            let c = p[pi]
            if c == star {
                if pi + 1 < p.count && p[pi + 1] == star {
                    var next = pi + 2
                    if next < p.count && p[next] == slash {
                        next += 1
                        if glob(p, next, s, si) { return true }
                        var k = si
                        while k < s.count {
                            if s[k] == slash && glob(p, next, s, k + 1) { return true }
                            k += 1
                        }
                        return false
                    }
                    for k in si...s.count where glob(p, next, s, k) { return true }
                    return false
                }
                var k = si
                while true {
                    if glob(p, pi + 1, s, k) { return true }
                    if k == s.count || s[k] == slash { return false }
                    k += 1
                }
            }
            if si == s.count { return false }
            if c == question {
                if s[si] == slash { return false }
                pi += 1
                si += 1
                continue
            }
            if c == open, let (matched, end) = matchClass(p, pi, s[si]) {
                if !matched { return false }
                pi = end
                si += 1
                continue
            }
            var literal = c
            if c == backslash && pi + 1 < p.count {
                pi += 1
                literal = p[pi]
            }
            if literal != s[si] { return false }
            pi += 1
            si += 1
        }
        return si == s.count
    }

    /// Matches a `[...]` class starting at `start`; nil when the class is not closed (then `[` is literal).
    private static func matchClass(_ p: [UInt8], _ start: Int, _ byte: UInt8) -> (matched: Bool, end: Int)? {
        var i = start + 1
        var negate = false
        if i < p.count && (p[i] == UInt8(ascii: "!") || p[i] == UInt8(ascii: "^")) {
            negate = true
            i += 1
        }
        var matched = false
        var first = true
        while i < p.count {
            if p[i] == close && !first { return (byte != slash && matched != negate, i + 1) }
            first = false
            var low = p[i]
            if low == backslash && i + 1 < p.count {
                i += 1
                low = p[i]
            }
            if i + 2 < p.count && p[i + 1] == UInt8(ascii: "-") && p[i + 2] != close {
                if low <= byte && byte <= p[i + 2] { matched = true }
                i += 3
            } else {
                if low == byte { matched = true }
                i += 1
            }
        }
        return nil
    }
}
