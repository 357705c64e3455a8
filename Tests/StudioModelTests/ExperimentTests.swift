import XCTest
@testable import StudioModel

final class ExperimentTests: XCTestCase {
    private func sampleExperiment() throws -> Experiment {
        try StudioMessage(parsing: Samples.message).experiment
    }

    func testSampleFieldsAreTyped() throws {
        let e = try sampleExperiment()
        XCTAssertEqual(e.key, "1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5")
        XCTAssertEqual(e.args, ["arg1", "arg2"])
        XCTAssertEqual(e.filename, "hello.py")
        XCTAssertEqual(e.pythonenv.count, 9)
        XCTAssertEqual(e.pythonenv.first, "boto3==1.44.8")
        XCTAssertEqual(e.pythonver, "3.11")
        XCTAssertNil(e.project)
        XCTAssertEqual(e.status, .waiting)
        XCTAssertEqual(e.timeAdded, 1795900279.7312746)
        XCTAssertNil(e.timeStarted)
        XCTAssertEqual(e.timeLastCheckpoint, 1795900279.793286)
        XCTAssertNil(e.timeFinished)
        XCTAssertEqual(e.info, [:])
        XCTAssertEqual(e.git, .null)
        XCTAssertNil(e.metric)
        XCTAssertNil(try e.maxDuration)
        XCTAssertEqual(e.owner, "guest")
        XCTAssertFalse(e.fromCompletionService)
        XCTAssertEqual(try e.resourcesNeeded.gpus, 0)
        XCTAssertEqual(try e.resourcesNeeded.cpus, 1)
        XCTAssertEqual(try e.resourcesNeeded.ramBytes, 1_073_741_824)
        XCTAssertEqual(try e.resourcesNeeded.hddBytes, 1_073_741_824)
        XCTAssertNil(try e.resourcesNeeded.gpuMemBytes)
        XCTAssertEqual(e.orderedArtifacts.map(\.tag), ["workspace", "modeldir", "retval", "output", "tb", "_metrics", "_metadata"])
        XCTAssertEqual(e.artifacts.count, 7)
        XCTAssertEqual(e.artifact("workspace")?.mutable, false)
        XCTAssertEqual(e.artifact("output")?.key, "experiments/\(e.key)/output.tar")
    }

    func testMissingFieldsGetDefaults() throws {
        let e = try Experiment(json: ["key": "k1"])
        XCTAssertEqual(e.args, [])
        XCTAssertEqual(e.filename, "")
        XCTAssertEqual(e.pythonenv, [])
        XCTAssertEqual(e.status, .waiting)
        XCTAssertNil(e.timeAdded)
        XCTAssertEqual(e.info, [:])
        XCTAssertTrue(e.orderedArtifacts.isEmpty)
        XCTAssertNil(try e.resourcesNeeded.gpus)
    }

    func testFieldsTheWorkerNeedsAreChecked() {
        let cases: [(JSONValue, String)] = [
            (["args": []], "no 'key'"),
            (["key": 5], "'key' must be a non-empty string"),
            (["key": ""], "'key' must be a non-empty string"),
            (["key": "a/b"], "must not contain '/'"),
            (["key": "k", "args": "a b"], "'args' must be a list of strings"),
            (["key": "k", "args": [1]], "'args' must be a list of strings"),
            (["key": "k", "filename": ["x"]], "'filename' must be a string"),
            (["key": "k", "artifacts": ["ws": "x"]], "'artifacts.ws' must be an object"),
            (["key": "k", "artifacts": []], "'artifacts' must be an object"),
            ([1], "must be a JSON object"),
        ]
        for (json, fragment) in cases {
            XCTAssertThrowsError(try Experiment(json: json), "\(json)") { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(error)")
            }
        }
    }

    func testWrongTypesElsewhereAreTolerated() throws {
        let e = try Experiment(json: ["key": "k", "status": 3, "time_added": "soon", "info": [], "owner": 1, "pythonver": 3.11])
        XCTAssertEqual(e.status, .waiting)
        XCTAssertNil(e.timeAdded)
        XCTAssertEqual(e.info, [:])
        XCTAssertNil(e.owner)
        XCTAssertEqual(e.pythonver, "3.11")
    }

    func testStatusesIncludingUnknownOnes() throws {
        var e = try Experiment(json: ["key": "k", "status": "paused_by_ui"])
        XCTAssertEqual(e.status, .other("paused_by_ui"))
        XCTAssertEqual(e.status.rawValue, "paused_by_ui")
        for status in [ExperimentStatus.waiting, .running, .finished, .failed, .stopped] {
            e.status = status
            XCTAssertEqual(e.json["status"]?.stringValue, status.rawValue)
            XCTAssertEqual(ExperimentStatus(rawValue: status.rawValue), status)
        }
    }

    func testMaxDuration() throws {
        XCTAssertEqual(try Experiment(json: ["key": "k", "max_duration": "48h2m10s"]).maxDuration?.seconds, 172_930)
        XCTAssertEqual(try Experiment(json: ["key": "k", "max_duration": "25s"]).maxDurationText, "25s")
        XCTAssertThrowsError(try Experiment(json: ["key": "k", "max_duration": "soon"]).maxDuration) { error in
            XCTAssertTrue("\(error)".contains("experiment.max_duration: invalid duration 'soon'"), "\(error)")
        }
    }

    func testTimesAreWrittenAsFloats() throws {
        var e = try sampleExperiment()
        e.timeStarted = 1795900300
        e.timeFinished = 1795900301.25
        XCTAssertEqual(e.json["time_started"], .double(1795900300))
        let text = String(decoding: e.jsonData(.compact), as: UTF8.self)
        XCTAssertTrue(text.contains(#""time_added":1795900279.7312746"#), text)
        XCTAssertTrue(text.contains(#""time_started":1795900300.0"#), text)
        XCTAssertTrue(text.contains(#""time_finished":1795900301.25"#), text)
        e.timeFinished = nil
        XCTAssertEqual(e.json["time_finished"], .null)
    }

    func testRecordReadModifyWriteKeepsUnknownFields() throws {
        var stored = try sampleExperiment()
        stored.json["ui_annotation"] = ["color": "red", "pinned": true]
        stored.info = ["set_by_ui": "yes"]
        let storedBytes = stored.jsonData(.compact)

        // The worker reads the record, changes what it owns, writes it back.
        var record = try Experiment(parsing: storedBytes)
        record.status = .running
        record.timeStarted = 1795900290.5
        let written = try Experiment(parsing: record.jsonData(.compact))
        XCTAssertEqual(written.json["ui_annotation"], ["color": "red", "pinned": true])
        XCTAssertEqual(written.info, ["set_by_ui": "yes"])
        XCTAssertEqual(written.status, .running)
        XCTAssertEqual(written.json.keys, stored.json.keys)
        var expected = stored
        expected.json["status"] = "running"
        expected.json["time_started"] = .double(1795900290.5)
        XCTAssertTrue(JSONValue.object(written.json).isIdentical(to: .object(expected.json)))
    }

    func testMergingOwnedFieldsKeepsEverythingElseStored() throws {
        let original = try sampleExperiment()
        var mine = original
        mine.status = .finished
        mine.timeFinished = 1795900400.5
        mine.info = ["exit_code": 0, "stale": "mine"]
        mine.json["owner"] = "someone-else"

        // Meanwhile someone else changed the stored record.
        var stored = original
        stored.status = .stopped
        stored.info = ["stale": "theirs", "note": "from the UI"]
        stored.json["extra"] = [1, 2]

        let merged = stored.merging(ownedFields: [.status, .timeFinished, .infoKey("exit_code")], from: mine)
        XCTAssertEqual(merged.status, .finished)
        XCTAssertEqual(merged.timeFinished, 1795900400.5)
        XCTAssertEqual(merged.info, ["stale": "theirs", "note": "from the UI", "exit_code": 0])
        XCTAssertEqual(merged.owner, "guest")
        XCTAssertEqual(merged.json["extra"], [1, 2])
        XCTAssertEqual(merged.json.keys, stored.json.keys)

        var withoutField = mine
        withoutField.json["time_finished"] = nil
        XCTAssertFalse(stored.merging(ownedFields: [.timeFinished], from: withoutField).json.contains("time_finished"))
    }

    func testKeyGeneration() {
        let key = Experiment.generateKey(now: 1795900279.9)
        let parts = key.split(separator: "_", maxSplits: 1).map(String.init)
        XCTAssertEqual(parts[0], "1795900279")
        XCTAssertEqual(parts[1].count, 36)
        XCTAssertEqual(parts[1], parts[1].lowercased())
        let uuid = Array(parts[1])
        XCTAssertEqual(uuid[14], "4", "uuid4 version nibble")
        XCTAssertTrue("89ab".contains(uuid[19]), "uuid4 variant")
        XCTAssertNotEqual(Experiment.generateKey(), Experiment.generateKey())
    }

    func testNewExperimentHasStudioMLFieldOrder() throws {
        let key = "1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5"
        let sample = try sampleExperiment()
        let e = Experiment(key: key, filename: "hello.py", args: ["arg1", "arg2"], pythonenv: sample.pythonenv,
                           pythonver: "3.11", timeAdded: 1795900279.7312746, artifacts: sample.orderedArtifacts)
        var expected = sample.json
        expected["time_last_checkpoint"] = .double(1795900279.7312746)
        XCTAssertTrue(JSONValue.object(e.json).isIdentical(to: .object(expected)),
                      "\(e.json.keys) vs \(expected.keys)")
    }

    func testArtifactsCanBeReplacedAndAdded() throws {
        var e = try sampleExperiment()
        var output = e.artifact("output")!
        output.local = "/worker/home/experiments/\(e.key)/output"
        e.setArtifact(output, for: "output")
        e.setArtifact(Artifact(mutable: true, key: "experiments/\(e.key)/extra.tar"), for: "extra")
        XCTAssertEqual(e.orderedArtifacts.map(\.tag).suffix(2), ["_metadata", "extra"])
        XCTAssertEqual(e.artifact("output")?.local, "/worker/home/experiments/\(e.key)/output")
        e.setArtifact(nil, for: "extra")
        XCTAssertNil(e.artifact("extra"))
    }
}
