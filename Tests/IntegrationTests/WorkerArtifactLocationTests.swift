import Foundation
import Glibc
import StudioInit
import XCTest

/// Artifacts that name their own location: an experiment whose workspace is in its own (local) store, with
/// extra artifacts in another GCS bucket (gcp-storage-emulator), another S3 bucket (moto) and at an http URL
/// (`python3 -m http.server`), and a mutable artifact written to a `gs://` location.
final class WorkerArtifactLocationTests: XCTestCase {
    private var fixture: WorkerFixture!
    private var directory: TemporaryDirectory!
    private var moto: MotoServer?
    private var helpers: [SupervisedRun] = []
    private var storageHost = ""
    private var httpPort = 0

    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts").path

    override func setUp() async throws {
        try await super.setUp()
        fixture = try WorkerFixture()
        directory = try TemporaryDirectory()
        // Spawning starts the supervisor's waiter; it does not take on init duties in the test process.
        let gcs = try SupervisedRun(["/usr/bin/env", "python3", Self.scripts + "/gcs-emulator.py", "--port-file", directory.file("gcs-port")],
                                    in: directory)
        helpers.append(gcs)
        guard eventually(timeout: 20, { directory.read("gcs-port").flatMap { Int($0) } != nil }) else {
            throw XCTSkip("gcs-emulator.py did not start: \(gcs.standardError)")
        }
        storageHost = "127.0.0.1:" + directory.read("gcs-port")!
        guard eventually(timeout: 30, { LoopbackPort.accepts(Int(self.storageHost.split(separator: ":")[1])!) }) else {
            throw XCTSkip("gcp-storage-emulator did not answer (pip install gcp-storage-emulator)")
        }
        moto = try MotoServer(in: directory)
        httpPort = try LoopbackPort.free()
        try FileManager.default.createDirectory(atPath: directory.file("site"), withIntermediateDirectories: true)
        helpers.append(try SupervisedRun(["/usr/bin/env", "python3", "-m", "http.server", "--bind", "127.0.0.1",
                                          "--directory", directory.file("site"), String(httpPort)], in: directory))
        guard eventually(timeout: 20, { LoopbackPort.accepts(self.httpPort) }) else {
            XCTFail("python3 -m http.server did not listen on port \(httpPort)")
            throw POSIXError(.ETIMEDOUT)
        }
        fixture.environment["STORAGE_EMULATOR_HOST"] = "http://" + storageHost
        fixture.environment["GOOGLE_CLOUD_PROJECT"] = "studio-emulator"
        for name in fixture.environment.keys where name.hasPrefix("AWS_") || name.hasPrefix("GOOGLE_APPLICATION") {
            fixture.environment.removeValue(forKey: name)
        }
        fixture.environment["AWS_EC2_METADATA_DISABLED"] = "true"
    }

    override func tearDown() async throws {
        fixture?.tearDown()
        await moto?.stop()
        for helper in helpers {
            kill(helper.pid, SIGKILL)
            _ = await helper.wait(timeout: 10)
        }
        directory?.remove()
        try await super.tearDown()
    }

    /// Runs a Python helper (with the emulators' addresses as arguments), failing the test when it fails.
    @discardableResult
    private func python(_ script: String, _ arguments: [String] = []) throws -> String {
        let result = try fixture.run(["python3", "-c", script] + arguments, executable: nil)
        XCTAssertEqual(result.code, 0, result.stderrText)
        return result.stdoutText
    }

    /// Puts three tars in place: `gs://other-bucket/sets/gcs.tar` (g.txt), `s3://…/other-bucket/sets/s3.tar`
    /// (s.txt), and `site/data.tar` (h.txt, sub/h2.txt) for the http server.
    private func publishTars() throws {
        try python("""
            import io, json, sys, tarfile, urllib.request, boto3
            gcs, s3, site = sys.argv[1], sys.argv[2], sys.argv[3]
            def tar(files):
                buffer = io.BytesIO()
                with tarfile.open(fileobj=buffer, mode='w') as archive:
                    for name, text in files.items():
                        data = text.encode()
                        info = tarfile.TarInfo(name); info.size = len(data)
                        archive.addfile(info, io.BytesIO(data))
                return buffer.getvalue()
            def call(method, url, body, kind):
                request = urllib.request.Request(url, data=body, method=method, headers={'Content-Type': kind})
                urllib.request.urlopen(request).read()
            call('POST', gcs + '/storage/v1/b?project=studio-emulator', json.dumps({'name': 'other-bucket'}).encode(), 'application/json')
            call('POST', gcs + '/upload/storage/v1/b/other-bucket/o?uploadType=media&name=sets%2Fgcs.tar',
                 tar({'g.txt': 'from gcs'}), 'application/octet-stream')
            client = boto3.client('s3', endpoint_url=s3, aws_access_key_id='testing', aws_secret_access_key='testing', region_name='us-east-1')
            client.create_bucket(Bucket='other-bucket')
            client.put_object(Bucket='other-bucket', Key='sets/s3.tar', Body=tar({'s.txt': 'from s3'}))
            open(site + '/data.tar', 'wb').write(tar({'h.txt': 'from http', 'sub/h2.txt': 'nested'}))
            """, ["http://" + storageHost, moto!.endpoint, directory.file("site")])
    }

    /// Adds `artifacts` (tag → entry) to the stored record of `key` (the worker reads the record, not the message).
    private func addArtifacts(_ key: String, _ artifacts: [String: Any]) throws {
        let path = fixture.storePath("experiments/" + key)
        var record = try XCTUnwrap(fixture.record(key))
        var existing = record["artifacts"] as? [String: Any] ?? [:]
        for (tag, entry) in artifacts { existing[tag] = entry }
        record["artifacts"] = existing
        try JSONSerialization.data(withJSONObject: record).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    func testArtifactsFromOtherBucketsAndURLsAreFetchedAndAMutableOneGoesToItsOwnBucket() throws {
        try publishTars()
        try fixture.write("check.py", """
            import json, os, sys, tarfile
            mapping = json.load(open(os.environ['STUDIOML_ARTIFACT_MAPPING']))
            def read(tag, name):
                return open(os.path.join(mapping[tag], name)).read()
            assert read('workspace', 'check.py').startswith('import json'), 'workspace'
            assert read('gdata', 'g.txt') == 'from gcs', 'gdata'
            assert read('sdata', 's.txt') == 'from s3', 'sdata'
            # StudioML keeps an http(s) download as the file it is, named by the URL's last segment.
            assert os.path.basename(mapping['hdata']) == 'data.tar', mapping['hdata']
            assert sorted(tarfile.open(mapping['hdata']).getnames()) == ['h.txt', 'sub/h2.txt'], 'hdata'
            os.makedirs(mapping['results'], exist_ok=True)
            open(os.path.join(mapping['results'], 'score.txt'), 'w').write('0.97')
            print('all artifacts seen')
            """)
        let key = try fixture.submit(["check.py"])
        try addArtifacts(key, [
            "gdata": ["unpack": true, "mutable": false, "qualified": "gs://other-bucket/sets/gcs.tar"],
            "sdata": ["unpack": true, "mutable": false, "qualified": "s3://127.0.0.1:\(moto!.port)/other-bucket/sets/s3.tar",
                      "credentials": ["aws": ["access_key": "testing", "secret_access_key": "testing"]]],
            "hdata": ["unpack": true, "mutable": false, "url": "http://127.0.0.1:\(httpPort)/data.tar"],
            "results": ["unpack": true, "mutable": true, "qualified": "gs://other-bucket/out/results.tar"],
        ])
        let worker = try fixture.work(within: 120)
        XCTAssertEqual(worker.code, 0, worker.stderrText)
        XCTAssertEqual(fixture.status(key), "finished", "\(fixture.info(key)); \(worker.stderrText)")
        XCTAssertEqual(try fixture.fileArtifact(key, "output"), Data("all artifacts seen\n".utf8))
        XCTAssertFalse(worker.stderrText.contains("cannot fetch"), worker.stderrText)
        // The mutable artifact is in its own bucket, not in the experiment's store.
        let uploaded = try python("""
            import io, sys, tarfile, urllib.request
            body = urllib.request.urlopen(sys.argv[1] + '/storage/v1/b/other-bucket/o/out%2Fresults.tar?alt=media').read()
            archive = tarfile.open(fileobj=io.BytesIO(body))
            print(archive.getnames(), archive.extractfile('score.txt').read().decode())
            """, ["http://" + storageHost])
        XCTAssertEqual(uploaded.trimmingCharacters(in: .whitespacesAndNewlines), "['score.txt'] 0.97")
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.storePath("experiments/\(key)/results.tar")))
    }

    func testAMissingURLFailsTheExperimentWithAClearReasonAndIsAcknowledged() throws {
        try fixture.write("never.py", "import os\nopen(os.environ['E2E_SCRATCH'] + '/ran', 'w').write('ran')\n")
        let key = try fixture.submit(["never.py"])
        try addArtifacts(key, ["hdata": ["unpack": true, "mutable": false, "url": "http://127.0.0.1:\(httpPort)/missing.tar"]])
        let worker = try fixture.work(within: 120)
        XCTAssertEqual(worker.code, 1, worker.stderrText)
        XCTAssertEqual(fixture.status(key), "failed")
        let reason = fixture.info(key)["reason"] as? String ?? ""
        XCTAssertTrue(reason.contains("hdata") && reason.contains("404") && reason.contains("/missing.tar"), reason)
        XCTAssertFalse(reason.contains("\n"), reason)
        XCTAssertEqual(fixture.readyMessages(), [], "the message was not acknowledged")
        XCTAssertEqual(fixture.leasedMessages(), [], "the message was not acknowledged")
        XCTAssertNil(fixture.scratchText("ran"), "the experiment ran without its artifact")
    }

    func testAMutableHTTPArtifactIsRefusedBeforeTheRun() throws {
        try fixture.write("never.py", "import os\nopen(os.environ['E2E_SCRATCH'] + '/ran', 'w').write('ran')\n")
        let key = try fixture.submit(["never.py"])
        try addArtifacts(key, ["results": ["unpack": true, "mutable": true, "url": "http://127.0.0.1:\(httpPort)/results.tar"]])
        let worker = try fixture.work(within: 120)
        XCTAssertEqual(worker.code, 1, worker.stderrText)
        XCTAssertEqual(fixture.status(key), "failed")
        let reason = fixture.info(key)["reason"] as? String ?? ""
        XCTAssertTrue(reason.contains("http(s) artifacts are download-only") && reason.contains("results"), reason)
        XCTAssertEqual(fixture.readyMessages(), [])
        XCTAssertEqual(fixture.leasedMessages(), [])
        XCTAssertNil(fixture.scratchText("ran"), "the experiment ran with an artifact it cannot save")
    }
}
