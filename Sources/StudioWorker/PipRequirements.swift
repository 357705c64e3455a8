/// Works out which of an experiment's `pythonenv` requirements go to pip, so that one `pip install` brings
/// in only what the worker's Python lacks. StudioML reinstalled the submitter's whole `pip freeze` on every
/// run; the packaging tools themselves are never touched.
///
/// Every line pip understands in a requirements file reaches it: a plain `name[extras] specifier ; marker`
/// line is checked against what is installed (and left out when satisfied); URLs, VCS links, `name @ url`,
/// local paths, `-e` and `-r` always go to pip, with pip's options (`-c`, index options) beside them, which alone can tell whether
/// they are satisfied. Only lines that are plainly not requirements (prose, shell commands, options pip's
/// requirements files do not take) are refused, and the installer logs them.
enum PipRequirements {
    /// Packages never installed on the experiment's behalf: they are the installer itself
    /// (`pkg-resources==0.0.0` is a line Debian's pip freeze invents for its own setuptools).
    static let packagingTools: Set<String> = ["pip", "setuptools", "wheel", "distribute", "pkg-resources"]

    /// Options a requirements file may hold (pip's `req_file.py`); each line of them goes to pip as it is.
    /// Those that take a value take it after a space or `=`.
    static let fileOptions: Set<String> = [
        "-r", "--requirement", "-c", "--constraint", "-e", "--editable",
        "-i", "--index-url", "--extra-index-url", "--no-index", "-f", "--find-links", "--trusted-host",
        "--pre", "--prefer-binary", "--only-binary", "--no-binary", "--require-hashes", "--use-feature",
        "--config-settings", "--global-option", "--hash",
    ]

    /// Options that name something to install; the others only steer how pip installs.
    static let installingOptions: Set<String> = ["-r", "--requirement", "-e", "--editable"]

    /// What becomes of one requirement line.
    enum Kind: Equatable {
        /// A blank line or a comment.
        case nothing
        /// A distribution by name (`numpy==2.4.6`, `pkg[extra]>=1; python_version<"3.12"`): checked against what is installed.
        case named(String)
        /// Something only pip can judge: a URL, VCS link, `name @ url`, local path, `-e` or `-r`.
        case direct
        /// An option for how pip installs (`--extra-index-url URL`, `-c constraints.txt`): passed along, installs nothing itself.
        case option
        /// Plainly not a requirement: refused.
        case refused
    }

    /// The requirements to hand to pip, and the lines refused.
    struct Selection: Equatable {
        /// The lines for pip's requirements file, in their original order; empty when nothing needs installing.
        var toInstall: [String] = []
        /// Lines that are not requirements.
        var refused: [String] = []
    }

    /// The canonical form of a distribution name (PEP 503): lowercase, runs of `-_.` as `-`.
    static func canonicalName(_ name: String) -> String {
        var out = ""
        var lastWasSeparator = false
        for character in name.lowercased() {
            if character == "-" || character == "_" || character == "." {
                if !lastWasSeparator { out.append("-") }
                lastWasSeparator = true
            } else {
                out.append(character)
                lastWasSeparator = false
            }
        }
        return out
    }

    /// The requirement lines of a requirements file's text as pip reads them: `\` continuations joined,
    /// comments (`#` at the start or after whitespace; not a URL's `#egg=`) and blank lines dropped.
    static func lines(of text: String) -> [String] {
        var result: [String] = []
        var pending = ""
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            var line = String(raw)
            if let comment = commentStart(line) { line = String(line[..<comment]) }
            if line.hasSuffix("\\") {
                pending += line.dropLast()
                continue
            }
            let joined = (pending + line).trimmingWhitespace()
            pending = ""
            if !joined.isEmpty { result.append(joined) }
        }
        let last = pending.trimmingWhitespace()
        if !last.isEmpty { result.append(last) }
        return result
    }

    /// Where a comment starts: `#` first on the line or after whitespace (pip's rule).
    private static func commentStart(_ line: String) -> String.Index? {
        var previous: Character?
        for index in line.indices {
            if line[index] == "#" && (previous == nil || previous!.isWhitespace) { return index }
            previous = line[index]
        }
        return nil
    }

    /// What `requirement` is.
    static func kind(of requirement: String) -> Kind {
        let line = requirement.trimmingWhitespace()
        if line.isEmpty || line.hasPrefix("#") { return .nothing }
        if line.hasPrefix("-") {
            let option = String(line.prefix { !$0.isWhitespace && $0 != "=" })
            guard fileOptions.contains(option) else { return .refused }
            return installingOptions.contains(option) ? .direct : .option
        }
        if isURLOrPath(line) { return .direct }
        guard let name = leadingName(line) else { return .refused }
        let rest = line.dropFirst(name.count).drop { $0 == " " || $0 == "\t" }
        guard let next = rest.first else { return .named(name) }
        if next == "@" { return .direct }  // `name @ url`: a direct reference pip must judge
        // After the name: extras, a version specifier (PEP 440, or a legacy parenthesised one), a marker.
        guard "[(<>=!~;".contains(next) else { return .refused }
        // A per-requirement option (`--hash=…`) on a named line: pip checks hashes, so pip must see it.
        if line.contains(" --") { return .direct }
        return .named(name)
    }

    /// Which requirements to hand to pip: named ones whose distribution is not installed, or is installed at
    /// another version than an exact `==` pin asks for; every line only pip can judge; and the options that
    /// steer them, when anything is to be installed at all.
    static func select(from requested: [String], installed freezeLines: [String]) -> Selection {
        var installed: [String: String] = [:]
        for line in freezeLines {
            let trimmed = line.trimmingWhitespace()
            guard case .named(let name) = kind(of: trimmed) else { continue }
            let version = trimmed.firstRange(of: "==").map { String(trimmed[$0.upperBound...]).trimmingWhitespace() }
            installed[canonicalName(name)] = version ?? ""
        }
        var selection = Selection()
        var options: [String] = []
        for requirement in requested {
            let line = requirement.trimmingWhitespace()
            switch kind(of: line) {
            case .nothing:
                continue
            case .refused:
                selection.refused.append(line)
            case .option:
                options.append(line)
            case .direct:
                selection.toInstall.append(line)
            case .named(let name):
                let canonical = canonicalName(name)
                if packagingTools.contains(canonical) { continue }
                guard let have = installed[canonical] else { selection.toInstall.append(line); continue }
                if let pin = line.firstRange(of: "==") {
                    let wanted = String(line[pin.upperBound...]).split(separator: ";").first.map { String($0).trimmingWhitespace() } ?? ""
                    if !wanted.isEmpty && wanted != have { selection.toInstall.append(line) }
                }
            }
        }
        // Index options alone install nothing: pip runs only when something is to be installed.
        if !selection.toInstall.isEmpty { selection.toInstall = options + selection.toInstall }
        return selection
    }

    /// A PEP 508 distribution name at the start of `line` (letters, digits, `.`, `-`, `_`; starting and
    /// ending with a letter or digit), or nil.
    private static func leadingName(_ line: String) -> String? {
        let name = line.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") }
        guard let first = name.first, let last = name.last,
              first.isLetter || first.isNumber, last.isLetter || last.isNumber else { return nil }
        return String(name)
    }

    /// A URL (`https://…`, `git+https://…`, `file:…`), an archive or wheel file, or a local path.
    private static func isURLOrPath(_ line: String) -> Bool {
        let word = line.prefix { !$0.isWhitespace && $0 != ";" }
        if word.contains("://") || word.hasPrefix("file:") { return true }
        for vcs in ["git+", "hg+", "svn+", "bzr+"] where word.hasPrefix(vcs) { return true }
        if word.hasPrefix("./") || word.hasPrefix("../") || word.hasPrefix("/") || word == "." || word == ".." { return true }
        for suffix in [".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2"] where word.hasSuffix(suffix) { return true }
        return false
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and line breaks.
    func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}
