import XCTest
@testable import StudioStorage

final class IgnoreRulesTests: XCTestCase {
    func testCommentsBlankLinesAndSimpleGlobs() {
        let rules = IgnoreRules(text: "# a comment\n\n*.pyc\nfile?.txt\n\\#literal\n")
        XCTAssertTrue(rules.isIgnored("a.pyc", isDirectory: false))
        XCTAssertTrue(rules.isIgnored("deep/down/b.pyc", isDirectory: false))
        XCTAssertTrue(rules.isIgnored("file1.txt", isDirectory: false))
        XCTAssertFalse(rules.isIgnored("file10.txt", isDirectory: false))
        XCTAssertFalse(rules.isIgnored("# a comment", isDirectory: false))
        XCTAssertTrue(rules.isIgnored("#literal", isDirectory: false))
        XCTAssertFalse(rules.isIgnored("a.py", isDirectory: false))
    }

    func testTrailingSlashMatchesDirectoriesOnly() {
        let rules = IgnoreRules(text: "build/\n")
        XCTAssertTrue(rules.isIgnored("build", isDirectory: true))
        XCTAssertTrue(rules.isIgnored("src/build", isDirectory: true))
        XCTAssertFalse(rules.isIgnored("build", isDirectory: false))
    }

    func testLeadingOrInnerSlashAnchorsToTheRoot() {
        let rules = IgnoreRules(text: "/top.log\ndocs/*.md\n")
        XCTAssertTrue(rules.isIgnored("top.log", isDirectory: false))
        XCTAssertFalse(rules.isIgnored("sub/top.log", isDirectory: false))
        XCTAssertTrue(rules.isIgnored("docs/a.md", isDirectory: false))
        XCTAssertFalse(rules.isIgnored("docs/sub/a.md", isDirectory: false))
        XCTAssertFalse(rules.isIgnored("x/docs/a.md", isDirectory: false))
    }

    func testDoubleStar() {
        let rules = IgnoreRules(text: "**/cache\nlogs/**\na/**/z\n")
        XCTAssertTrue(rules.isIgnored("cache", isDirectory: true))
        XCTAssertTrue(rules.isIgnored("x/y/cache", isDirectory: true))
        XCTAssertTrue(rules.isIgnored("logs/1/2.txt", isDirectory: false))
        XCTAssertFalse(rules.isIgnored("logs", isDirectory: true))
        XCTAssertTrue(rules.isIgnored("a/z", isDirectory: false))
        XCTAssertTrue(rules.isIgnored("a/b/c/z", isDirectory: false))
        XCTAssertFalse(rules.isIgnored("a/b/c/zz", isDirectory: false))
    }

    func testNegationReincludesAndLastMatchWins() {
        let rules = IgnoreRules(text: "*.log\n!keep.log\n")
        XCTAssertTrue(rules.isIgnored("x.log", isDirectory: false))
        XCTAssertFalse(rules.isIgnored("keep.log", isDirectory: false))
        let reversed = IgnoreRules(text: "!keep.log\n*.log\n")
        XCTAssertTrue(reversed.isIgnored("keep.log", isDirectory: false))
    }

    func testCharacterClasses() {
        let rules = IgnoreRules(text: "[abc].txt\nv[0-9]\n[!x]y\n")
        XCTAssertTrue(rules.isIgnored("b.txt", isDirectory: false))
        XCTAssertFalse(rules.isIgnored("d.txt", isDirectory: false))
        XCTAssertTrue(rules.isIgnored("v7", isDirectory: false))
        XCTAssertTrue(rules.isIgnored("zy", isDirectory: false))
        XCTAssertFalse(rules.isIgnored("xy", isDirectory: false))
    }
}
