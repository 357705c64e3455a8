import XCTest
@testable import StudioModel

final class StudioMessageTests: XCTestCase {
    func testSampleMessageRoundTripsWithEveryFieldIntact() throws {
        let original = try JSONValue(parsing: Samples.message)
        let message = try StudioMessage(parsing: Samples.message)
        let written = message.jsonData()
        let reparsed = try JSONValue(parsing: written)
        XCTAssertTrue(reparsed.isIdentical(to: original))
        // Python's json.dumps(json.loads(sample)) gives these exact bytes at the start.
        let text = String(decoding: written, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix(#"{"experiment": {"key": "1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5", "args": ["arg1", "arg2"], "filename": "hello.py""#), text)
        XCTAssertTrue(text.contains(#""time_added": 1795900279.7312746, "time_started": null, "time_last_checkpoint": 1795900279.793286"#))
        XCTAssertTrue(text.hasSuffix(#""sleep_time": 1, "worker_timeout": 30}}"#), text)
    }

    func testUnknownFieldsSurvive() throws {
        var tree = try JSONValue(parsing: Samples.message)
        tree["future_top_level"] = ["v": 2]
        tree["experiment"]?["new_field"] = [1.0, 2]
        tree["config"]?["new_section"] = ["a": "b"]
        let message = try StudioMessage(json: tree)
        let round = try JSONValue(parsing: message.jsonData(.compact))
        XCTAssertTrue(round.isIdentical(to: tree))
        XCTAssertEqual(round["experiment"]?["new_field"], [1.0, 2])
    }

    func testModifiedExperimentIsWritten() throws {
        var message = try StudioMessage(parsing: Samples.message)
        message.experiment.status = .running
        let round = try StudioMessage(parsing: message.jsonData())
        XCTAssertEqual(round.experiment.status, .running)
        XCTAssertEqual(round.json.keys, ["experiment", "config"])
    }

    func testConfigPartIsTypedAndMerged() throws {
        let config = try StudioMessage(parsing: Samples.message).config
        XCTAssertEqual(config.database.type, "s3")
        XCTAssertEqual(config.database.bucket, "studioml-meta")
        XCTAssertEqual(config.storage.bucket, "studioml-artifacts")
        XCTAssertEqual(config.storage.endpoint, "http://127.0.0.1:5125")
        XCTAssertEqual(config.verbose, "debug")
        XCTAssertEqual(config.env, [:])
    }

    func testEncryptedMessageIsRejected() {
        let body = #"{"message": {"experiment": {"status": "waiting", "pythonver": "3.11"}, "time_added": 1.5, "experiment_lifetime": null, "resources_needed": {}, "payload": "abc,def", "signature": "sig", "fingerprint": "SHA256:x"}}"#
        XCTAssertThrowsError(try StudioMessage(parsing: body)) { error in
            XCTAssertEqual((error as? ModelError)?.kind, .encryptedMessage)
            XCTAssertTrue("\(error)".hasPrefix("encrypted StudioML messages are not supported"), "\(error)")
        }
    }

    func testMalformedMessages() {
        let cases: [(String, String)] = [
            ("[]", "must be a JSON object"),
            (#"{"config": {}}"#, "no 'experiment'"),
            (#"{"experiment": {"args": []}, "config": {}}"#, "no 'key'"),
            (#"{"experiment": {"key": "k"}, "config": 5}"#, "'config' must be an object"),
            (#"{"experiment": {"key": "k"},"#, "invalid JSON"),
        ]
        for (body, fragment) in cases {
            XCTAssertThrowsError(try StudioMessage(parsing: body), body) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(error)")
            }
        }
    }

    func testMissingConfigMeansDefaults() throws {
        let message = try StudioMessage(parsing: #"{"experiment": {"key": "k"}}"#)
        XCTAssertEqual(try message.config.database.type, "local")
    }

    func testBuildingAMessage() throws {
        let experiment = try Experiment(json: ["key": "k"])
        let message = StudioMessage(experiment: experiment, config: ["database": ["type": "s3"]])
        XCTAssertEqual(String(decoding: message.jsonData(), as: UTF8.self),
                       #"{"experiment": {"key": "k"}, "config": {"database": {"type": "s3"}}}"#)
    }
}

final class SamplesTests: XCTestCase {
    func testEmbeddedSamplesMatchSharedCopies() throws {
        for (name, embedded) in [("studio-message.json", Samples.message), ("studio-config.yaml", Samples.config)] {
            let path = Samples.sharedDirectory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            XCTAssertEqual(String(decoding: data, as: UTF8.self), embedded + "\n", name)
        }
    }
}
