#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto
import Glibc
import StudioModel
import StudioStorage
@testable import StudioWorker
import XCTest

/// Worker pieces that only the integration tests reached before: the run directory layout, the record
/// book's read-modify-write, StudioML's artifact tar and blob rules, and the worker log's lines.
final class WorkerPiecesTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("worker-pieces-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    // MARK: RunLayout

    func testRunLayoutPathsAreStudioMLsAndHostileKeysStayInside() throws {
        let layout = RunLayout(home: directory, key: "1700000000_abc")
        XCTAssertEqual(layout.root, directory + "/experiments/1700000000_abc")
        XCTAssertEqual(layout.modelDirectory, layout.root + "/modeldir")
        XCTAssertEqual(layout.workspace, layout.root + "/workspace")
        XCTAssertEqual(layout.outputFile, layout.root + "/output")
        XCTAssertEqual(layout.artifactMapping, directory + "/artifact_mappings/1700000000_abc/artifacts.json")
        for key in ["../../etc", "a/b", ".hidden", "", "x\u{0}y"] {
            let hostile = RunLayout(home: directory, key: key)
            let name = String(hostile.root.dropFirst((directory + "/experiments/").count))
            XCTAssertFalse(name.contains("/"), "\(key) → \(name)")
            XCTAssertFalse(name.hasPrefix("."), "\(key) → \(name)")
            XCTAssertFalse(name.isEmpty)
            XCTAssertFalse(hostile.path(for: "../up").dropFirst(hostile.root.count + 1).contains("/"))
        }
        try layout.prepare()
        for made in [layout.root, layout.modelDirectory, layout.blobCache, layout.artifactMappingDirectory] {
            var isDirectory: ObjCBool = false
            XCTAssertTrue(FileManager.default.fileExists(atPath: made, isDirectory: &isDirectory) && isDirectory.boolValue, made)
        }
    }

    // MARK: RecordBook

    func testRecordBookUpdatesOnlyWhatItChangesAndKeepsUnknownFields() async throws {
        let book = RecordBook(store: LocalObjectStore(root: directory + "/db"))
        var experiment = Experiment(key: "k1", filename: "train.py", timeAdded: 1_700_000_000)
        experiment.json["someone_elses_field"] = .string("kept")
        try await book.write(experiment)
        try await book.update("k1") { $0.status = .running }
        let stored = try await book.read("k1")
        XCTAssertEqual(stored?.status, .running)
        XCTAssertEqual(stored?.json["someone_elses_field"]?.stringValue, "kept")
        XCTAssertEqual(stored?.json["filename"]?.stringValue, "train.py")
        let missing = try await book.read("nobody")
        XCTAssertNil(missing)
        do {
            try await book.update("nobody") { $0.status = .failed }
            XCTFail("updating a record that is not there must throw")
        } catch let error as WorkerError {
            XCTAssertTrue("\(error)".contains("experiments/nobody"), "\(error)")
        }
    }

    // MARK: ArtifactPacking

    func testContentAddressedKeysAndSuffixes() {
        let hash = String(repeating: "ab", count: 32)
        XCTAssertEqual(ArtifactPacking.contentHash("blobstore/\(hash).tar"), hash)
        XCTAssertEqual(ArtifactPacking.contentHash("blobstore/\(hash.uppercased()).tar.gz"), hash)
        XCTAssertNil(ArtifactPacking.contentHash("blobstore/\(hash)"))
        XCTAssertNil(ArtifactPacking.contentHash("blobstore/abc.tar"))
        XCTAssertNil(ArtifactPacking.contentHash("experiments/k/\(hash).tar"))
        XCTAssertNil(ArtifactPacking.contentHash("blobstore/\(String(repeating: "zz", count: 32)).tar"))
        XCTAssertTrue(ArtifactPacking.isContentAddressed("blobstore/\(hash).tar"))
        XCTAssertEqual(ArtifactPacking.extensionSuffix(nil), "")
        XCTAssertEqual(ArtifactPacking.extensionSuffix("gzip"), ".gz")
    }

    func testABlobWithTheBytesItsNamePromisesPassesAndAnyOtherFails() throws {
        let path = directory + "/blob"
        let bytes = Array("the archive's bytes".utf8)
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let hash = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        XCTAssertNoThrow(try ArtifactPacking.verifyBlob(path, key: "blobstore/\(hash).tar"))
        XCTAssertNoThrow(try ArtifactPacking.verifyBlob(path, key: "experiments/k/output.tar"))
        let other = String(repeating: "0", count: 64)
        XCTAssertThrowsError(try ArtifactPacking.verifyBlob(path, key: "blobstore/\(other).tar")) { error in
            XCTAssertTrue("\(error)".contains("corrupt or truncated"), "\(error)")
        }
        XCTAssertThrowsError(try ArtifactPacking.verifyBlob(directory + "/absent", key: "blobstore/\(hash).tar"))
    }

    func testADirectoryAndASingleFileRoundTripThroughTheArtifactTar() throws {
        let source = directory + "/model"
        try FileManager.default.createDirectory(atPath: source + "/sub", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: source + "/sub/weights", contents: Data("w".utf8))
        try ArtifactPacking.pack(source, toTar: directory + "/model.tar", compression: nil)
        try ArtifactPacking.unpack(tar: directory + "/model.tar", into: directory + "/restored")
        XCTAssertEqual(FileManager.default.contents(atPath: directory + "/restored/sub/weights"), Data("w".utf8))

        FileManager.default.createFile(atPath: directory + "/single", contents: Data("one".utf8))
        try ArtifactPacking.pack(directory + "/single", toTar: directory + "/single.tar.gz", compression: "gzip")
        try ArtifactPacking.unpack(tar: directory + "/single.tar.gz", into: directory + "/single-restored")
        XCTAssertEqual(FileManager.default.contents(atPath: directory + "/single-restored"), Data("one".utf8))
    }

    // MARK: WorkerLog

    func testTextAndJSONLinesCarryLevelMessageAndSortedFields() throws {
        let text = try capturedStandardError {
            let log = WorkerLog(format: .text, level: .info).with(["experiment": "k1"])
            log.debug("hidden below the level")
            log.info("received", ["message": "m 1"])
        }
        XCTAssertFalse(text.contains("hidden"))
        let line = try XCTUnwrap(text.split(separator: "\n").last)
        XCTAssertTrue(line.hasSuffix(" info studio: received experiment=k1 message=m 1"), String(line))

        let json = try capturedStandardError {
            WorkerLog(format: .json, level: .debug).with(["b": "2"]).warning("quote \" and\nnewline", ["a": "1"])
        }
        let object = try JSONValue(parsing: Data(json.utf8))
        XCTAssertEqual(object["level"]?.stringValue, "warning")
        XCTAssertEqual(object["msg"]?.stringValue, "quote \" and\nnewline")
        XCTAssertEqual(object["a"]?.stringValue, "1")
        XCTAssertEqual(object["b"]?.stringValue, "2")
        XCTAssertTrue(object["time"]?.stringValue?.hasSuffix("Z") ?? false, json)
        XCTAssertEqual(json.filter { $0 == "\n" }.count, 1, "one JSON object a line")
    }

    /// What `body` writes to stderr (fd 2 pointed at a file meanwhile).
    private func capturedStandardError(_ body: () -> Void) throws -> String {
        let path = directory + "/stderr-\(UUID().uuidString)"
        let file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let saved = dup(STDERR_FILENO)
        guard file >= 0, saved >= 0 else { throw WorkerError("cannot redirect stderr to \(path)") }
        dup2(file, STDERR_FILENO)
        body()
        dup2(saved, STDERR_FILENO)
        close(saved)
        close(file)
        return String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    }
}
