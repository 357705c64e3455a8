import XCTest
@testable import StudioModel

/// Expected values were checked against PyYAML 6.0 (`yaml.safe_load` then `json.dumps`).
final class YAMLParserTests: XCTestCase {
    private func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        try YAMLParser.parse(text)
    }

    private func assertYAML(_ text: String, _ expectedJSON: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let value = try YAMLParser.parse(text)
            let expected = try JSONValue(parsing: expectedJSON)
            XCTAssertTrue(value.isIdentical(to: expected), "got \(value.serialized())", file: file, line: line)
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
    }

    private func assertYAMLError(_ text: String, line errorLine: Int, _ fragment: String,
                                 kind: ModelError.Kind = .invalidYAML, file: StaticString = #filePath, line: UInt = #line)
    {
        XCTAssertThrowsError(try YAMLParser.parse(text), file: file, line: line) { error in
            let e = error as? ModelError
            XCTAssertEqual(e?.line, errorLine, "\(error)", file: file, line: line)
            XCTAssertEqual(e?.kind, kind, "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(fragment), "\(error)", file: file, line: line)
        }
    }

    func testSampleConfig() throws {
        let value = try parse(Samples.config)
        XCTAssertEqual(value["database"]?["bucket"], "studioml-meta")
        XCTAssertEqual(value["resources_needed"]?["ram"], "1g")
        XCTAssertEqual(value["resources_needed"]?["cpus"], 1)
        XCTAssertEqual(value["saveWorkspaceFrequency"], "1m")
        XCTAssertEqual(value.value(at: ["cloud", "queue", "sqs", "credentials", "aws", "region"]), "us-east-1")
        XCTAssertEqual(value.objectValue?.keys, ["database", "storage", "cloud", "saveMetricsFrequency",
                                                 "saveWorkspaceFrequency", "verbose", "resources_needed", "sleep_time", "worker_timeout"])
    }

    func testBlockMappingsAndSequencesAtAnyIndentation() {
        assertYAML("""
            top:
              list:
                - a
                - b: 1
                  c: 2
                - - x
                  - y
                -
                  deep: true
              map:
                 k: v
            seq_same_indent:
            - 1
            - 2
            after: end
            """, #"{"top": {"list": ["a", {"b": 1, "c": 2}, ["x", "y"], {"deep": true}], "map": {"k": "v"}}, "seq_same_indent": [1, 2], "after": "end"}"#)
        assertYAML("a:\n    b:\n          c: 1\n    d: 2\n", #"{"a": {"b": {"c": 1}, "d": 2}}"#)
        assertYAML("  a: 1\n  b: 2\n", #"{"a": 1, "b": 2}"#)
        assertYAML("- key:\n  - a\n  - b\n  other: 1\n", #"[{"key": ["a", "b"], "other": 1}]"#)
        assertYAML("- - - a\n    - b\n  - c\n- d\n", #"[[["a", "b"], "c"], "d"]"#)
        assertYAML("a:\nb: \nd:\n  -\n  - x\n", #"{"a": null, "b": null, "d": [null, "x"]}"#)
    }

    func testFlowCollections() {
        assertYAML("""
            a: [1, two, "three", 'four']
            b: {x: 1, y: [a, b], z: {q: null}}
            c: [ ]
            d: {}
            e: [a: 1, b]
            f: {url: http://x.com:80/p, k}
            g: [
              1,
              2, # comment
              3
            ]
            h: {"a":1, 'b': 2}
            i: [a, ]
            j: [one
              two, three]
            """, #"{"a": [1, "two", "three", "four"], "b": {"x": 1, "y": ["a", "b"], "z": {"q": null}}, "c": [], "d": {}, "e": [{"a": 1}, "b"], "f": {"url": "http://x.com:80/p", "k": null}, "g": [1, 2, 3], "h": {"a": 1, "b": 2}, "i": ["a"], "j": ["one two", "three"]}"#)
        assertYAML("--- {a: 1, b: [2]}\n", #"{"a": 1, "b": [2]}"#)
    }

    func testScalarTypesFollowYAML11() {
        assertYAML("""
            a: 1
            b: -2
            c: 0x1F
            d: 017
            e: 0o17
            f: 1_000
            g: 1:30
            h: 1.5
            i: 1.
            j: .5
            k: 1e5
            l: 1.0e+5
            m: .inf
            n: -.inf
            aa: 0b101
            ab: +12
            ac: 09
            ad: 1.5e3
            ae: 3g
            ag: 1:30.5
            al: 12:30:45
            am: 1.2.3
            an: 2001-12-14
            """, #"{"a": 1, "b": -2, "c": 31, "d": 15, "e": "0o17", "f": 1000, "g": 90, "h": 1.5, "i": 1.0, "j": 0.5, "k": "1e5", "l": 100000.0, "m": Infinity, "n": -Infinity, "aa": 5, "ab": 12, "ac": "09", "ad": "1.5e3", "ae": "3g", "ag": 90.5, "al": 45045, "am": "1.2.3", "an": "2001-12-14"}"#)
        XCTAssertTrue(try parse("a: .nan")["a"]!.doubleValue!.isNaN)
    }

    func testBooleansAndNulls() {
        assertYAML("""
            p: yes
            q: No
            r: ON
            s: off
            t: True
            u: FALSE
            v: tRue
            w: y
            x: n
            n1: ~
            n2: null
            n3: Null
            n4:
            n5: NULL
            n6: nUll
            """, #"{"p": true, "q": false, "r": true, "s": false, "t": true, "u": false, "v": "tRue", "w": "y", "x": "n", "n1": null, "n2": null, "n3": null, "n4": null, "n5": null, "n6": "nUll"}"#)
    }

    func testQuotedScalarsAndEscapes() {
        assertYAML(#"""
            a: 'it''s'
            b: "tab\there \"q\" \u00e9 \x41 \U0001F600"
            c: "line\
              cont"
            d: ': colon'
            e: "multi
              line"
            f: 'para

              two'
            g: "\0\a\b\e\N\_\L\P\/"
            h: "x: y"
            """#, #"{"a": "it's", "b": "tab\there \"q\" \u00e9 A \ud83d\ude00", "c": "linecont", "d": ": colon", "e": "multi line", "f": "para\ntwo", "g": "\u0000\u0007\b\u001b\u0085\u00a0\u2028\u2029/", "h": "x: y"}"#)
    }

    func testPlainScalars() {
        assertYAML("""
            key: this is
              a multi line
              plain scalar

              with blank
            url: http://127.0.0.1:9000
            hash: foo#bar
            comment: value # a comment
            trailing: value   
            dash: -x
            colon: a:b
            seq:
              - item one
                continues
            """, #"{"key": "this is a multi line plain scalar\nwith blank", "url": "http://127.0.0.1:9000", "hash": "foo#bar", "comment": "value", "trailing": "value", "dash": "-x", "colon": "a:b", "seq": ["item one continues"]}"#)
        assertYAML("just a string\n", #""just a string""#)
        assertYAML("a:b: c\n", #"{"a:b": "c"}"#)
    }

    func testLiteralAndFoldedBlockScalars() {
        assertYAML("""
            lit: |
              line1
               indented
              line3

            fold: >
              folded
              text

              new para
               more indented
              back
            strip: |-
              no newline
            keep: |+
              keep

            clip: >-
              a
              b
            after: x
            ind: |2
               two
            """, #"{"lit": "line1\n indented\nline3\n", "fold": "folded text\nnew para\n more indented\nback\n", "strip": "no newline", "keep": "keep\n\n", "clip": "a b", "after": "x", "ind": " two"}"#)
        assertYAML("- |\n  text\n- >-\n  folded\n  more\n", #"["text\n", "folded more"]"#)
        assertYAML("a: |\n  x\n  y", #"{"a": "x\ny"}"#)
        assertYAML("a: |+\n  x\n\n\nb: 1\n", #"{"a": "x\n\n\n", "b": 1}"#)
        assertYAML("a: |\n  # not a comment\n  x\n", ##"{"a": "# not a comment\nx\n"}"##)
    }

    func testCommentsAndDocumentMarkers() {
        assertYAML("# leading\n---\n# another\na: 1 # trailing\nb: \"x # not comment\"\nc: x#y\n...\n# after\n",
                   #"{"a": 1, "b": "x # not comment", "c": "x#y"}"#)
        assertYAML("%YAML 1.1\n---\na: 1\n", #"{"a": 1}"#)
        assertYAML("a: # c\n  b: 1\n", #"{"a": {"b": 1}}"#)
        assertYAML("", "null")
        assertYAML("# nothing\n", "null")
        assertYAML("---\n", "null")
        assertYAML("a: 1\r\nb:\r\n  c: 2\r\n", #"{"a": 1, "b": {"c": 2}}"#)
    }

    func testAnchorsAliasesAndMergeKeys() {
        assertYAML("""
            base: &base
              a: 1
              b: 2
            derived:
              <<: *base
              b: 3
              c: 4
            list: &l [1, 2]
            copy: *l
            multi:
              <<: [*base, {z: 9}]
            scalar: &s hello
            again: *s
            """, #"{"base": {"a": 1, "b": 2}, "derived": {"a": 1, "b": 3, "c": 4}, "list": [1, 2], "copy": [1, 2], "multi": {"z": 9, "a": 1, "b": 2}, "scalar": "hello", "again": "hello"}"#)
        assertYAML("&k key: v\nother: *k\n", #"{"key": "v", "other": "key"}"#)
        assertYAML("a: &a {x: 1, y: 2}\nb: {y: 3, <<: *a, z: 4}\n", #"{"a": {"x": 1, "y": 2}, "b": {"x": 1, "y": 3, "z": 4}}"#)
    }

    func testIgnorableTags() {
        assertYAML("a: !!str 123\nb: !!int '42'\nc: !!float 1\nd: !!bool yes\ne: ! 12\nf: !!null x\ng: !<tag:yaml.org,2002:str> 5\nh: !!map\n  q: 1\n",
                   #"{"a": "123", "b": 42, "c": 1.0, "d": true, "e": 12, "f": null, "g": "5", "h": {"q": 1}}"#)
    }

    func testNonStringKeysBecomeJSONKeys() {
        assertYAML("1: one\nnull: n\n3.5: f\n\"quoted key\": v\nkey with spaces: z\n",
                   #"{"1": "one", "null": "n", "3.5": "f", "quoted key": "v", "key with spaces": "z"}"#)
    }

    func testUnicode() {
        assertYAML("name: café\nemoji: \"\\U0001F600\"\n", #"{"name": "caf\u00e9", "emoji": "\ud83d\ude00"}"#)
    }

    func testErrorsGiveLineNumbers() {
        assertYAMLError("a:\n\tb: 1\n", line: 2, "tab characters")
        assertYAMLError("a: 1\n  b: 2\n", line: 2, "mapping values are not allowed")
        assertYAMLError("a: b: c\n", line: 1, "mapping values are not allowed")
        assertYAMLError("a: 1\n- b\n", line: 2, "sequence entry")
        assertYAMLError("a:\n    b: 1\n  c: 2\n", line: 3, "unexpected indentation")
        assertYAMLError("a: [1, 2\nb: 3\n", line: 1, "unterminated flow collection")
        assertYAMLError("a: 1\nb: \"abc\nc: 1\n", line: 2, "unterminated quoted string")
        assertYAMLError("a: 1\nb: *nope\n", line: 2, "no earlier anchor '&nope'")
        assertYAMLError("a: @x\n", line: 1, "reserved")
        assertYAMLError("a: - b\n", line: 1, "block sequence cannot start on the same line")
        assertYAMLError("a: 1\nb: {x: 1\n  y: 2}\n", line: 3, "expected ',' or '}'")
        assertYAMLError("a: \"\\q\"\n", line: 1, "unknown escape")
        assertYAMLError("a: |x\n  t\n", line: 1, "block scalar indicator")
        assertYAMLError("x: 1\nlit: |\n    first\n  second\n", line: 4, "unexpected indentation")
        assertYAMLError("a: !!bool maybe\n", line: 1, "not a valid !!bool")
    }

    func testUnsupportedFeaturesAreNamed() {
        assertYAMLError("a: 1\n---\nb: 2\n", line: 2, "multiple documents", kind: .unsupportedYAML)
        assertYAMLError("a: 1\n...\nb: 2\n", line: 3, "multiple documents", kind: .unsupportedYAML)
        assertYAMLError("? a\n: b\n", line: 1, "complex mapping keys", kind: .unsupportedYAML)
        assertYAMLError("x: 1\n[a, b]: c\n", line: 2, "flow collection used as a mapping key", kind: .unsupportedYAML)
        assertYAMLError("x: 1\ny: !!python/object:os.system x\n", line: 2, "the tag '!!python/object:os.system'", kind: .unsupportedYAML)
        assertYAMLError("a: !custom x\n", line: 1, "tag '!custom'", kind: .unsupportedYAML)
        assertYAMLError("%TAG ! tag:x,2000:\n---\na: 1\n", line: 1, "directive", kind: .unsupportedYAML)
        assertYAMLError("a: &x 1\n*x : 2\n", line: 2, "alias used as a mapping key", kind: .unsupportedYAML)
    }
}
