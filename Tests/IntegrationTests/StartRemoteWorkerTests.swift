import Foundation
import Glibc
import XCTest

/// `studio start-remote-worker` against a stand-in `docker` (a sh script) that records its arguments and
/// environment and exits with the codes a test lists, one per container run.
final class StartRemoteWorkerTests: XCTestCase {
    private var sandbox = ""      // temp dir: bin/ (stand-ins), home/, records/
    private var records = ""
    private var home = ""
    private var bin = ""

    override func setUpWithError() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("start-remote-worker-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        sandbox = canonicalPath(base)
        records = sandbox + "/records"
        home = sandbox + "/home"
        bin = sandbox + "/bin"
        for directory in [records, home, bin] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        // Run N records argv (one per line) in args.N and its environment in env.N, then exits with line N of
        // `codes` (the last line repeats); `wait` means: sleep until SIGTERM/SIGINT, note it, exit 143/130.
        try writeExecutable(bin + "/docker", """
            #!/bin/sh
            dir='\(records)'
            n=$(cat "$dir/count" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$dir/count"
            for a; do printf '%s\\n' "$a"; done > "$dir/args.$n.tmp"; mv "$dir/args.$n.tmp" "$dir/args.$n"
            env > "$dir/env.$n"
            code=$(sed -n "${n}p" "$dir/codes"); [ -n "$code" ] || code=$(tail -n 1 "$dir/codes")
            if [ "$code" = wait ]; then
                trap 'echo TERM > "$dir/signal"; kill $child; rm "$dir/ready.$n"; exit 143' TERM
                trap 'echo INT > "$dir/signal"; kill $child; rm "$dir/ready.$n"; exit 130' INT
                sleep 60 & child=$!
                echo "$$ $child" > "$dir/ready.$n"
                wait $child
                exit 1
            fi
            exit "$code"
            """)
    }

    override func tearDownWithError() throws {
        // A stand-in still waiting (its signal never came, so it kept its ready file): end it and its sleep.
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: records))?.filter { $0.hasPrefix("ready.") } ?? []
        for file in leftovers {
            let pids = ((try? String(contentsOfFile: records + "/" + file, encoding: .utf8)) ?? "").split(whereSeparator: \.isWhitespace)
            for pid in pids.compactMap({ pid_t($0) }) where pid > 1 { kill(pid, SIGKILL) }
        }
        try? FileManager.default.removeItem(atPath: sandbox)
    }

    // MARK: - The docker command line

    func testRunsTheImageWithCredentialMountsEnvironmentNamesCacheAndWorkerArguments() throws {
        let key = sandbox + "/my key.json"
        try "{\"private_key\": \"KEY-CONTENT-NEVER-SHOWN\"}".write(toFile: key, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: home + "/.aws", withIntermediateDirectories: true)
        try setCodes(["0"])
        let result = try launch(
            ["q1", "--image", "my/img:1", "--single-run", "--timeout", "-1", "--gpus", "none", "--", "--lease", "600"],
            environment: [
                "GOOGLE_APPLICATION_CREDENTIALS": key, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
                "AWS_SECRET_ACCESS_KEY": "SECRET-VALUE-NEVER-SHOWN", "AWS_REGION": "eu-west-1",
            ])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try runCount(), 1)
        let arguments = try recordedArguments(run: 1)
        XCTAssertEqual(Array(arguments.prefix(2)), ["run", "--rm"])
        XCTAssertTrue(arguments.containsPair("-e", "GOOGLE_APPLICATION_CREDENTIALS=/creds/my key.json"), "\(arguments)")
        XCTAssertTrue(arguments.containsPair("-v", "\(key):/creds/my key.json:ro"), "\(arguments)")
        XCTAssertTrue(arguments.containsPair("-v", "\(home)/.aws:/root/.aws:ro"), "\(arguments)")
        XCTAssertTrue(arguments.containsPair("-v", "\(home)/.studioml/blobcache:/root/.studioml/blobcache"), "\(arguments)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: home + "/.studioml/blobcache"), "the cache is created before docker mounts it")
        for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] {
            XCTAssertTrue(arguments.containsPair("-e", name), "\(name) passed by name: \(arguments)")
        }
        XCTAssertFalse(arguments.contains("--gpus"))
        let imageIndex = try XCTUnwrap(arguments.firstIndex(of: "my/img:1"))
        XCTAssertEqual(Array(arguments[imageIndex...]),
                       ["my/img:1", "remote-worker", "--queue", "q1", "--single-run", "--timeout", "-1", "--lease", "600"])
        // docker reads `-e NAME` values from its own environment; they never appear in argv or in our output.
        XCTAssertTrue(try String(contentsOfFile: records + "/env.1", encoding: .utf8).contains("AWS_SECRET_ACCESS_KEY=SECRET-VALUE-NEVER-SHOWN"))
        let everythingShown = arguments.joined(separator: " ") + result.stdout + result.stderr
        XCTAssertFalse(everythingShown.contains("SECRET-VALUE-NEVER-SHOWN"))
        XCTAssertFalse(everythingShown.contains("KEY-CONTENT-NEVER-SHOWN"))
        XCTAssertTrue(result.stderr.contains("starting worker container 1: docker run --rm"), result.stderr)
    }

    func testBakedCredentialsAndNoCacheMountNothingButKeepSettings() throws {
        try setCodes(["0"])
        let result = try launch(
            ["--queue", "q2", "--single-run", "--baked-credentials", "--no-cache", "--gpus", "none"],
            environment: ["GOOGLE_APPLICATION_CREDENTIALS": sandbox + "/absent.json", "AWS_ACCESS_KEY_ID": "AKID", "AWS_REGION": "us-east-1"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let arguments = try recordedArguments(run: 1)
        XCTAssertFalse(arguments.contains("-v"), "\(arguments)")
        XCTAssertFalse(arguments.contains { $0.hasPrefix("GOOGLE_APPLICATION_CREDENTIALS") || $0 == "AWS_ACCESS_KEY_ID" }, "\(arguments)")
        XCTAssertTrue(arguments.containsPair("-e", "AWS_REGION"))
        XCTAssertFalse(result.stderr.contains("warning"), result.stderr)
        XCTAssertEqual(Array(arguments.suffix(5)), ["studioml/studio-worker:latest", "remote-worker", "--queue", "q2", "--single-run"])
    }

    func testLocalQueueSharesTheStudioHomeAtTheSamePathAndNeedsNoCredentials() throws {
        try setCodes(["0"])
        let studioHome = sandbox + "/studio home"
        let result = try launch(["local_q", "--single-run", "--gpus", "none"], environment: ["STUDIOML_HOME": studioHome])
        XCTAssertEqual(result.status, 0, result.stderr)
        let arguments = try recordedArguments(run: 1)
        XCTAssertTrue(arguments.containsPair("-v", "\(studioHome):\(studioHome)"), "\(arguments)")
        XCTAssertTrue(arguments.containsPair("-e", "STUDIOML_HOME=\(studioHome)"), "\(arguments)")
        XCTAssertFalse(result.stderr.contains("warning"), result.stderr)
    }

    func testWarnsWithoutCredentialsForACloudQueueAndStillRuns() throws {
        try setCodes(["0"])
        let result = try launch(["pubsub_queue", "--single-run", "--gpus", "none"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("warning: no credentials found"), result.stderr)
        XCTAssertEqual(try runCount(), 1)
    }

    func testGPUsAreRequestedWhenAskedOrWhenTheHostHasAnNVIDIAGPU() throws {
        try setCodes(["0"])
        XCTAssertEqual(try launch(["q", "--single-run", "--gpus", "device=0,1"]).status, 0)
        XCTAssertTrue(try recordedArguments(run: 1).containsPair("--gpus", "device=0,1"))

        try writeExecutable(bin + "/nvidia-smi", "#!/bin/sh\nexit 0\n")
        XCTAssertEqual(try launch(["q", "--single-run"]).status, 0)
        XCTAssertTrue(try recordedArguments(run: 2).containsPair("--gpus", "all"), "auto with nvidia-smi on PATH")

        XCTAssertEqual(try launch(["q", "--single-run", "--gpus", "none"]).status, 0)
        XCTAssertFalse(try recordedArguments(run: 3).contains("--gpus"))
    }

    func testMultiCallNameTakesThePositionalQueueName() throws {
        try setCodes(["0"])
        let link = bin + "/studio-start-remote-worker"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: studioExecutablePath())
        let result = try runProcess([link, "mq", "--single-run", "--gpus", "none"], environment: baseEnvironment())
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(Array(try recordedArguments(run: 1).suffix(4)), ["remote-worker", "--queue", "mq", "--single-run"])
    }

    // MARK: - The restart loop

    func testRestartsAfterEachContainerUntilTheWorkerReportsAConfigurationError() throws {
        try setCodes(["0", "0", "3", "42", "0"])
        let result = try launch(["q", "--restart-delay", "0", "--gpus", "none"])
        XCTAssertEqual(result.status, 42, result.stderr)
        XCTAssertEqual(try runCount(), 4)
        XCTAssertTrue(result.stderr.contains("configuration error"), result.stderr)
        XCTAssertFalse(try recordedArguments(run: 4).contains("--single-run"))
    }

    func testSingleRunStopsAfterOneContainerWithTheExperimentsExitCode() throws {
        try setCodes(["3", "0"])
        let result = try launch(["q", "--single-run", "--gpus", "none"])
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertEqual(try runCount(), 1)
    }

    func testStopsWhenDockerItselfFails() throws {
        for code: Int32 in [125, 126, 127, 64, 143] {
            try? FileManager.default.removeItem(atPath: records + "/count")
            try setCodes([String(code), "0"])
            let result = try launch(["q", "--restart-delay", "0", "--gpus", "none"])
            XCTAssertEqual(result.status, code, result.stderr)
            XCTAssertEqual(try runCount(), 1, "no restart after \(code)")
        }
    }

    // MARK: - Configuration errors

    func testMissingDockerIsAConfigurationError() throws {
        let result = try launch(["q"], environment: ["PATH": sandbox + "/empty:/nonexistent"])
        XCTAssertEqual(result.status, 42)
        XCTAssertEqual(result.stderr, "studio start-remote-worker: error: docker not found on PATH; install Docker or pass --docker PATH\n")

        let explicit = try launch(["q", "--docker", sandbox + "/no-docker"])
        XCTAssertEqual(explicit.status, 42)
        XCTAssertTrue(explicit.stderr.contains(sandbox + "/no-docker"), explicit.stderr)
        XCTAssertNil(try? runCount(), "docker never ran")
    }

    func testExplicitDockerPathIsUsed() throws {
        try setCodes(["0"])
        try FileManager.default.moveItem(atPath: bin + "/docker", toPath: sandbox + "/my-docker")
        let result = try launch(["q", "--single-run", "--gpus", "none", "--docker", sandbox + "/my-docker"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try runCount(), 1)
    }

    func testUnreadableKeyFileIsAConfigurationErrorNamingTheFile() throws {
        let missing = sandbox + "/keys/missing.json"
        let result = try launch(["q"], environment: ["GOOGLE_APPLICATION_CREDENTIALS": missing])
        XCTAssertEqual(result.status, 42)
        XCTAssertTrue(result.stderr.contains(missing) && result.stderr.contains("does not exist"), result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertNil(try? runCount(), "docker never ran")

        let directory = try launch(["q"], environment: ["GOOGLE_APPLICATION_CREDENTIALS": sandbox])
        XCTAssertEqual(directory.status, 42)
        XCTAssertTrue(directory.stderr.contains("is not a regular file"), directory.stderr)

        let colon = sandbox + "/key:1.json"
        try "{}".write(toFile: colon, atomically: true, encoding: .utf8)
        let unmountable = try launch(["q"], environment: ["GOOGLE_APPLICATION_CREDENTIALS": colon])
        XCTAssertEqual(unmountable.status, 42)
        XCTAssertTrue(unmountable.stderr.contains(colon) && unmountable.stderr.contains("cannot mount"), unmountable.stderr)
        XCTAssertNil(try? runCount(), "docker never ran")
    }

    func testBadCommandLinesExit64() throws {
        XCTAssertEqual(try launch([]).status, 64)
        XCTAssertEqual(try launch(["a", "--queue", "b"]).status, 64)
        XCTAssertEqual(try launch(["q", "--timeout", "soon"]).status, 64)
        XCTAssertNil(try? runCount(), "docker never ran")
    }

    // MARK: - Signals

    func testSIGTERMAndSIGINTAreForwardedToDockerAndEndTheLauncher() throws {
        for (signalNumber, name, expected) in [(SIGTERM, "TERM", Int32(143)), (SIGINT, "INT", Int32(130))] {
            for file in ["count", "signal", "ready.1"] { try? FileManager.default.removeItem(atPath: records + "/" + file) }
            try setCodes(["wait"])
            let launcher = try spawnProcess([studioExecutablePath(), "start-remote-worker", "q", "--gpus", "none"], environment: baseEnvironment())
            defer { launcher.killIfRunning() }
            XCTAssertTrue(waitUntil(deadline: 20) { FileManager.default.fileExists(atPath: self.records + "/ready.1") }, "docker started")
            kill(launcher.pid, signalNumber)
            let result = try XCTUnwrap(launcher.wait(deadline: 20), "the launcher ended")
            XCTAssertEqual(result.status, expected, result.stderr)
            XCTAssertEqual(try String(contentsOfFile: records + "/signal", encoding: .utf8), name + "\n")
            XCTAssertEqual(try runCount(), 1, "no restart after a stop signal")
        }
    }

    // MARK: - Helpers

    private func baseEnvironment() -> [String: String] {
        ["PATH": bin + ":/usr/bin:/bin", "HOME": home]
    }

    private func launch(_ arguments: [String], environment extra: [String: String] = [:]) throws -> ProcessResult {
        try runProcess([studioExecutablePath(), "start-remote-worker"] + arguments,
                       environment: baseEnvironment().merging(extra) { $1 })
    }

    private func setCodes(_ codes: [String]) throws {
        try (codes.joined(separator: "\n") + "\n").write(toFile: records + "/codes", atomically: true, encoding: .utf8)
    }

    private func runCount() throws -> Int {
        let text = try String(contentsOfFile: records + "/count", encoding: .utf8)
        return try XCTUnwrap(Int(text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    private func recordedArguments(run: Int) throws -> [String] {
        let text = try String(contentsOfFile: records + "/args.\(run)", encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }
}

private extension Array where Element == String {
    /// Whether `first` is immediately followed by `second` somewhere (an option and its value).
    func containsPair(_ first: String, _ second: String) -> Bool {
        indices.dropLast().contains { self[$0] == first && self[$0 + 1] == second }
    }
}

// MARK: - Running processes (private to this file; a shared fixture may replace it later)

private struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// A process started with posix_spawn, its stdout and stderr going to files.
private struct SpawnedProcess {
    let pid: pid_t
    let outputDirectory: String

    /// Waits up to `deadline` seconds; nil if it is still running then.
    func wait(deadline seconds: Double) -> ProcessResult? {
        guard let status = SupervisedProcess.wait(pid, timeout: seconds) else { return nil }
        defer { try? FileManager.default.removeItem(atPath: outputDirectory) }
        return ProcessResult(
            status: status,
            stdout: (try? String(contentsOfFile: outputDirectory + "/stdout", encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: outputDirectory + "/stderr", encoding: .utf8)) ?? "")
    }

    func killIfRunning() {
        if kill(pid, 0) == 0 { kill(pid, SIGKILL); _ = SupervisedProcess.wait(pid, timeout: 10) }
    }
}

private func spawnProcess(_ argv: [String], environment: [String: String]) throws -> SpawnedProcess {
    let outputDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("proc-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
    let pid = try SupervisedProcess.spawn(argv, environment: environment, outputDirectory: outputDirectory)
    return SpawnedProcess(pid: pid, outputDirectory: outputDirectory)
}

private func runProcess(_ argv: [String], environment: [String: String]) throws -> ProcessResult {
    let process = try spawnProcess(argv, environment: environment)
    guard let result = process.wait(deadline: 60) else {
        process.killIfRunning()
        throw POSIXError(.ETIMEDOUT)
    }
    return result
}

/// Polls `condition` every 10 ms until it holds or `deadline` seconds have passed.
private func waitUntil(deadline seconds: Double, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// The `studio` binary SwiftPM built next to this test bundle (.build/<triple>/debug/).
private func studioExecutablePath() -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let executable = length > 0 ? String(cString: buffer) : CommandLine.arguments[0]
    return (executable as NSString).deletingLastPathComponent + "/studio"
}

private func canonicalPath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
}

private func writeExecutable(_ path: String, _ text: String) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    chmod(path, 0o755)
}
