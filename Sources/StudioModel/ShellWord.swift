/// The shell quoting StudioML applies to experiment arguments: its submitter stores each argument
/// as Python's `shlex.quote` makes it (`with space` → `'with space'`), and a worker must undo that
/// once, as `shlex.split` does, to hand the script what the user typed. (StudioML's own worker
/// quoted a second time instead: docs/wire-format.md §4 and §10.3.)
public enum ShellWord {
    /// `shlex.quote`: unchanged when made only of `[A-Za-z0-9_@%+=:,./-]`, else in single quotes
    /// with each `'` written as `'"'"'`; the empty string is `''`.
    public static func quote(_ word: String) -> String {
        if word.isEmpty { return "''" }
        if word.utf8.allSatisfy(isSafe) { return word }
        return "'" + word.replacing("'", with: "'\"'\"'") + "'"
    }

    /// The one word `shlex.split` (POSIX mode, no comments) reads from `text`; `text` itself when
    /// it is not exactly one well-formed word (unbalanced quotes, several words, nothing at all),
    /// so an argument stored unquoted by another writer still arrives as it was stored.
    public static func unquote(_ text: String) -> String {
        enum State { case plain, single, double }
        var state = State.plain
        var word = ""
        var started = false, ended = false
        var characters = text.makeIterator()
        while let character = characters.next() {
            switch state {
            case .plain:
                if character == " " || character == "\t" || character == "\n" || character == "\r" {
                    if started { ended = true }
                    continue
                }
                if ended { return text } // a second word
                started = true
                switch character {
                case "'": state = .single
                case "\"": state = .double
                case "\\":
                    guard let escaped = characters.next() else { return text }
                    word.append(escaped)
                default: word.append(character)
                }
            case .single:
                if character == "'" { state = .plain } else { word.append(character) }
            case .double:
                if character == "\"" { state = .plain; continue }
                if character == "\\" {
                    guard let next = characters.next() else { return text }
                    // Inside double quotes a backslash escapes only `"` and itself.
                    if next != "\"" && next != "\\" { word.append("\\") }
                    word.append(next)
                    continue
                }
                word.append(character)
            }
        }
        return state == .plain && started ? word : text
    }

    private static func isSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        default: return "_@%+=:,./-".utf8.contains(byte)
        }
    }
}
