import Foundation
import Glibc
import XCTest

/// What can be checked here of docker/ (Dockerfiles, Kubernetes manifests) and entrypoint.sh without Docker or a
/// cluster: the Dockerfiles' structure, the manifests' fields, and entrypoint.sh run against a stand-in studio.
final class ImageFilesTests: XCTestCase {
    private let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    // MARK: - Dockerfiles

    func testStudioDockerfileBuildsStaticallyAndCopiesTheBuildOutputIntoAScratchStage() throws {
        let stages = try dockerfileStages("docker/Dockerfile")
        let final = try XCTUnwrap(stages.last)
        XCTAssertEqual(final.base, "scratch")
        let copy = try XCTUnwrap(final.copies.first { $0.destination == "/studio" }, "COPY ... /studio")
        let buildStage = try XCTUnwrap(stages.first { $0.name == copy.fromStage }, "the COPY --from stage exists")
        XCTAssertTrue(buildStage.base.contains("SWIFT_IMAGE") || buildStage.base.hasPrefix("swift:6."), buildStage.base)
        XCTAssertTrue(try dockerfileText("docker/Dockerfile").contains("ARG SWIFT_IMAGE=swift:6."))

        // The copied path is the build stage's WORKDIR plus the path its build RUN writes.
        let workdir = try XCTUnwrap(buildStage.workdir)
        XCTAssertTrue(copy.source.hasPrefix(workdir + "/"), "\(copy.source) under \(workdir)")
        let relativeOutput = String(copy.source.dropFirst(workdir.count + 1))
        // The build RUN is `make static`'s script, writing the copied path; the script holds the static flags.
        let build = try XCTUnwrap(buildStage.runs.first { $0.contains("scripts/build-static.sh") }, "a build-static RUN")
        XCTAssertTrue(build.contains("scripts/build-static.sh \(relativeOutput)"), build)
        XCTAssertTrue(buildStage.copies.contains { $0.sources.contains("scripts/build-static.sh") }, "the script is copied in")
        let script = try dockerfileText("scripts/build-static.sh")
        for part in ["-c release", "--static-swift-stdlib", "-Xswiftc -static-executable", "strip "] {
            XCTAssertTrue(script.contains(part), "build-static.sh has \(part)")
        }
        // Every file under scripts/ that the script names (linker script, ordering file) is copied in too.
        let named = script.split(whereSeparator: { " =()\n\"".contains($0) }).filter { $0.hasPrefix("scripts/") && $0.contains(".") }
        XCTAssertFalse(named.isEmpty)
        for file in Set(named.map(String.init)) where file != "scripts/build-static.sh" && file != "scripts/startup-order.sh" {
            XCTAssertTrue(buildStage.copies.contains { $0.sources.contains(file) }, "\(file) is copied in")
        }
        XCTAssertEqual(final.entrypoint, ["/studio"], "exec-form ENTRYPOINT")
        XCTAssertTrue(final.copies.contains { $0.source == "entrypoint.sh" && $0.destination == "/entrypoint.sh" })
        XCTAssertTrue(final.runs.isEmpty, "scratch has no shell to RUN with")
    }

    func testDockerignoreKeepsEverythingTheBuildCopies() throws {
        let ignore = try dockerfileText("docker/Dockerfile.dockerignore")
        let patterns = Set(ignore.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
        XCTAssertTrue(patterns.contains("*"), "the context starts empty (no .build)")
        for stage in try dockerfileStages("docker/Dockerfile") {
            for copy in stage.copies where copy.fromStage == nil {
                for source in copy.sources where source != "./" {
                    // `Package.resolve[d]` (an optional file) is kept in the context by its plain name.
                    let plain = source.replacing(/\[(.)\]/) { String($0.output.1) }
                    let name = plain.hasSuffix("/") ? String(plain.dropLast()) : plain
                    XCTAssertTrue(patterns.contains("!" + name) || patterns.contains("!" + name + "/**"), "\(name) is in the context")
                }
            }
        }
    }

    /// `docker build -f docker/Dockerfile .` works from a clean clone: every file the Dockerfiles COPY from the
    /// context is tracked by git (a build-time file such as the gitignored Package.resolved may only be copied
    /// through a glob, which Docker lets match nothing as long as another source of the same COPY matches).
    func testEveryCopiedContextFileIsInACleanClone() throws {
        let listing = try runImageProcess(["/usr/bin/env", "git", "-C", repositoryRoot, "ls-files", "-z"],
                                          environment: ProcessInfo.processInfo.environment)
        guard listing.status == 0 else { throw XCTSkip("not a git checkout (git ls-files: \(listing.stderr))") }
        let tracked = listing.stdout.split(separator: "\u{0}").map(String.init)
        XCTAssertFalse(tracked.isEmpty)
        func isTracked(_ source: String) -> Bool {
            let path = source.hasPrefix("./") ? String(source.dropFirst(2)) : source
            if path.isEmpty { return true }  // the whole context
            let directory = path.hasSuffix("/") ? path : path + "/"
            return tracked.contains { $0 == path || $0.hasPrefix(directory) }
        }
        func matchesTracked(_ pattern: String) -> Bool {
            tracked.contains { fnmatch(pattern, $0, FNM_PATHNAME) == 0 }
        }
        let dockerfiles = ["docker/Dockerfile", "docker/examples/python.Dockerfile", "docker/examples/cuda.Dockerfile"]
        var checked = 0
        for file in dockerfiles {
            for stage in try dockerfileStages(file) {
                for copy in stage.copies where copy.fromStage == nil {
                    var anyPresent = false
                    for source in copy.sources {
                        checked += 1
                        if source.contains(where: { "*?[".contains($0) }) {
                            anyPresent = anyPresent || matchesTracked(source)
                        } else {
                            XCTAssertTrue(isTracked(source), "\(file): COPY \(source) is not in a clean clone (git ls-files); "
                                          + "copy it through a glob such as Package.resolve[d] if it is optional")
                            anyPresent = true
                        }
                    }
                    XCTAssertTrue(anyPresent, "\(file): COPY \(copy.sources) copies nothing from a clean clone")
                }
            }
        }
        XCTAssertGreaterThan(checked, 0, "the Dockerfile parser found no COPY from the context")
    }

    func testExampleImagesCopyStudioFromTheStudioImageAndUseExecFormEntrypoints() throws {
        let providedByStudioImage = Set(try XCTUnwrap(dockerfileStages("docker/Dockerfile").last).copies.map(\.destination))
        for file in ["docker/examples/python.Dockerfile", "docker/examples/cuda.Dockerfile"] {
            let text = try dockerfileText(file)
            let stages = try dockerfileStages(file)
            XCTAssertTrue(text.contains("ARG STUDIO_IMAGE=studioml/studio:latest"), file)
            let studioStage = try XCTUnwrap(stages.first { $0.base == "${STUDIO_IMAGE}" }, file)
            let final = try XCTUnwrap(stages.last)
            XCTAssertTrue(final.copies.contains { $0.fromStage == studioStage.name && $0.source == "/studio" && $0.destination == "/studio" }, file)
            for copy in final.copies where copy.fromStage == studioStage.name {
                XCTAssertTrue(providedByStudioImage.contains(copy.source), "\(file): the studio image has \(copy.source)")
            }
            let entrypoint = try XCTUnwrap(final.entrypoint, "\(file): exec-form ENTRYPOINT")
            XCTAssertTrue(["/studio", "/entrypoint.sh"].contains(entrypoint.first ?? ""), "\(file): \(entrypoint)")
            if entrypoint.first == "/entrypoint.sh" {
                XCTAssertTrue(final.copies.contains { $0.destination == "/entrypoint.sh" }, file)
            }
        }
        let cuda = try XCTUnwrap(dockerfileStages("docker/examples/cuda.Dockerfile").last)
        XCTAssertTrue(cuda.base.contains("CUDA_IMAGE"))
        XCTAssertTrue(try dockerfileText("docker/examples/cuda.Dockerfile").contains("ARG CUDA_IMAGE=nvidia/cuda:"))
        XCTAssertTrue(cuda.runs.joined().contains("python3"))
        XCTAssertTrue(try XCTUnwrap(dockerfileStages("docker/examples/python.Dockerfile").last).base.hasPrefix("python:3"))
    }

    // MARK: - Kubernetes manifests

    func testEveryJobFailsFastOnConfigurationErrorsAndIgnoresGracefulStops() throws {
        let jobs = try kubernetesManifests().flatMap { file, documents in documents.filter { $0.kind == "Job" }.map { (file, $0) } }
        XCTAssertEqual(jobs.count, 4)
        for (file, job) in jobs {
            let spec = try XCTUnwrap(job.spec, file)
            let pod = try XCTUnwrap(spec.template?.spec, file)
            XCTAssertEqual(pod.restartPolicy, "Never", file)
            XCTAssertTrue(spec.podReplacementPolicy == nil || spec.podReplacementPolicy == "Failed", file)
            let container = try XCTUnwrap(pod.containers.first, file)
            XCTAssertEqual(container.command, ["/studio"], file)
            let arguments = container.args ?? []
            XCTAssertEqual(arguments.first, "remote-worker", file)
            XCTAssertNotNil(value(of: "--queue", in: arguments), file)

            let rules = try XCTUnwrap(spec.podFailurePolicy?.rules, file)
            XCTAssertEqual(rules.first?.action, "FailJob", "\(file): 42 is matched first")
            XCTAssertEqual(rules.first?.onExitCodes?.values, [42], file)
            XCTAssertEqual(rules.first?.onExitCodes?.operator, "In", file)
            XCTAssertTrue(rules.contains { $0.action == "Ignore" && $0.onExitCodes?.values == [143] && $0.onExitCodes?.operator == "In" }, file)
            if arguments.contains("--single-run") {
                // 75: a message whose failure may pass went back to the queue; a new pod takes it, no backoff spent.
                XCTAssertTrue(rules.contains { $0.action == "Ignore" && $0.onExitCodes?.values == [75] }, "\(file): 75 is not ignored")
            }
            XCTAssertTrue(rules.contains { $0.action == "Ignore" && $0.onPodConditions?.contains { $0.type == "DisruptionTarget" } == true }, file)
            for rule in rules { if let name = rule.onExitCodes?.containerName { XCTAssertEqual(name, container.name, file) } }
            XCTAssertNotNil(spec.backoffLimit, file)

            let grace = Int(value(of: "--grace", in: arguments) ?? "10") ?? 10
            let period = try XCTUnwrap(pod.terminationGracePeriodSeconds, file)
            XCTAssertGreaterThanOrEqual(period, grace + 30, "\(file): room after --grace to hand back and save")

            if arguments.contains("--single-run") {
                XCTAssertNotNil(spec.completions, "\(file): one completion per experiment")
            } else {
                XCTAssertNil(spec.completions, "\(file): a work-queue Job leaves completions unset")
                XCTAssertGreaterThanOrEqual(try XCTUnwrap(spec.parallelism, file), 2, file)
            }
        }
        XCTAssertTrue(jobs.contains { $0.1.spec?.template?.spec?.containers.first?.args?.contains("--single-run") == true })
    }

    func testServiceAccountKeyComesFromAWholeSecretMount() throws {
        for file in ["docker/k8s/job-work-queue.yaml", "docker/k8s/job-single-run.yaml"] {
            let pod = try XCTUnwrap(try kubernetesManifests()[file]?.first { $0.kind == "Job" }?.spec?.template?.spec, file)
            let container = try XCTUnwrap(pod.containers.first)
            let keyPath = try XCTUnwrap(container.env?.first { $0.name == "GOOGLE_APPLICATION_CREDENTIALS" }?.value, file)
            let mount = try XCTUnwrap(container.volumeMounts?.first { keyPath.hasPrefix($0.mountPath + "/") }, "\(file): \(keyPath) is inside a mount")
            XCTAssertNil(mount.subPath, "\(file): subPath mounts never see a rotated Secret")
            XCTAssertEqual(mount.readOnly, true, file)
            let volume = try XCTUnwrap(pod.volumes?.first { $0.name == mount.name }, file)
            XCTAssertNotNil(volume.secret?.secretName, "\(file): the mount is a Secret")
        }
    }

    func testWorkloadIdentityVariantsAnnotateTheServiceAccountAndMountNoKeys() throws {
        let manifests = try kubernetesManifests()
        let variants = [
            ("docker/k8s/gke-workload-identity.yaml", "iam.gke.io/gcp-service-account", ".iam.gserviceaccount.com", "GOOGLE_APPLICATION_CREDENTIALS"),
            ("docker/k8s/eks-irsa.yaml", "eks.amazonaws.com/role-arn", "arn:aws:iam::", "AWS_SECRET_ACCESS_KEY"),
        ]
        for (file, annotation, expected, forbiddenVariable) in variants {
            let documents = try XCTUnwrap(manifests[file], file)
            let account = try XCTUnwrap(documents.first { $0.kind == "ServiceAccount" }, file)
            let identity = try XCTUnwrap(account.metadata.annotations?[annotation], "\(file): \(annotation)")
            XCTAssertTrue(identity.contains(expected), "\(file): \(identity)")
            let pod = try XCTUnwrap(documents.first { $0.kind == "Job" }?.spec?.template?.spec, file)
            XCTAssertEqual(pod.serviceAccountName, account.metadata.name, file)
            XCTAssertNil(pod.volumes, "\(file): no key volume")
            XCTAssertFalse(pod.containers.contains { $0.env?.contains { $0.name == forbiddenVariable } == true }, file)
        }
        let eksArguments = manifests["docker/k8s/eks-irsa.yaml"]?.first { $0.kind == "Job" }?.spec?.template?.spec?.containers.first?.args ?? []
        XCTAssertTrue(value(of: "--queue", in: eksArguments)?.hasPrefix("sqs_") == true, "IRSA example works an SQS queue")
    }

    // MARK: - entrypoint.sh

    func testEntrypointMapsEnvironmentVariablesToFlagsKeepingSpaces() throws {
        let result = try runEntrypoint([], environment: [
            "STUDIO_QUEUE": "my queue", "STUDIO_SINGLE_RUN": "yes", "STUDIO_TIMEOUT": "-1", "STUDIO_CONFIG": "/etc/my config.yaml",
            "STUDIO_GRACE": "25", "STUDIO_LEASE": "600", "STUDIO_PIP": "never", "STUDIO_LOG_FORMAT": "json", "STUDIO_VERBOSE": "TRUE",
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(standInArguments(result), [
            "remote-worker", "--queue", "my queue", "--single-run", "--timeout", "-1", "--config", "/etc/my config.yaml",
            "--grace", "25", "--lease", "600", "--pip", "never", "--log-format", "json", "-v",
        ])
        let minimal = try runEntrypoint([], environment: ["STUDIO_QUEUE": "q", "STUDIO_SINGLE_RUN": "false", "STUDIO_VERBOSE": "0"])
        XCTAssertEqual(standInArguments(minimal), ["remote-worker", "--queue", "q"])
    }

    func testEntrypointPassesArgumentsThroughAndIgnoresTheVariablesThen() throws {
        let result = try runEntrypoint(["remote-worker", "--queue", "a b", "--lease", "5"], environment: ["STUDIO_QUEUE": "other", "STUDIO_SINGLE_RUN": "1"])
        XCTAssertEqual(standInArguments(result), ["remote-worker", "--queue", "a b", "--lease", "5"])
        let flagsOnly = try runEntrypoint(["--queue", "q", "--single-run"], environment: [:])
        XCTAssertEqual(standInArguments(flagsOnly), ["remote-worker", "--queue", "q", "--single-run"])
        let other = try runEntrypoint(["init", "--", "echo", "hi there"], environment: [:])
        XCTAssertEqual(standInArguments(other), ["init", "--", "echo", "hi there"])
    }

    func testEntrypointWithoutQueueOrArgumentsExits64WithAMessage() throws {
        let result = try runEntrypoint([], environment: [:])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("STUDIO_QUEUE is not set"), result.stderr)
        XCTAssertEqual(result.stdout, "", "studio did not run")

        let badFlag = try runEntrypoint([], environment: ["STUDIO_QUEUE": "q", "STUDIO_SINGLE_RUN": "ture"])
        XCTAssertEqual(badFlag.status, 64)
        XCTAssertTrue(badFlag.stderr.contains("STUDIO_SINGLE_RUN") && badFlag.stderr.contains("ture"), badFlag.stderr)
        XCTAssertEqual(badFlag.stdout, "")

        let noBinary = try runEntrypoint([], environment: ["STUDIO_QUEUE": "q", "STUDIO_BIN": "/nonexistent/studio"])
        XCTAssertEqual(noBinary.status, 127)
        XCTAssertTrue(noBinary.stderr.contains("/nonexistent/studio"), noBinary.stderr)
    }

    func testEntrypointExecsSoStudioKeepsTheShellsPID() throws {
        let shell = try XCTUnwrap(posixShell())
        let standIn = try makeStandInStudio()
        defer { try? FileManager.default.removeItem(atPath: (standIn as NSString).deletingLastPathComponent) }
        // The outer shell prints its pid, then execs the entrypoint, which execs the stand-in: one pid throughout.
        let result = try runImageProcess(
            [shell, "-c", "echo $$; exec \"$0\" \"$1\"", shell, repositoryRoot + "/entrypoint.sh"],
            environment: ["PATH": "/usr/bin:/bin", "STUDIO_BIN": standIn, "STUDIO_QUEUE": "q"])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertGreaterThanOrEqual(lines.count, 2)
        XCTAssertEqual("pid=" + (lines.first ?? "none"), lines.dropFirst().first)
    }

    func testEntrypointIsExecutableAndPOSIX() throws {
        let path = repositoryRoot + "/entrypoint.sh"
        XCTAssertEqual(access(path, X_OK), 0, "entrypoint.sh is executable")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("#!/bin/sh\n"))
        XCTAssertFalse(text.contains("[["), "no bash tests")
        XCTAssertFalse(text.contains("local "), "no `local`")
        let shell = try XCTUnwrap(posixShell())
        XCTAssertEqual(try runImageProcess([shell, "-n", path], environment: [:]).status, 0, "\(shell) -n accepts it")
    }

    // MARK: - Helpers

    private func dockerfileText(_ relativePath: String) throws -> String {
        try String(contentsOfFile: repositoryRoot + "/" + relativePath, encoding: .utf8)
    }

    private func dockerfileStages(_ relativePath: String) throws -> [DockerfileStage] {
        parseDockerfile(try dockerfileText(relativePath))
    }

    /// Every docker/k8s/*.yaml file, each as its list of documents, loaded with PyYAML and read back as JSON.
    private func kubernetesManifests() throws -> [String: [KubernetesObject]] {
        let script = """
            import glob, json, os, sys, yaml
            os.chdir(sys.argv[1])
            print(json.dumps({f: [d for d in yaml.safe_load_all(open(f)) if d] for f in sorted(glob.glob('docker/k8s/*.yaml'))}))
            """
        let result = try runImageProcess(["/usr/bin/env", "python3", "-c", script, repositoryRoot],
                                         environment: ProcessInfo.processInfo.environment)
        XCTAssertEqual(result.status, 0, result.stderr)
        let manifests = try JSONDecoder().decode([String: [KubernetesObject]].self, from: Data(result.stdout.utf8))
        XCTAssertFalse(manifests.isEmpty)
        return manifests
    }

    private func value(of option: String, in arguments: [String]) -> String? {
        guard let index = arguments.firstIndex(of: option), index + 1 < arguments.count else { return nil }
        return arguments[index + 1]
    }

    private func posixShell() -> String? {
        ["/usr/bin/dash", "/bin/dash", "/bin/sh"].first { access($0, X_OK) == 0 }
    }

    /// A stand-in studio that prints `pid=<its pid>` and then each argument on its own line.
    private func makeStandInStudio() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("standin-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/studio"
        try "#!/bin/sh\necho \"pid=$$\"\nfor a; do printf '%s\\n' \"$a\"; done\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    private func runEntrypoint(_ arguments: [String], environment: [String: String]) throws -> ImageProcessResult {
        let shell = try XCTUnwrap(posixShell())
        let standIn = try makeStandInStudio()
        defer { try? FileManager.default.removeItem(atPath: (standIn as NSString).deletingLastPathComponent) }
        let base = ["PATH": "/usr/bin:/bin", "STUDIO_BIN": standIn]
        return try runImageProcess([shell, repositoryRoot + "/entrypoint.sh"] + arguments, environment: base.merging(environment) { $1 })
    }

    private func standInArguments(_ result: ImageProcessResult) -> [String] {
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLast()
        XCTAssertTrue(lines.first?.hasPrefix("pid=") == true, result.stdout)
        return Array(lines.dropFirst())
    }
}

// MARK: - Dockerfile parsing (instructions that matter here)

private struct DockerfileCopy {
    var fromStage: String?
    var sources: [String]
    var destination: String
    var source: String { sources.first ?? "" }
}

private struct DockerfileStage {
    var base: String
    var name: String?
    var workdir: String?
    var runs: [String] = []
    var copies: [DockerfileCopy] = []
    /// The exec-form (JSON array) ENTRYPOINT; nil when absent or in shell form.
    var entrypoint: [String]?
}

/// Splits a Dockerfile into stages, joining `\` continuations and skipping comments.
private func parseDockerfile(_ text: String) -> [DockerfileStage] {
    var instructions: [String] = []
    var pending = ""
    for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let line = rawLine.trimmingCharacters(in: .whitespaces)
        if line.hasPrefix("#") || (line.isEmpty && pending.isEmpty) { continue }
        if line.hasSuffix("\\") {
            pending += line.dropLast() + " "
        } else {
            instructions.append(pending + line)
            pending = ""
        }
    }
    var stages: [DockerfileStage] = []
    for instruction in instructions where !instruction.isEmpty {
        let words = instruction.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let keyword = words[0].uppercased()
        let rest = String(instruction.dropFirst(words[0].count)).trimmingCharacters(in: .whitespaces)
        if keyword == "FROM" {
            let parts = words.dropFirst().filter { !$0.hasPrefix("--") }
            let name = parts.count >= 3 && parts[parts.startIndex + 1].uppercased() == "AS" ? parts[parts.startIndex + 2] : nil
            stages.append(DockerfileStage(base: parts.first ?? "", name: name))
            continue
        }
        guard !stages.isEmpty else { continue }  // ARGs before the first FROM
        switch keyword {
        case "WORKDIR": stages[stages.count - 1].workdir = rest
        case "RUN": stages[stages.count - 1].runs.append(rest)
        case "COPY":
            let flags = words.dropFirst().filter { $0.hasPrefix("--") }
            let paths = words.dropFirst().filter { !$0.hasPrefix("--") }
            let from = flags.first { $0.hasPrefix("--from=") }.map { String($0.dropFirst("--from=".count)) }
            stages[stages.count - 1].copies.append(
                DockerfileCopy(fromStage: from, sources: Array(paths.dropLast()), destination: paths.last ?? ""))
        case "ENTRYPOINT":
            stages[stages.count - 1].entrypoint = try? JSONDecoder().decode([String].self, from: Data(rest.utf8))
        default: break
        }
    }
    return stages
}

// MARK: - The Kubernetes fields the tests read

private struct KubernetesObject: Decodable {
    struct Metadata: Decodable { var name: String; var annotations: [String: String]? }
    struct JobSpec: Decodable {
        var parallelism: Int?
        var completions: Int?
        var backoffLimit: Int?
        var podReplacementPolicy: String?
        var podFailurePolicy: PodFailurePolicy?
        var template: PodTemplate?
    }
    struct PodFailurePolicy: Decodable { var rules: [Rule] }
    struct Rule: Decodable {
        struct ExitCodes: Decodable { var containerName: String?; var `operator`: String; var values: [Int] }
        struct Condition: Decodable { var type: String }
        var action: String
        var onExitCodes: ExitCodes?
        var onPodConditions: [Condition]?
    }
    struct PodTemplate: Decodable { var spec: PodSpec? }
    struct PodSpec: Decodable {
        var restartPolicy: String?
        var terminationGracePeriodSeconds: Int?
        var serviceAccountName: String?
        var containers: [Container]
        var volumes: [Volume]?
    }
    struct Container: Decodable {
        var name: String
        var command: [String]?
        var args: [String]?
        var env: [EnvVar]?
        var volumeMounts: [VolumeMount]?
    }
    struct EnvVar: Decodable { var name: String; var value: String? }
    struct VolumeMount: Decodable { var name: String; var mountPath: String; var readOnly: Bool?; var subPath: String? }
    struct Volume: Decodable {
        struct SecretSource: Decodable { var secretName: String? }
        var name: String
        var secret: SecretSource?
    }
    var kind: String
    var metadata: Metadata
    var spec: JobSpec?
}

// MARK: - Running processes (private to this file; a shared fixture may replace it later)

private struct ImageProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `argv` with exactly `environment`, stdout and stderr captured through files; gives up after 60 s.
private func runImageProcess(_ argv: [String], environment: [String: String]) throws -> ImageProcessResult {
    let outputDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("proc-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: outputDirectory) }
    let pid = try SupervisedProcess.spawn(argv, environment: environment, outputDirectory: outputDirectory)
    guard let status = SupervisedProcess.wait(pid, timeout: 60) else {
        kill(pid, SIGKILL)
        _ = SupervisedProcess.wait(pid, timeout: 10)
        throw POSIXError(.ETIMEDOUT)
    }
    return ImageProcessResult(
        status: status,
        stdout: (try? String(contentsOfFile: outputDirectory + "/stdout", encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOfFile: outputDirectory + "/stderr", encoding: .utf8)) ?? "")
}
