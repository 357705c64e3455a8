import XCTest
@testable import StudioModel

final class JSONValueTests: XCTestCase {
    func testParsesEveryKindOfValue() throws {
        let value = try JSONValue(parsing: #"{"n": null, "t": true, "f": false, "i": -42, "d": 1.5, "s": "x", "a": [1, [2]], "o": {"k": {}}}"#)
        XCTAssertEqual(value["n"], .null)
        XCTAssertEqual(value["t"], .bool(true))
        XCTAssertEqual(value["f"]?.boolValue, false)
        XCTAssertEqual(value["i"], .int(-42))
        XCTAssertEqual(value["d"], .double(1.5))
        XCTAssertEqual(value["s"]?.stringValue, "x")
        XCTAssertEqual(value["a"]?[1], .array([.int(2)]))
        XCTAssertEqual(value["o"]?["k"], .object([:]))
        XCTAssertNil(value["missing"])
    }

    func testIntsStayIntsAndFloatsStayFloats() throws {
        let value = try JSONValue(parsing: "[1, 1.0, 1e2, -0, -0.0, 9223372036854775807, 1795900279.7312746]")
        XCTAssertEqual(value.arrayValue, [.int(1), .double(1.0), .double(100), .int(0), .double(-0.0),
                                          .int(Int64.max), .double(1795900279.7312746)])
        XCTAssertEqual(value.serialized(.compact), "[1,1.0,100.0,0,-0.0,9223372036854775807,1795900279.7312746]")
        XCTAssertNotEqual(JSONValue.int(1), JSONValue.double(1))
    }

    func testFloatsAreWrittenAsPythonRepr() {
        let cases: [(Double, String)] = [
            (1795900279.7312746, "1795900279.7312746"), (1795900279.793286, "1795900279.793286"),
            (0.1, "0.1"), (1.0, "1.0"), (100.0, "100.0"), (0.0001, "0.0001"), (0.00001, "1e-05"),
            (1e16, "1e+16"), (1234567890123456.0, "1234567890123456.0"), (9007199254740994.0, "9007199254740994.0"),
            (1.5e300, "1.5e+300"), (5e-324, "5e-324"), (-2.5, "-2.5"), (123456789012345678.0, "1.2345678901234568e+17"),
            (.nan, "NaN"), (.infinity, "Infinity"), (-.infinity, "-Infinity"), (-0.0, "-0.0"),
        ]
        for (value, text) in cases {
            XCTAssertEqual(JSONWriter.pythonFloatRepr(value), text, "repr of \(value)")
        }
    }

    func testFloatRoundTripIsExact() throws {
        for d in [1795900279.7312746, 0.1 + 0.2, 1.0 / 3.0, 2.2250738585072014e-308, 1.7976931348623157e308] {
            let text = JSONValue.double(d).serialized()
            XCTAssertEqual(try JSONValue(parsing: text), .double(d), text)
        }
    }

    func testObjectsKeepKeyOrderAndLastDuplicateWins() throws {
        let value = try JSONValue(parsing: #"{"z": 1, "a": 2, "m": 3, "a": 4}"#)
        XCTAssertEqual(value.objectValue?.keys, ["z", "a", "m"])
        XCTAssertEqual(value["a"], .int(4))
        XCTAssertEqual(value.serialized(), #"{"z": 1, "a": 4, "m": 3}"#)
    }

    func testSeparatorsMatchPythonJsonDumps() throws {
        let value: JSONValue = ["a": [1, 2], "b": ["c": nil]]
        XCTAssertEqual(value.serialized(.pythonDefault), #"{"a": [1, 2], "b": {"c": null}}"#)
        XCTAssertEqual(value.serialized(.compact), #"{"a":[1,2],"b":{"c":null}}"#)
        XCTAssertEqual(value.serialized(.pretty), "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {\n    \"c\": null\n  }\n}")
        XCTAssertEqual(JSONValue.array([]).serialized(.pretty), "[]")
    }

    func testStringEscapingMatchesPython() throws {
        let value = JSONValue.string("q\"b\\/\n\t\u{01}é😀\u{7F}")
        XCTAssertEqual(value.serialized(), #""q\"b\\/\n\t\u0001\u00e9\ud83d\ude00\u007f""#)
        var options = JSONWriteOptions.compact
        options.ensureASCII = false
        XCTAssertEqual(value.serialized(options), "\"q\\\"b\\\\/\\n\\t\\u0001é😀\u{7F}\"")
        XCTAssertEqual(try JSONValue(parsing: value.serialized()), value)
        XCTAssertEqual(try JSONValue(parsing: #""\ud83d\ude00 \u00e9 \/""#), .string("😀 é /"))
    }

    func testPythonSpecialFloatsParse() throws {
        let value = try JSONValue(parsing: "[NaN, Infinity, -Infinity]")
        XCTAssertTrue(value[0]!.doubleValue!.isNaN)
        XCTAssertEqual(value[1], .double(.infinity))
        XCTAssertEqual(value[2], .double(-.infinity))
    }

    func testMalformedJSONReportsLineAndColumn() {
        let cases: [(String, Int, Int)] = [
            ("{\n  \"a\": 1,\n  \"b\" 2\n}", 3, 7),
            ("[1, 2", 1, 6),
            ("{\"a\": tru}", 1, 7),
            ("[1,]", 1, 4),
            ("\"abc", 1, 1),
            ("{\"é\": x}", 1, 7),
            ("[01]", 1, 3),
            ("1 2", 1, 3),
            ("\"a\u{01}\"", 1, 3),
            ("", 1, 1),
        ]
        for (text, line, column) in cases {
            XCTAssertThrowsError(try JSONValue(parsing: text), text) { error in
                let e = error as? ModelError
                XCTAssertEqual(e?.kind, .invalidJSON, text)
                XCTAssertEqual(e?.line, line, text)
                XCTAssertEqual(e?.column, column, text)
                XCTAssertTrue(e?.description.hasPrefix("line \(line), column \(column): invalid JSON") == true, e?.description ?? "")
            }
        }
    }

    func testHugeIntegersFallBackToFloats() throws {
        XCTAssertEqual(try JSONValue(parsing: "123456789012345678901234567890"), .double(1.2345678901234568e29))
    }

    func testDeepNestingIsRejectedNotCrashing() {
        let text = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        XCTAssertThrowsError(try JSONValue(parsing: text))
    }

    func testMergedOverDeepMergesObjectsOnly() {
        let base: JSONObject = ["a": ["x": 1, "y": 2], "b": [1, 2], "c": "keep"]
        let mine: JSONObject = ["b": [3], "a": ["y": 20, "z": 30]]
        let merged = mine.merged(over: base)
        XCTAssertEqual(merged.keys, ["b", "a", "c"])
        XCTAssertEqual(merged["a"], ["y": 20, "z": 30, "x": 1])
        XCTAssertEqual(merged["b"], [3])
        XCTAssertEqual(merged["c"], "keep")
    }

    func testEqualityIgnoresKeyOrderButIdentityDoesNot() throws {
        let a = try JSONValue(parsing: #"{"x": 1, "y": 2}"#)
        let b = try JSONValue(parsing: #"{"y": 2, "x": 1}"#)
        XCTAssertEqual(a, b)
        XCTAssertFalse(a.isIdentical(to: b))
        XCTAssertTrue(a.isIdentical(to: a))
    }

    func testRemovingAndSettingKeys() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3]
        object["b"] = nil
        object["a"] = 10
        object["d"] = 4
        XCTAssertEqual(object.keys, ["a", "c", "d"])
        XCTAssertEqual(object["a"], 10)
        XCTAssertFalse(object.contains("b"))
    }
}
