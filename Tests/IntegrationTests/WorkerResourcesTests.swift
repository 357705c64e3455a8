import Foundation
import Glibc
import XCTest

/// The worker against the machine it runs on: a stand-in `nvidia-smi` on PATH (no GPU is lent to
/// these tests), real cgroups, real experiments through the local queue.
final class WorkerResourcesTests: XCTestCase {
    private var fixture: WorkerFixture!

    override func setUpWithError() throws { fixture = try WorkerFixture() }
    override func tearDown() { fixture?.tearDown() }

    /// A fake `nvidia-smi` reporting `count` GPUs with 16 GiB each (GPU i has i GiB in use); the
    /// returned environment puts it first on PATH.
    private func fakeGPUs(_ count: Int, name: String) throws -> [String: String] {
        let directory = fixture.root + "/bin-" + name
        let rows = (0..<count).map { "\($0), GPU-\($0)\($0)\($0)\($0)\($0)\($0)\($0)\($0)-0000-0000-0000-00000000000\($0), 16384, \($0 * 1024), \($0 * 10)" }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let script = directory + "/nvidia-smi"
        try ("#!/bin/sh\ncat <<'CSV'\n" + rows.joined(separator: "\n") + "\nCSV\n").write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        return ["PATH": directory + ":" + (fixture.environment["PATH"] ?? "/usr/bin:/bin")]
    }

    /// `--show-resources` prints the GPUs nvidia-smi reports, limited by CUDA_VISIBLE_DEVICES, and
    /// no GPUs at all without nvidia-smi; a garbled nvidia-smi is no GPUs and one warning.
    func testShowResources() throws {
        var environment = try fakeGPUs(3, name: "three")
        environment["CUDA_VISIBLE_DEVICES"] = "2,0"
        let shown = try fixture.run(["remote-worker", "--show-resources"], environment: environment)
        XCTAssertEqual(shown.code, 0, shown.stderrText)
        XCTAssertTrue(shown.stdoutText.contains("gpus: 2 (nvidia-smi)"), shown.stdoutText)
        XCTAssertTrue(shown.stdoutText.contains("gpu 2 GPU-22222222"), shown.stdoutText)
        XCTAssertFalse(shown.stdoutText.contains("gpu 1 "), shown.stdoutText)
        let none = try fixture.run(["remote-worker", "--show-resources"], environment: ["PATH": "/usr/bin:/bin"])
        XCTAssertEqual(none.code, 0, none.stderrText)
        XCTAssertTrue(none.stdoutText.contains("gpus: 0"), none.stdoutText)
        XCTAssertEqual(none.stderrText, "")
        try fixture.write(fixture.root + "/bin-garbled/nvidia-smi", "#!/bin/sh\necho 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.'\n")
        chmod(fixture.root + "/bin-garbled/nvidia-smi", 0o755)
        let garbled = try fixture.run(["remote-worker", "--show-resources"], environment: ["PATH": fixture.root + "/bin-garbled:/usr/bin:/bin"])
        XCTAssertEqual(garbled.code, 0, garbled.stderrText)
        XCTAssertTrue(garbled.stdoutText.contains("gpus: 0"), garbled.stdoutText)
        XCTAssertEqual(garbled.stderrText.split(separator: "\n").filter { $0.contains("nvidia-smi") }.count, 1, garbled.stderrText)
    }

    /// A 2-GPU experiment on a 1-GPU worker goes back to the queue at once (well before its 60 s
    /// lease), with the shortfall in the log; a 2-GPU worker then runs it on both its GPUs.
    func testTwoGPUExperimentSkipsTheOneGPUWorker() throws {
        // Runs a second, so the GPU figures (read in the background) reach `_metrics`.
        try fixture.write("gpus.py", "import os, time\nopen(os.path.join(os.environ['E2E_SCRATCH'], 'cuda'), 'w').write(os.environ.get('CUDA_VISIBLE_DEVICES', '-'))\ntime.sleep(1)\n")
        let key = try fixture.submit(["gpus.py"], options: ["--gpus", "2"])
        let small = try fixture.start(fixture.workerArguments(["--lease", "60", "--timeout", "3"]), environment: try fakeGPUs(1, name: "one"))
        XCTAssertTrue(workerWaitUntil(20) { small.stderrText.contains("can never run it") }, small.stderrText)
        XCTAssertTrue(small.stderrText.contains("gpus: needs 2, has 1"), small.stderrText)
        XCTAssertTrue(workerWaitUntil(5) { self.fixture.readyMessages().count == 1 }, "not handed back: \(fixture.leasedMessages())")
        XCTAssertEqual(small.waitForExit(within: 30), 0, small.stderrText)
        // It waits longer after each hand-back (0.5 s, 1 s, 2 s, …) rather than spin on the queue.
        let handBacks = small.stderrText.components(separatedBy: "can never run it").count - 1
        XCTAssertTrue((1...5).contains(handBacks), "\(handBacks) hand-backs in 3 s: \(small.stderrText)")
        XCTAssertNil(fixture.scratchText("cuda"), "the 1-GPU worker ran it")
        XCTAssertEqual(fixture.status(key), "waiting")

        let big = try fixture.run(fixture.workerArguments(["--single-run"]), environment: try fakeGPUs(2, name: "two"))
        XCTAssertEqual(big.code, 0, big.stderrText)
        XCTAssertEqual(fixture.status(key), "finished")
        XCTAssertEqual(fixture.scratchText("cuda"), "0,1")
        let metrics = String(decoding: try XCTUnwrap(fixture.fileArtifact(key, "_metrics")), as: UTF8.self)
        let last = try XCTUnwrap(metrics.split(separator: "\n").last.map(String.init), metrics)
        XCTAssertTrue(last.hasPrefix("time: ") && last.contains(" CPU: ") && last.contains(" mem: "), last)
        XCTAssertTrue(last.hasSuffix(" gpu: 0 util: 0 gpumem: 0 gpu: 1 util: 10 gpumem: 1073741824 "), last)
        XCTAssertEqual(fixture.readyMessages() + fixture.leasedMessages(), [])
    }

    /// Each experiment marks itself running (with its CUDA_VISIBLE_DEVICES) and waits until four
    /// are, then notes how many it saw and whether any shared its GPU.
    private let fourAtATime = """
        import os, sys, time, glob
        scratch = os.environ['E2E_SCRATCH']
        device = os.environ.get('CUDA_VISIBLE_DEVICES', '-')
        me = os.path.join(scratch, 'running', os.environ['STUDIOML_EXPERIMENT'])
        os.makedirs(os.path.dirname(me), exist_ok=True)
        open(me, 'w').write(device)
        deadline = time.time() + 30
        while len(glob.glob(os.path.join(scratch, 'running', '*'))) < 4 and time.time() < deadline:
            time.sleep(0.05)
        others = [open(p).read() for p in glob.glob(os.path.join(scratch, 'running', '*')) if p != me]
        seen = len(others) + 1
        log = os.path.join(scratch, 'seen')
        with open(log, 'a') as f:
            f.write('%s %d %s\\n' % (device, seen, 'shared' if device in others else 'own'))
        time.sleep(0.3)
        os.remove(me)
        """

    /// 8 one-GPU experiments on a 4-GPU worker with `--parallel auto`: four at a time, never more,
    /// each with one GPU of its own.
    func testParallelAutoRunsOneExperimentPerGPU() throws {
        try fixture.write("four.py", fourAtATime)
        var keys: [String] = []
        for _ in 0..<8 { keys.append(try fixture.submit(["four.py"], options: ["--gpus", "1", "--cpus", "0"])) }
        let worker = try fixture.run(fixture.workerArguments(["--parallel", "auto", "--timeout", "3"]), environment: try fakeGPUs(4, name: "four"), within: 120)
        XCTAssertEqual(worker.code, 0, worker.stderrText)
        XCTAssertTrue(worker.stderrText.contains("parallel=4"), worker.stderrText)
        for key in keys { XCTAssertEqual(fixture.status(key), "finished", key) }
        let lines = (fixture.scratchText("seen") ?? "").split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(lines.count, 8, "\(lines)")
        for line in lines {
            XCTAssertEqual(line.count, 3)
            XCTAssertTrue(["0", "1", "2", "3"].contains(line[0]), "CUDA_VISIBLE_DEVICES \(line[0])")
            XCTAssertEqual(line[1], "4", "experiments running at once: \(line)")
            XCTAssertEqual(line[2], "own", "a GPU was shared: \(lines)")
        }
        XCTAssertEqual(fixture.readyMessages() + fixture.leasedMessages(), [])
    }

    /// SIGTERM with three experiments running: all are stopped, every message is back in the queue,
    /// every record says waiting, and the worker exits 143.
    func testSIGTERMStopsEveryParallelExperimentAndReleasesEveryMessage() throws {
        try fixture.write("wait.py", """
            import os, time
            scratch = os.environ['E2E_SCRATCH']
            open(os.path.join(scratch, 'ready-' + os.environ['STUDIOML_EXPERIMENT']), 'w').write('1')
            while True:
                time.sleep(0.05)
            """)
        var keys: [String] = []
        for _ in 0..<3 { keys.append(try fixture.submit(["wait.py"], options: ["--cpus", "0"])) }
        let worker = try fixture.start(fixture.workerArguments(["--parallel", "3", "--lease", "60", "--timeout", "-1"]))
        XCTAssertTrue(workerWaitUntil(60) { keys.allSatisfy { self.fixture.scratchText("ready-" + $0) != nil } }, worker.stderrText)
        worker.send(SIGTERM)
        XCTAssertEqual(worker.waitForExit(within: 30), 128 + SIGTERM, worker.stderrText)
        XCTAssertEqual(fixture.readyMessages().count, 3, worker.stderrText)
        XCTAssertEqual(fixture.leasedMessages(), [])
        for key in keys { XCTAssertEqual(fixture.status(key), "waiting", key) }
    }

    /// `studio stop KEY` with two experiments running side by side stops that one only.
    func testStopStopsOnlyItsExperimentAmongParallelOnes() throws {
        try fixture.write("pair.py", """
            import os, time
            scratch = os.environ['E2E_SCRATCH']
            key = os.environ['STUDIOML_EXPERIMENT']
            open(os.path.join(scratch, 'ready-' + key), 'w').write('1')
            while not os.path.exists(os.path.join(scratch, 'go')):
                time.sleep(0.05)
            """)
        let first = try fixture.submit(["pair.py"], options: ["--cpus", "0"])
        let second = try fixture.submit(["pair.py"], options: ["--cpus", "0"])
        let worker = try fixture.start(fixture.workerArguments(["--parallel", "2", "--timeout", "2"]))
        XCTAssertTrue(workerWaitUntil(60) { [first, second].allSatisfy { self.fixture.scratchText("ready-" + $0) != nil } }, worker.stderrText)
        XCTAssertEqual(try fixture.run(["stop", first]).code, 0)
        XCTAssertTrue(workerWaitUntil(20) { self.fixture.status(first) == "stopped" }, worker.stderrText)
        XCTAssertEqual(fixture.status(second), "running", "the other experiment was stopped too")
        try "go".write(toFile: fixture.scratchPath("go"), atomically: true, encoding: .utf8)
        XCTAssertEqual(worker.waitForExit(within: 30), 0, worker.stderrText)
        XCTAssertEqual(fixture.status(second), "finished")
        XCTAssertEqual(fixture.readyMessages() + fixture.leasedMessages(), [])
    }

    /// Limits from a real cgroup the test creates (v1 controllers here; v2 where the machine has
    /// only v2): `--show-resources` run inside it reports the quota and the memory limit.
    func testCgroupLimitsAreHonoured() throws {
        let name = "studio-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let v2 = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
        let directories = v2 ? ["/sys/fs/cgroup/" + name] : ["/sys/fs/cgroup/cpu/" + name, "/sys/fs/cgroup/memory/" + name]
        for directory in directories {
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false) } catch {
                throw XCTSkip("cannot create a cgroup at \(directory) (run the tests as root with cgroups mounted): \(error)")
            }
        }
        defer { for directory in directories { rmdir(directory) } }
        if v2 {
            try "150000 100000".write(toFile: directories[0] + "/cpu.max", atomically: false, encoding: .utf8)
            try "536870912".write(toFile: directories[0] + "/memory.max", atomically: false, encoding: .utf8)
        } else {
            try "100000".write(toFile: directories[0] + "/cpu.cfs_period_us", atomically: false, encoding: .utf8)
            try "150000".write(toFile: directories[0] + "/cpu.cfs_quota_us", atomically: false, encoding: .utf8)
            try "536870912".write(toFile: directories[1] + "/memory.limit_in_bytes", atomically: false, encoding: .utf8)
        }
        let join = directories.map { "echo $$ > \($0)/cgroup.procs" }.joined(separator: " && ")
        let shown = try fixture.run(["/bin/sh", "-c", join + " && exec \"$0\" remote-worker --show-resources", fixture.studio], executable: nil)
        XCTAssertEqual(shown.code, 0, shown.stderrText)
        XCTAssertTrue(shown.stdoutText.contains("cpus: 1.5 (cgroup cpu quota)"), shown.stdoutText)
        XCTAssertTrue(shown.stdoutText.contains("memory: 512m (cgroup memory limit)"), shown.stdoutText)
    }
}
