import XCTest
import Glibc
import StudioInit

/// The static binary dropped into an "image": a minimal Debian root filesystem with python3 (made
/// with debootstrap by scripts/make-test-rootfs.sh, cached), where `studio remote-worker` runs as
/// PID 1 of a fresh PID namespace and works a real experiment from a local queue mounted in.
final class RootFilesystemTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUp() async throws {
        directory = try TemporaryDirectory()
    }

    override func tearDown() async throws {
        directory.remove()
    }

    func testWorkerRunsAnExperimentAsPID1InADebianRootFilesystem() async throws {
        let environment = ProcessEnvironment.current
        guard let staticBinary = environment["STUDIO_STATIC_BINARY"] else {
            throw XCTSkip("set STUDIO_STATIC_BINARY to a static release build of studio (make static) to run this test")
        }
        guard getuid() == 0 else { throw XCTSkip("needs root for PID namespaces, mounts and chroot") }
        let rootfs = try await debianRootFilesystem(environment)

        // Submit from the host into a STUDIOML_HOME that the root filesystem sees at /srv/studio.
        let home = directory.file("home"), workspace = directory.file("workspace")
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        try """
            import os, sys
            print("hello from", sys.argv[1:], flush=True)
            proof = os.path.join(os.environ["STUDIOML_HOME"], "experiments", os.environ["STUDIOML_EXPERIMENT"], "modeldir", "proof.txt")
            with open(proof, "w") as f:
                f.write(f"{os.getppid()} {sys.version_info[0]}")
            """.write(toFile: workspace + "/exp.py", atomically: true, encoding: .utf8)
        var hostEnvironment = environment
        hostEnvironment["STUDIOML_HOME"] = home
        let submit = try SupervisedRun([try StudioBinary.path(), "run", "--queue", "local", "exp.py", "in a rootfs"],
                                       in: directory, environment: hostEnvironment, workingDirectory: workspace)
        let submitted = await submit.wait(timeout: 60)
        XCTAssertEqual(submitted, .exited(0), submit.standardError)
        let key = submit.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertFalse(key.isEmpty)

        // An overlay keeps the cached root filesystem untouched; everything else happens inside the
        // new mount namespace and disappears with it.
        let merged = directory.file("merged")
        let script = """
            set -e
            mkdir -p \(directory.file("upper")) \(directory.file("work")) \(merged)
            mount -t overlay overlay -o lowerdir=\(rootfs),upperdir=\(directory.file("upper")),workdir=\(directory.file("work")) \(merged)
            cp \(staticBinary) \(merged)/studio
            mount -t proc proc \(merged)/proc
            mkdir -p \(merged)/srv/studio
            mount --bind \(home) \(merged)/srv/studio
            chroot=$(command -v chroot)
            STUDIOML_HOME=/srv/studio PATH=/usr/local/bin:/usr/bin:/bin exec "$chroot" \(merged) /studio remote-worker --queue local --single-run --pip never
            """
        let worker = try SupervisedRun(["unshare", "--pid", "--fork", "--mount", "--kill-child", "sh", "-c", script],
                                       in: directory, environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
        let status = await worker.wait(timeout: 120)
        XCTAssertEqual(status, .exited(0), worker.standardError)
        XCTAssertTrue(worker.standardOutput.contains("hello from ['in a rootfs']"), worker.standardOutput + worker.standardError)

        // The experiment's parent was the worker, and the worker was PID 1.
        let proof = try String(contentsOfFile: home + "/experiments/\(key)/modeldir/proof.txt", encoding: .utf8)
        XCTAssertEqual(proof, "1 3")
        let show = try SupervisedRun([try StudioBinary.path(), "status", key], in: directory, environment: hostEnvironment)
        _ = await show.wait(timeout: 30)
        XCTAssertTrue(show.standardOutput.contains("status:      finished"), show.standardOutput + show.standardError)
    }

    /// A distroless-like root (the binary, /proc and /etc/hosts; no glibc shared libraries, no NSS modules,
    /// no nsswitch.conf): the static binary still finds a store by a name /etc/hosts gives.
    func testStaticBinaryResolvesAStoreFromEtcHostsInARootWithoutSharedLibraries() async throws {
        try await readRecordInsideEmptyRoot(storeHost: "studio-store", etc: ["hosts": "127.0.0.1 studio-store\n"])
    }

    /// The same root with /etc/resolv.conf instead: the name comes from a DNS server (a loopback stub).
    func testStaticBinaryResolvesAStoreByDNSInARootWithoutSharedLibraries() async throws {
        guard getuid() == 0 else { throw XCTSkip("needs root for port 53, PID namespaces, mounts and chroot") }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let dnsAddress = "127.53.0.1"
        let dns = try SupervisedRun(["python3", repository + "/scripts/dns-stub.py", dnsAddress, "studiodns"], in: directory)
        defer { kill(dns.pid, SIGKILL) }
        guard eventually(timeout: 10, { dns.standardOutput.contains("ready") }) else {
            throw XCTSkip("the DNS stub could not listen on \(dnsAddress):53: \(dns.standardError.suffix(300))")
        }
        try await readRecordInsideEmptyRoot(storeHost: "studiodns", etc: ["resolv.conf": "nameserver \(dnsAddress)\noptions attempts:1\n"])
        XCTAssertTrue(dns.standardOutput.contains("1 studiodns"), "the resolver asked the stub: \(dns.standardOutput)")
    }

    /// Submits from the host (store at 127.0.0.1), then reads the record with `studio status` inside a root
    /// holding only the static binary, /proc and the given /etc files, where the store is `storeHost`
    /// (without a dot: moto reads a dotted Host as a virtual-hosted bucket).
    private func readRecordInsideEmptyRoot(storeHost: String, etc: [String: String]) async throws {
        let environment = ProcessEnvironment.current
        guard let staticBinary = environment["STUDIO_STATIC_BINARY"] else {
            throw XCTSkip("set STUDIO_STATIC_BINARY to a static release build of studio (make static) to run this test")
        }
        guard getuid() == 0 else { throw XCTSkip("needs root for PID namespaces, mounts and chroot") }
        let moto = try MotoServer(in: directory)
        defer { kill(moto.run.pid, SIGKILL) }

        let workspace = directory.file("workspace")
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        try "print('never run here')\n".write(toFile: workspace + "/job.py", atomically: true, encoding: .utf8)
        try moto.studioConfig.write(toFile: directory.file("host.yaml"), atomically: true, encoding: .utf8)
        var hostEnvironment = environment.filter { !$0.key.hasPrefix("AWS_") }.merging(moto.awsEnvironment) { $1 }
        hostEnvironment["HOME"] = directory.path
        let queue = "sqs_rootfs_\(UInt32.random(in: 0...UInt32.max))"
        let submit = try SupervisedRun([try StudioBinary.path(), "run", "--config", directory.file("host.yaml"), "--queue", queue, "job.py"],
                                       in: directory, environment: hostEnvironment, workingDirectory: workspace)
        let submitted = await submit.wait(timeout: 60)
        XCTAssertEqual(submitted, .exited(0), submit.standardError)
        let key = submit.standardOutput.filter { !$0.isWhitespace }

        let root = directory.file("root")
        try FileManager.default.createDirectory(atPath: root + "/proc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: staticBinary, toPath: root + "/studio")
        for (name, text) in etc {
            try text.write(toFile: root + "/etc/" + name, atomically: true, encoding: .utf8)
        }
        try moto.studioConfig.replacing("127.0.0.1", with: storeHost)
            .write(toFile: root + "/config.yaml", atomically: true, encoding: .utf8)
        let script = "mount -t proc proc \(root)/proc && exec chroot \(root) /studio status --config /config.yaml \(key)"
        let status = try SupervisedRun(["unshare", "--pid", "--fork", "--mount", "--kill-child", "sh", "-c", script], in: directory,
                                       environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "AWS_EC2_METADATA_DISABLED": "true"])
        let shown = await status.wait(timeout: 60)
        XCTAssertEqual(shown, .exited(0), status.standardError)
        XCTAssertTrue(status.standardOutput.contains(key), status.standardOutput + status.standardError)
        XCTAssertTrue(status.standardOutput.contains("waiting"), status.standardOutput + status.standardError)
    }

    /// The cached root filesystem, made by scripts/make-test-rootfs.sh when missing.
    private func debianRootFilesystem(_ environment: [String: String]) async throws -> String {
        let path = environment["STUDIO_TEST_ROOTFS"] ?? "/var/cache/studio/rootfs-debian-python"
        if access(path + "/.studio-rootfs-complete", F_OK) == 0 { return path }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let make = try SupervisedRun([repository + "/scripts/make-test-rootfs.sh", path], in: directory)
        let status = await make.wait(timeout: 900)
        guard status == .exited(0) else {
            throw XCTSkip("could not build the Debian root filesystem (debootstrap): \(make.standardError.suffix(500))")
        }
        return path
    }
}
