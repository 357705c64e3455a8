import XCTest
@testable import StudioModel

/// Outside data at its extremes (issue #11: "no trap on any input"): every input here must give a thrown
/// ModelError or a value, never a trap or a stack overflow (either kills the whole test process).
final class ParserTrapTests: XCTestCase {
    private func assertFails(_ kind: ModelError.Kind, _ fragment: String, file: StaticString = #filePath, line: UInt = #line,
                             _ body: () throws -> Void)
    {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual((error as? ModelError)?.kind, kind, "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(fragment), "\(error)", file: file, line: line)
        }
    }

    // MARK: YAML

    func testDeeplyNestedFlowCollectionsAreRefusedNotAStackOverflow() {
        // 100 000 levels recursed once per level and overflowed the stack (SIGSEGV).
        assertFails(.unsupportedYAML, "nested deeper") { _ = try YAMLParser.parse(String(repeating: "[", count: 100_000)) }
        assertFails(.unsupportedYAML, "nested deeper") { _ = try YAMLParser.parse("a: " + String(repeating: "{b: ", count: 50_000)) }
    }

    func testDeeplyNestedBlockCollectionsAreRefused() {
        assertFails(.unsupportedYAML, "nested deeper") { _ = try YAMLParser.parse(String(repeating: "- ", count: 20_000) + "x") }
        let mapping = (0..<300).map { String(repeating: " ", count: $0) + "k:\n" }.joined()
        assertFails(.unsupportedYAML, "nested deeper") { _ = try YAMLParser.parse(mapping) }
    }

    func testNestingWithinTheLimitStillParses() throws {
        let depth = YAMLParser.maximumDepth
        let value = try YAMLParser.parse(String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
        XCTAssertNotNil(value.arrayValue)
    }

    func testAliasesThatExpandExponentiallyAreRefused() {
        // Each level doubles the tree ("billion laughs"): 2^40 nodes that every later walk would visit.
        var text = "l0: &l0 [x, x]\n"
        for level in 1...40 { text += "l\(level): &l\(level) [*l\(level - 1), *l\(level - 1)]\n" }
        assertFails(.unsupportedYAML, "aliases") { _ = try YAMLParser.parse(text) }
    }

    func testAliasesCannotNestPastTheDepthLimit() {
        // Text nesting stays shallow, but each alias adds the depth of what it names.
        var text = "a0: &a0 [x]\n"
        for level in 1...(YAMLParser.maximumDepth + 5) { text += "a\(level): &a\(level) [*a\(level - 1)]\n" }
        assertFails(.unsupportedYAML, "nested deeper") { _ = try YAMLParser.parse(text) }
    }

    func testYAMLNumbersAtExtremesAreValues() throws {
        let value = try YAMLParser.parse("""
            big: 99999999999999999999
            hex: 0xFFFFFFFFFFFFFFFFFFFF
            sexagesimal: \(String(repeating: "9", count: 400)):59
            min: -9223372036854775808
            float: 1.0e+400
            negative: -0b1000000000000000000000000000000000000000000000000000000000000000
            """)
        XCTAssertEqual(try XCTUnwrap(value["big"]?.doubleValue), 1e20, accuracy: 1e6)
        XCTAssertEqual(value["min"], .int(.min))
        XCTAssertEqual(value["float"], .double(.infinity))
        XCTAssertEqual(value["negative"], .int(.min))
        XCTAssertNil(value["sexagesimal"]?.int64Value)
        XCTAssertNil(value["hex"]?.int64Value)
    }

    // MARK: JSON, messages and records

    func testDeepJSONIsRefused() {
        assertFails(.invalidJSON, "nesting") { _ = try JSONValue(parsing: String(repeating: "[", count: 100_000)) }
        assertFails(.invalidJSON, "nesting") { _ = try JSONValue(parsing: String(repeating: "{\"a\":", count: 100_000)) }
    }

    func testExtremeNumbersInARecordAreErrorsOrValues() throws {
        let record = try Experiment(json: JSONValue(parsing: """
            {"key": "k", "max_duration": 1e400, "time_started": 1e300, "time_finished": NaN,
             "resources_needed": {"cpus": 1e300, "gpus": -1e400, "ram": 99999999999999999999, "hdd": "1e400g",
                                  "gpuMem": "99999999999999999999t", "gpuCount": "-9223372036854775809"}}
            """))
        assertFails(.invalidDuration, "max_duration") { _ = try record.maxDuration }
        assertFails(.invalidField, "cpus") { _ = try record.resourcesNeeded.cpus }
        assertFails(.invalidField, "gpus") { _ = try record.resourcesNeeded.gpus }
        assertFails(.invalidField, "gpuCount") { _ = try record.resourcesNeeded.gpuCount }
        assertFails(.invalidSize, "hdd") { _ = try record.resourcesNeeded.hddBytes }
        assertFails(.invalidSize, "gpuMem") { _ = try record.resourcesNeeded.gpuMemBytes }
        // 1e20 as a JSON integer falls back to a float beyond what a size can be.
        assertFails(.invalidSize, "ram") { _ = try record.resourcesNeeded.ramBytes }
        XCTAssertEqual(record.timeStarted, 1e300)
        XCTAssertTrue(try XCTUnwrap(record.timeFinished).isNaN)
    }

    func testDurationsAndSizesAtExtremesAreErrors() {
        for text in ["9223372036854775807d", "99999999999999999999s", "1e400", "106751991167301d", "-1s", "nan", "٣s"] {
            assertFails(.invalidDuration, "invalid duration") { _ = try StudioDuration(parsing: text) }
        }
        for text in ["1e400", "99999999999999999999t", "9007199254740993g", ".", "nan"] {
            assertFails(.invalidSize, "invalid size") { _ = try ByteSize.parse(text) }
        }
        for value: JSONValue in [.double(.nan), .double(.infinity), .double(-1), .double(9.3e18), .int(-1)] {
            assertFails(.invalidDuration, "d") { _ = try StudioDuration.parse(value, field: "d") }
        }
    }

    func testConfigWithExtremeValuesGivesErrorsOrValues() throws {
        let config = try StudioConfig(json: JSONValue(parsing: """
            {"verbose": 1e300, "sleep_time": -1, "worker_timeout": "nan", "saveWorkspaceFrequency": 1e19,
             "experimentLifetime": "99999999999999999999h"}
            """))
        XCTAssertEqual(config.verbosityLevel, 20)
        assertFails(.invalidField, "sleep_time") { _ = try config.sleepTime }
        assertFails(.invalidDuration, "saveWorkspaceFrequency") { _ = try config.saveWorkspaceFrequency }
        assertFails(.invalidDuration, "experimentLifetime") { _ = try config.experimentLifetime }
        let verbose = try StudioConfig(json: JSONValue(parsing: #"{"verbose": 9223372036854775807}"#))
        XCTAssertEqual(verbose.verbosityLevel, Int.max)
    }
}
