import XCTest
@testable import StudioModel

final class StudioConfigTests: XCTestCase {
    private var tempDirectory: URL!

    override func setUpWithError() throws {
        tempDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("StudioConfigTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tempDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: tempDirectory)
    }

    private func write(_ name: String, _ text: String) throws -> String {
        let url = tempDirectory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testSampleConfigLoadsFromAFile() throws {
        let path = try write("config.yaml", Samples.config)
        let config = try StudioConfig.load(path: path, environment: [:])
        XCTAssertEqual(config.database.type, "s3")
        XCTAssertEqual(config.database.bucket, "studioml-meta")
        XCTAssertEqual(config.database.endpoint, "http://127.0.0.1:PORT")
        XCTAssertEqual(config.database.credentialsJSON, ["aws": ["access_key": "testing", "secret_access_key": "testing"]])
        XCTAssertEqual(config.database.json["authentication"], "none")
        XCTAssertEqual(config.storage.bucket, "studioml-artifacts")
        XCTAssertNil(config.storage.compression)
        XCTAssertEqual(try config.resourcesNeeded.ramBytes, 1_073_741_824)
        XCTAssertEqual(config.resourcesNeeded.json["ram"], "1g")
        XCTAssertEqual(try config.resourcesNeeded.cpus, 1)
        XCTAssertEqual(try config.resourcesNeeded.gpus, 0)
        XCTAssertEqual(try config.saveWorkspaceFrequency.seconds, 60)
        XCTAssertEqual(try config.saveMetricsFrequency.wholeMinutes, 1)
        XCTAssertNil(try config.experimentLifetime)
        XCTAssertEqual(try config.sleepTime, 1)
        XCTAssertEqual(try config.workerTimeout, 30)
        XCTAssertEqual(config.verbose, "debug")
        XCTAssertEqual(config.verbosityLevel, 10)
        XCTAssertEqual(config.queueCredentials, ["access_key": "testing", "secret_access_key": "testing", "region": "us-east-1"])
        XCTAssertEqual(config.env, [:])
    }

    func testSampleConfigEqualsTheMessageConfig() throws {
        let fromYAML = try StudioConfig(text: Samples.config.replacingOccurrences(of: "PORT", with: "5125"), environment: [:])
        let fromMessage = try StudioMessage(parsing: Samples.message).configJSON
        XCTAssertTrue(JSONValue.object(fromYAML.source).isIdentical(to: .object(fromMessage)))
    }

    func testMergeOverDefaults() throws {
        let config = try StudioConfig(text: "database:\n  bucket: my-meta\n", environment: [:])
        XCTAssertEqual(config.database.type, "local")
        XCTAssertEqual(config.database.bucket, "my-meta")
        XCTAssertEqual(config.storage.type, "local")
        XCTAssertEqual(try config.resourcesNeeded.cpus, 1)
        XCTAssertEqual(try config.resourcesNeeded.ramBytes, 1_073_741_824)
        XCTAssertEqual(try config.resourcesNeeded.hddBytes, 1_073_741_824)
        XCTAssertEqual(try config.resourcesNeeded.gpus, 0)
        XCTAssertEqual(try config.saveWorkspaceFrequency.seconds, 60)
        XCTAssertEqual(try config.saveMetricsFrequency.seconds, 60)
        XCTAssertNil(try config.experimentLifetime)
        XCTAssertEqual(try config.sleepTime, 1)
        XCTAssertEqual(try config.workerTimeout, 30)
        XCTAssertEqual(config.verbose, "info")
        XCTAssertEqual(config.verbosityLevel, 20)
        XCTAssertEqual(config.env, [:])
        XCTAssertNil(config.queueCredentials)
        XCTAssertEqual(config.source, ["database": ["bucket": "my-meta"]])
    }

    func testPartialSectionsMergeKeyByKey() throws {
        let config = try StudioConfig(text: "resources_needed:\n  gpus: 2\n  ram: 3g\nexperimentLifetime: 2h\n", environment: [:])
        XCTAssertEqual(try config.resourcesNeeded.gpus, 2)
        XCTAssertEqual(try config.resourcesNeeded.ramBytes, 3 * 1_073_741_824)
        XCTAssertEqual(try config.resourcesNeeded.cpus, 1)
        XCTAssertEqual(try config.experimentLifetime?.seconds, 7200)
    }

    func testStorageFollowsDatabaseWhenAbsent() throws {
        let config = try StudioConfig(text: "database:\n  type: s3\n  bucket: meta\n  endpoint: http://h:1\n", environment: [:])
        XCTAssertEqual(config.storage.type, "s3")
        XCTAssertEqual(config.storage.bucket, "meta")
        let both = try StudioConfig(text: "database: {type: s3, bucket: meta}\nstorage: {type: s3, bucket: art}\n", environment: [:])
        XCTAssertEqual(both.storage.bucket, "art")
    }

    func testEmptySectionsAndEmptyFileMeanDefaults() throws {
        XCTAssertEqual(try StudioConfig(text: "", environment: [:]).database.type, "local")
        XCTAssertEqual(try StudioConfig(text: "storage:\nenv:\n", environment: [:]).storage.type, "local")
    }

    func testVariableExpansionLikeExpandvars() throws {
        let env = ["HOME": "/home/u", "BUCKET": "b1", "EMPTY": "", "A_1": "x"]
        let cases: [(String, String)] = [
            ("$HOME/.studioml", "/home/u/.studioml"), ("${BUCKET}-meta", "b1-meta"), ("$UNSET/x", "$UNSET/x"),
            ("${UNSET}", "${UNSET}"), ("[$EMPTY]", "[]"), ("$A_1$A_1", "xx"), ("cost: 5$", "cost: 5$"),
            ("$", "$"), ("${", "${"), ("${BUCKET", "${BUCKET"), ("$$HOME", "$/home/u"), ("$HOME-x", "/home/u-x"),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(StudioConfig.expandVariables(in: text, environment: env), expected, text)
        }
        let config = try StudioConfig(text: """
            database:
              bucket: ${BUCKET}
              endpoint: $ENDPOINT
              credentials: {aws: {access_key: $KEY}}
            env:
              PATHS: [$HOME]
            $HOME: key not expanded
            """, environment: ["BUCKET": "b2", "ENDPOINT": "http://e:9", "KEY": "AK", "HOME": "/h"])
        XCTAssertEqual(config.database.bucket, "b2")
        XCTAssertEqual(config.database.endpoint, "http://e:9")
        XCTAssertEqual(config.database.credentialsJSON?["aws"]?["access_key"], "AK")
        XCTAssertEqual(config.json["env"]?["PATHS"], ["/h"])
        XCTAssertEqual(config.json["$HOME"], "key not expanded")
    }

    func testEnvValuesAreStrings() throws {
        let config = try StudioConfig(text: "env:\n  A: 1\n  B: yes\n  C: 1.5\n  D: text\n  E:\n", environment: [:])
        XCTAssertEqual(config.env, ["A": "1", "B": "true", "C": "1.5", "D": "text", "E": ""])
    }

    func testJSONConfigFile() throws {
        let path = try write("config.json", #"{"database": {"type": "s3", "bucket": "j"}, "sleep_time": 0.5}"#)
        let config = try StudioConfig.load(path: path, environment: [:])
        XCTAssertEqual(config.database.bucket, "j")
        XCTAssertEqual(try config.sleepTime, 0.5)
        // JSON content is recognised without the extension too.
        let other = try write("config.conf", #"{"verbose": 30}"#)
        XCTAssertEqual(try StudioConfig.load(path: other, environment: [:]).verbosityLevel, 30)
    }

    func testErrorsNameTheFileAndLine() throws {
        let path = try write("bad.yaml", "database:\n  type: s3\n bucket: x\n")
        XCTAssertThrowsError(try StudioConfig.load(path: path, environment: [:])) { error in
            let e = error as? ModelError
            XCTAssertEqual(e?.line, 3)
            XCTAssertTrue("\(error)".contains("config file \(path)"), "\(error)")
        }
        XCTAssertThrowsError(try StudioConfig.load(path: tempDirectory.path + "/missing.yaml", environment: [:])) { error in
            XCTAssertEqual((error as? ModelError)?.kind, .unreadableFile)
        }
    }

    func testWrongTypesAreClearErrors() throws {
        XCTAssertThrowsError(try StudioConfig(text: "- a\n- b\n", environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("must be a mapping"), "\(error)")
        }
        XCTAssertThrowsError(try StudioConfig(text: "database: s3\n", environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("'database' must be a mapping"), "\(error)")
        }
        let config = try StudioConfig(text: "saveWorkspaceFrequency: often\nsleep_time: soon\n", environment: [:])
        XCTAssertThrowsError(try config.saveWorkspaceFrequency) { error in
            XCTAssertTrue("\(error)".contains("saveWorkspaceFrequency: invalid duration 'often'"), "\(error)")
        }
        XCTAssertThrowsError(try config.sleepTime)
    }

    func testStoreConfigDescriptionRedactsCredentials() throws {
        let config = try StudioConfig(text: Samples.config, environment: [:])
        let text = "\(config.database) \(String(reflecting: config.storage))"
        XCTAssertFalse(text.contains("testing"), text)
        XCTAssertTrue(text.contains("credentials=<redacted>"), text)
        XCTAssertTrue(text.contains("bucket=studioml-meta"), text)
    }

    func testCompressionAndType() {
        XCTAssertEqual(StoreConfig(json: ["type": "S3", "compression": "GZIP"]).compression, "gzip")
        XCTAssertEqual(StoreConfig(json: ["type": "S3"]).type, "s3")
        XCTAssertNil(StoreConfig(json: ["compression": "none"]).compression)
    }
}
