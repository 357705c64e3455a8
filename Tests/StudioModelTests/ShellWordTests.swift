import XCTest
import StudioModel

/// StudioML's argument quoting (Python's `shlex.quote` at submit) and its undoing (`shlex.split`).
final class ShellWordTests: XCTestCase {
    func testQuotesLikeShlexQuote() {
        XCTAssertEqual(ShellWord.quote("plain-word_1.5:x,y@z%+=/"), "plain-word_1.5:x,y@z%+=/")
        XCTAssertEqual(ShellWord.quote(""), "''")
        XCTAssertEqual(ShellWord.quote("with space"), "'with space'")
        XCTAssertEqual(ShellWord.quote("it's"), "'it'\"'\"'s'")
        XCTAssertEqual(ShellWord.quote("a\"b"), "'a\"b'")
        XCTAssertEqual(ShellWord.quote("$HOME"), "'$HOME'")
        XCTAssertEqual(ShellWord.quote("ünï"), "'ünï'", "non-ASCII letters are not in shlex's safe set")
    }

    func testUnquoteUndoesQuoteForAnyWord() {
        let words = ["a b", "\"q\"", "'single'", "$HOME", "*", "", "ünïcødé ✓ 😀", "back\\slash", "tab\there",
                     "new\nline", "--queue", "-e", ";", "|", "''", "'\"'\"'", " lead", "trail ", "\\"]
        for word in words {
            XCTAssertEqual(ShellWord.unquote(ShellWord.quote(word)), word, "round trip of \(word.debugDescription)")
        }
    }

    func testUnquoteReadsOneWordAsShlexSplitDoes() {
        XCTAssertEqual(ShellWord.unquote("'with space'"), "with space")
        XCTAssertEqual(ShellWord.unquote("\"double \\\"quoted\\\" \\n\""), "double \"quoted\" \\n")
        XCTAssertEqual(ShellWord.unquote("back\\ slash"), "back slash")
        XCTAssertEqual(ShellWord.unquote("mi'x'ed\"parts\""), "mixedparts")
    }

    func testTextThatIsNotOneWellFormedWordIsKeptAsStored() {
        XCTAssertEqual(ShellWord.unquote("two words"), "two words")
        XCTAssertEqual(ShellWord.unquote("'unbalanced"), "'unbalanced")
        XCTAssertEqual(ShellWord.unquote("trailing\\"), "trailing\\")
        XCTAssertEqual(ShellWord.unquote(""), "")
        XCTAssertEqual(ShellWord.unquote("   "), "   ")
    }
}
