import Foundation
import StudioModel
@testable import StudioUI
import XCTest

final class UIServerTests: XCTestCase {
    func testListFiltersSortsAndPages() async throws {
        let ui = try await UIFixture()
        addTeardownBlock { await ui.tearDown() }
        try await ui.putExperiment("a1", status: "running", filename: "train.py", args: ["--lr", "0.1"], project: "vision", owner: "ann", added: 100)
        try await ui.putExperiment("b2", status: "finished", filename: "eval.py", project: "vision", owner: "bob", added: 300)
        try await ui.putExperiment("c3", status: "failed", filename: "train.py", project: "nlp", owner: "ann", added: 200)
        try await ui.putExperiment("d4", status: "waiting", filename: "prep.py", owner: "bob", added: 400)

        XCTAssertEqual(try ui.keys("/api/experiments"), ["d4", "b2", "c3", "a1"], "newest first by default")
        XCTAssertEqual(try ui.keys("/api/experiments?sort=time_added&order=asc"), ["a1", "c3", "b2", "d4"])
        XCTAssertEqual(try ui.keys("/api/experiments?sort=key&order=asc"), ["a1", "b2", "c3", "d4"])
        XCTAssertEqual(try ui.keys("/api/experiments?sort=project&order=asc"), ["c3", "a1", "b2", "d4"], "missing values last")
        XCTAssertEqual(try ui.keys("/api/experiments?status=running,failed"), ["c3", "a1"])
        XCTAssertEqual(try ui.keys("/api/experiments?project=vision"), ["b2", "a1"])
        XCTAssertEqual(try ui.keys("/api/experiments?owner=ann&sort=key&order=asc"), ["a1", "c3"])
        XCTAssertEqual(try ui.keys("/api/experiments?q=--LR"), ["a1"], "free text matches arguments, case-insensitively")
        XCTAssertEqual(try ui.keys("/api/experiments?q=train%2Epy&sort=key&order=asc"), ["a1", "c3"])

        let page = try ui.json("/api/experiments?sort=key&order=asc&offset=1&limit=2")
        XCTAssertEqual((page["rows"] as? [[String: Any]])?.compactMap { $0["key"] as? String }, ["b2", "c3"])
        XCTAssertEqual(page["total"] as? Int, 4)
        XCTAssertEqual(page["projects"] as? [String], ["nlp", "vision"])
        XCTAssertEqual(page["owners"] as? [String], ["ann", "bob"])
        XCTAssertEqual((page["statuses"] as? [String: Int])?["running"], 1)

        let row = try XCTUnwrap((try ui.json("/api/experiments?q=a1")["rows"] as? [[String: Any]])?.first)
        XCTAssertEqual(row["filename"] as? String, "train.py")
        XCTAssertEqual(row["args"] as? [String], ["--lr", "0.1"])
        XCTAssertEqual(row["status"] as? String, "running")
        XCTAssertEqual(row["time_added"] as? Double, 100)

        XCTAssertEqual(try ui.request("GET", "/api/experiments?sort=nonsense").status, 400)
        XCTAssertEqual(try ui.request("GET", "/api/experiments?limit=0").status, 400)
        XCTAssertEqual(try ui.request("GET", "/api/experiments?offset=-1").status, 400)
    }

    func testSinceAnswersUnchangedThenOnlyWhatChanged() async throws {
        let ui = try await UIFixture()
        addTeardownBlock { await ui.tearDown() }
        try await ui.putExperiment("one", status: "waiting")
        try await ui.putExperiment("two", status: "waiting")
        let first = try ui.json("/api/experiments")
        let generation = try XCTUnwrap(first["generation"] as? Int)
        let unchanged = try ui.json("/api/experiments?since=\(generation)")
        XCTAssertEqual(unchanged["unchanged"] as? Bool, true)
        XCTAssertNil(unchanged["rows"])

        try await ui.putExperiment("two", status: "running")
        var changed: [String: Any] = [:]
        let seen = try await eventually(10) {
            changed = try ui.json("/api/experiments?since=\(generation)")
            return changed["unchanged"] == nil
        }
        XCTAssertTrue(seen, "the change to 'two' never showed")
        XCTAssertEqual(changed["changed"] as? [String], ["two"], "only the rewritten record is reported changed")
        XCTAssertEqual(changed["removed"] as? [String], [])

        let later = try XCTUnwrap(changed["generation"] as? Int)
        try await ui.store.delete("experiments/one")
        var removal: [String: Any] = [:]
        let removed = try await eventually(10) {
            removal = try ui.json("/api/experiments?since=\(later)")
            return removal["unchanged"] == nil
        }
        XCTAssertTrue(removed)
        XCTAssertEqual(removal["removed"] as? [String], ["one"])
        XCTAssertEqual(removal["total"] as? Int, 1)
    }

    func testMalformedRecordsAreRowsSayingWhy() async throws {
        let ui = try await UIFixture()
        addTeardownBlock { await ui.tearDown() }
        try await ui.putExperiment("good", status: "finished")
        try await ui.putRecord("broken", "{not json")
        try await ui.putRecord("nokey", #"{"filename": "x.py"}"#)
        try await ui.putRecord("badargs", #"{"key": "badargs", "args": 5}"#)
        let answer = try ui.json("/api/experiments?sort=key&order=asc")
        let rows = try XCTUnwrap(answer["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.compactMap { $0["key"] as? String }, ["badargs", "broken", "good", "nokey"])
        for row in rows where row["key"] as? String != "good" {
            XCTAssertEqual(row["status"] as? String, "malformed", "\(row)")
            XCTAssertFalse((row["malformed"] as? String ?? "").isEmpty, "\(row)")
        }
        XCTAssertEqual(try ui.keys("/api/experiments?status=malformed&sort=key&order=asc"), ["badargs", "broken", "nokey"])
        let page = try ui.json("/api/experiments/broken")
        XCTAssertEqual((page["row"] as? [String: Any])?["status"] as? String, "malformed")
        XCTAssertNil(page["record"], "a malformed record's raw text may hold secrets: it is not sent")
        XCTAssertEqual(try ui.request("GET", "/api/experiments/missing").status, 404)
    }

    func testSecretsNeverReachTheBrowser() async throws {
        let ui = try await UIFixture()
        addTeardownBlock { await ui.tearDown() }
        try await ui.putExperiment("secret", status: "finished", extra: [
            "config": ["env": ["WANDB_API_KEY": "envvalue-1", "PLAIN": "envvalue-2"],
                       "database": ["type": "s3", "credentials": ["aws_access_key_id": "AKIA-secret-3", "aws_secret_access_key": "secret-4"]],
                       "server": ["authentication": "none", "api_token": "secret-5"]],
            "artifacts": ["output": ["mutable": true, "key": "experiments/secret/output.tar", "credentials": ["password": "secret-6"],
                                     "url": "https://bucket.example/output.tar?X-Amz-Signature=secret-7"]],
            "info": ["private_key": "secret-8", "exit_code": 0],
        ])
        let response = try ui.request("GET", "/api/experiments/secret")
        XCTAssertEqual(response.status, 200)
        for secret in ["envvalue-1", "envvalue-2", "AKIA-secret-3", "secret-4", "secret-5", "secret-6", "secret-7", "secret-8"] {
            XCTAssertFalse(response.text.contains(secret), "\(secret) reached the browser: \(response.text)")
        }
        let page = try XCTUnwrap(JSONSerialization.jsonObject(with: response.body) as? [String: Any])
        let record = try XCTUnwrap(page["record"] as? [String: Any])
        let config = try XCTUnwrap(record["config"] as? [String: Any])
        XCTAssertEqual(config["env"] as? [String: String], ["WANDB_API_KEY": "<redacted>", "PLAIN": "<redacted>"], "names stay, values go")
        XCTAssertEqual((config["server"] as? [String: Any])?["authentication"] as? String, "none", "what is not secret stays")
        XCTAssertEqual((record["info"] as? [String: Any])?["exit_code"] as? Int, 0)
    }

    func testLogIsReadFromAnOffsetInWholeCharacters() async throws {
        let ui = try await UIFixture()
        addTeardownBlock { await ui.tearDown() }
        try await ui.putExperiment("logged", status: "running")
        // The worker's live file on this machine: $STUDIOML_HOME/experiments/<key>/output.
        let directory = ui.home + "/experiments/logged"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let text = "epoch 1\rë 2\n"  // "ë" is two bytes, at offsets 8 and 9
        try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/output"))

        let tail = try ui.json("/api/experiments/logged/log")
        XCTAssertEqual(tail["offset"] as? Int, 0)
        XCTAssertEqual(tail["next"] as? Int, 13)
        XCTAssertEqual(tail["size"] as? Int, 13)
        XCTAssertEqual(tail["text"] as? String, text, "\\r is passed on for the page to render")
        XCTAssertEqual(tail["complete"] as? Bool, false, "a running experiment's log grows")

        let split = try ui.json("/api/experiments/logged/log?offset=0&limit=9")
        XCTAssertEqual(split["next"] as? Int, 8, "a chunk never ends inside a character")
        XCTAssertEqual(split["text"] as? String, "epoch 1\r")
        let rest = try ui.json("/api/experiments/logged/log?offset=8")
        XCTAssertEqual(rest["text"] as? String, "ë 2\n")
        let inside = try ui.json("/api/experiments/logged/log?offset=9")
        XCTAssertEqual(inside["offset"] as? Int, 10, "nor starts inside one")
        let end = try ui.json("/api/experiments/logged/log?offset=13")
        XCTAssertEqual(end["text"] as? String, "")
        XCTAssertEqual(end["next"] as? Int, 13)

        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/output"))
        handle.seekToEndOfFile()
        handle.write(Data("more\n".utf8))
        try handle.close()
        let grown = try ui.json("/api/experiments/logged/log?offset=13")
        XCTAssertEqual(grown["text"] as? String, "more\n")
        XCTAssertEqual(grown["next"] as? Int, 18)
        XCTAssertEqual(try ui.request("GET", "/api/experiments/logged/log?offset=x").status, 400)
        XCTAssertEqual(try ui.request("GET", "/api/experiments/nobody/log").status, 404)
    }

    func testArtifactsAreListedWithSizesAndStreamed() async throws {
        let ui = try await UIFixture()
        addTeardownBlock { await ui.tearDown() }
        let artifacts: JSONObject = [
            "output": ["mutable": true, "key": "experiments/art/output.tar"],
            "modeldir": ["mutable": true, "key": "experiments/art/modeldir.tar"],
        ]
        try await ui.putExperiment("art", status: "finished", extra: ["artifacts": .object(artifacts)])
        let payload = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try await ui.store.put("experiments/art/output.tar", payload)

        let page = try ui.json("/api/experiments/art")
        let listed = try XCTUnwrap(page["artifacts"] as? [[String: Any]])
        let output = try XCTUnwrap(listed.first { $0["tag"] as? String == "output" })
        XCTAssertEqual(output["stored"] as? Bool, true)
        XCTAssertEqual(output["size"] as? Int, payload.count)
        XCTAssertEqual(listed.first { $0["tag"] as? String == "modeldir" }?["stored"] as? Bool, false)

        let download = try ui.request("GET", "/api/experiments/art/artifacts/output")
        XCTAssertEqual(download.status, 200)
        XCTAssertEqual(download.body, payload)
        XCTAssertEqual(download.header("Content-Disposition"), "attachment; filename=\"art-output.tar\"")
        XCTAssertEqual(try ui.request("GET", "/api/experiments/art/artifacts/modeldir").status, 404)
        XCTAssertEqual(try ui.request("GET", "/api/experiments/art/artifacts/nothing").status, 404)
    }

    func testStopAndDeleteArePostsFromThePageOnly() async throws {
        let ui = try await UIFixture()
        addTeardownBlock { await ui.tearDown() }
        try await ui.putExperiment("run", status: "running")
        let page = [("X-Studio-UI", "1"), ("Origin", "http://127.0.0.1:\(ui.server.port)"), ("Sec-Fetch-Site", "same-origin")]

        XCTAssertEqual(try ui.request("GET", "/api/experiments/run/stop").status, 405, "GET never changes anything")
        XCTAssertEqual(try ui.request("POST", "/api/experiments/run/stop").status, 403, "no custom header: a plain form")
        XCTAssertEqual(try ui.request("POST", "/api/experiments/run/stop", headers: [("X-Studio-UI", "1"), ("Sec-Fetch-Site", "cross-site")]).status, 403)
        XCTAssertEqual(try ui.request("POST", "/api/experiments/run/stop", headers: [("X-Studio-UI", "1"), ("Origin", "http://evil.example")]).status, 403)
        XCTAssertEqual(try ui.request("POST", "/api/experiments/run/stop", headers: [("X-Studio-UI", "1"), ("Origin", "null")]).status, 403)
        let status = try await ui.status("run")
        XCTAssertEqual(status, "running", "refused requests changed nothing")

        XCTAssertEqual(try ui.request("POST", "/api/experiments/run/delete", headers: page).status, 409, "a running experiment is stopped first")
        let stop = try ui.request("POST", "/api/experiments/run/stop", headers: page)
        XCTAssertEqual(stop.status, 200, stop.text)
        let stopped = try await ui.status("run")
        XCTAssertEqual(stopped, "stopped", "the record says stopped: the worker polls it")
        XCTAssertEqual(try ui.request("POST", "/api/experiments/nobody/stop", headers: page).status, 404)

        try await ui.store.put("experiments/run/output.tar", Data("x".utf8))
        try await ui.store.put("users/guest/experiments/run", Data("1".utf8))
        try await ui.store.put("blobstore/shared.tar", Data("x".utf8))
        let delete = try ui.request("POST", "/api/experiments/run/delete", headers: page)
        XCTAssertEqual(delete.status, 200, delete.text)
        let record = try await ui.store.exists("experiments/run")
        let artifact = try await ui.store.exists("experiments/run/output.tar")
        let index = try await ui.store.exists("users/guest/experiments/run")
        let blob = try await ui.store.exists("blobstore/shared.tar")
        XCTAssertEqual([record, artifact, index, blob], [false, false, false, true], "record, artifacts and index go; shared blobs stay")
        let gone = try await eventually(10) { try ui.keys("/api/experiments").isEmpty }
        XCTAssertTrue(gone, "the list still shows the deleted experiment")
    }

    func testTokenIsCheckedOnEveryRequest() async throws {
        let ui = try await UIFixture(token: "s3cret-token")
        addTeardownBlock { await ui.tearDown() }
        XCTAssertEqual(try ui.request("GET", "/api/experiments").status, 401)
        XCTAssertEqual(try ui.request("GET", "/").status, 401)
        XCTAssertEqual(try ui.request("GET", "/app.js").status, 401)
        XCTAssertEqual(try ui.request("GET", "/api/experiments", headers: [("Authorization", "Bearer wrong")]).status, 401)
        XCTAssertEqual(try ui.request("GET", "/api/experiments", headers: [("Authorization", "Bearer s3cret-token")]).status, 200)
        XCTAssertEqual(try ui.request("GET", "/api/experiments", headers: [("Cookie", "a=b; studio_ui_token=s3cret-token")]).status, 200)
        XCTAssertEqual(try ui.request("GET", "/?token=wrong").status, 401)
        let visit = try ui.request("GET", "/?token=s3cret-token")
        XCTAssertEqual(visit.status, 303)
        XCTAssertEqual(visit.header("Location"), "/", "the token leaves the address bar")
        XCTAssertEqual(visit.header("Set-Cookie"), "studio_ui_token=s3cret-token; Path=/; HttpOnly; SameSite=Strict")
        // With a token, any Host may be used (the server may sit behind a name).
        XCTAssertEqual(try ui.request("GET", "/api/experiments", headers: [("Host", "studio.internal"), ("Authorization", "Bearer s3cret-token")]).status, 200)
    }

    func testWithoutATokenOnlyLoopbackIsServed() async throws {
        let ui = try await UIFixture()
        addTeardownBlock { await ui.tearDown() }
        XCTAssertEqual(try ui.request("GET", "/api/experiments", headers: [("Host", "localhost:\(ui.server.port)")]).status, 200)
        XCTAssertEqual(try ui.request("GET", "/api/experiments", headers: [("Host", "evil.example")]).status, 403,
                       "a rebound DNS name must not reach the API")
        do {
            let server = try await UIServer.start(UIConfiguration(
                host: "0.0.0.0", port: 0, database: ui.store, storage: ui.store,
                control: NoControl(), scratch: ui.home + "/tmp"))
            await server.close()
            XCTFail("bound to 0.0.0.0 without a token")
        } catch let error as UIError {
            XCTAssertTrue(error.description.contains("token"), error.description)
        }
    }

    func testThePageIsServedWithItsFilesAndAStrictPolicy() async throws {
        let ui = try await UIFixture()
        addTeardownBlock { await ui.tearDown() }
        let page = try ui.request("GET", "/")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.text.contains(#"<script src="app.js" defer></script>"#))
        XCTAssertEqual(page.header("Content-Type"), "text/html; charset=utf-8")
        XCTAssertTrue(page.header("Content-Security-Policy")?.contains("script-src 'self'") ?? false)
        XCTAssertEqual(page.header("X-Content-Type-Options"), "nosniff")
        XCTAssertEqual(try ui.request("GET", "/app.js").header("Content-Type"), "text/javascript; charset=utf-8")
        XCTAssertEqual(try ui.request("GET", "/app.css").status, 200)
        XCTAssertEqual(try ui.request("GET", "/nothing").status, 404)
        XCTAssertEqual(try ui.request("GET", "/charts.js").header("Content-Type"), "text/javascript; charset=utf-8")
        let weight = try ["/app.js", "/charts.js", "/app.css"].map { try ui.request("GET", $0).body.count }.reduce(page.body.count, +)
        XCTAssertLessThanOrEqual(weight, 150_000, "the page's HTML+JS+CSS must stay within 150 KB")
    }

    func testEmbeddedAssetsMatchTheirFiles() throws {
        // Sources/StudioUI/EmbeddedAssets/ is generated by scripts/embed-ui-assets.sh: a stale copy fails here.
        let assets = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/StudioUI/Assets")
        for (name, embedded) in [("index.html", EmbeddedAssets.indexHTML), ("app.js", EmbeddedAssets.appJS), ("charts.js", EmbeddedAssets.chartsJS), ("app.css", EmbeddedAssets.appCSS)] {
            let file = try Data(contentsOf: assets.appendingPathComponent(name))
            let copy = embedded.withUTF8Buffer { Data($0) }
            XCTAssertEqual(copy, file, "\(name) changed: run scripts/embed-ui-assets.sh")
        }
    }

    func testLogWindowCutsAtCharacterBoundaries() {
        let bytes = Array("aé€𝄞".utf8) // 1 + 2 + 3 + 4 bytes
        XCTAssertEqual(LogWindow(bytes: bytes, start: 0, limit: 2, tail: false, complete: false).next, 1)
        XCTAssertEqual(LogWindow(bytes: bytes, start: 0, limit: 6, tail: false, complete: false).text, "aé€")
        XCTAssertEqual(LogWindow(bytes: bytes, start: 0, limit: 9, tail: false, complete: false).text, "aé€")
        XCTAssertEqual(LogWindow(bytes: bytes, start: 0, limit: 100, tail: false, complete: false).text, "aé€𝄞")
        let tail = LogWindow(bytes: bytes, start: 0, limit: 5, tail: true, complete: false)
        XCTAssertEqual(tail.text, "𝄞")
        XCTAssertEqual(tail.offset, 6)
        let partial = Array(bytes.dropLast())
        XCTAssertEqual(LogWindow(bytes: partial, start: 0, limit: 100, tail: false, complete: false).next, 6, "a half-written character waits")
        XCTAssertEqual(LogWindow(bytes: partial, start: 0, limit: 100, tail: false, complete: true).next, 9, "unless the log is complete")
    }

    func testRedactionRules() {
        XCTAssertTrue(SecretRedaction.isSecretName("aws_secret_access_key"))
        XCTAssertTrue(SecretRedaction.isSecretName("GOOGLE_APPLICATION_CREDENTIALS"))
        XCTAssertTrue(SecretRedaction.isSecretName("refreshToken"))
        XCTAssertFalse(SecretRedaction.isSecretName("key"))
        XCTAssertFalse(SecretRedaction.isSecretName("keyname"))
    }
}

/// For servers that never get to serve.
struct NoControl: ExperimentControl {
    func requestStop(_ key: String) async throws -> ExperimentStatus? { nil }
    func delete(_ key: String) async throws -> ExperimentStatus? { nil }
    func output(_ key: String, from offset: Int?, limit: Int) async throws -> OutputSlice { OutputSlice(start: 0, bytes: [], total: 0) }
}
