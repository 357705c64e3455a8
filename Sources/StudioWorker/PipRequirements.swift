/// Works out which of an experiment's `pythonenv` requirements are missing from the worker's
/// Python, so that one `pip install` brings in only those. StudioML reinstalled the submitter's
/// whole `pip freeze` on every run; the packaging tools themselves are never touched.
enum PipRequirements {
    /// Packages never installed on the experiment's behalf: they are the installer itself.
    static let packagingTools: Set<String> = ["pip", "setuptools", "wheel", "distribute"]

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

    /// The distribution name of a requirement line (`numpy==2.4.6` → `numpy`), or nil for lines
    /// that name no plain distribution (editable installs, URLs, comments).
    static func name(of requirement: String) -> String? {
        let line = requirement.trimmingWhitespace()
        if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("-") { return nil }
        if line.contains("://") || line.hasPrefix("git+") { return nil }
        let end = line.firstIndex(where: { "=<>!~;[ @".contains($0) }) ?? line.endIndex
        let name = String(line[..<end])
        return name.isEmpty ? nil : name
    }

    /// The requirements to install: those whose distribution is not installed at all, or is
    /// installed at another version than an exact `==` pin asks for. URL and editable lines are
    /// passed through untouched only when `includeUnnamed` is set.
    static func missing(from requested: [String], installed freezeLines: [String]) -> [String] {
        var installed: [String: String] = [:]
        for line in freezeLines {
            let trimmed = line.trimmingWhitespace()
            guard let name = name(of: trimmed) else { continue }
            let version = trimmed.firstRange(of: "==").map { String(trimmed[$0.upperBound...]).trimmingWhitespace() }
            installed[canonicalName(name)] = version ?? ""
        }
        var result: [String] = []
        for requirement in requested {
            let line = requirement.trimmingWhitespace()
            guard let name = name(of: line) else { continue }
            let canonical = canonicalName(name)
            if packagingTools.contains(canonical) { continue }
            guard let have = installed[canonical] else { result.append(line); continue }
            if let pin = line.firstRange(of: "==") {
                let wanted = String(line[pin.upperBound...]).split(separator: ";").first.map { String($0).trimmingWhitespace() } ?? ""
                if !wanted.isEmpty && wanted != have { result.append(line) }
            }
        }
        return result
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
