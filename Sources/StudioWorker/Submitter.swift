#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioModel
import StudioQueues
import StudioStorage

/// What `studio run` submits.
public struct Submission: Sendable {
    /// The script (relative to the workspace) or, with `module`, the `pkg.mod` to run with `-m`.
    public var script: String
    /// Whether `script` is a module name (`studio run -m pkg::mod`).
    public var module = false
    /// Arguments, exactly as typed.
    public var arguments: [String] = []
    /// The experiment key (`-e NAME`); a fresh `<epoch>_<uuid>` when nil.
    public var experimentName: String?
    public var project: String?
    public var maxDuration: String?
    /// `--metric name[:min|:max]`: the TensorBoard tag whose value the UI's list shows.
    public var metric: String?
    public var lifetime: String?
    /// `PATH:TAG` pairs: extra mutable artifacts (saved at checkpoints).
    public var captures: [(path: String, tag: String)] = []
    /// `PATH:TAG` pairs: extra immutable artifacts (uploaded once, unpacked before the run).
    public var capturesOnce: [(path: String, tag: String)] = []
    /// Overrides of `resources_needed` (`gpus`, `cpus`, `ram`, `hdd`).
    public var resources: [String: JSONValue] = [:]
    /// The workspace directory to pack.
    public var workspace: String

    public init(script: String, workspace: String) {
        self.script = script
        self.workspace = workspace
    }
}

/// Submits experiments: packs the workspace, uploads it content-addressed (skipped when the blob
/// is already there), writes the record and the user's key, and puts the message on the queue —
/// StudioML's `studio run`, with the same keys and the same message.
public struct Submitter: Sendable {
    let config: StudioConfig
    let home: String
    let log: WorkerLog
    let progress: (any SubmissionProgress)?

    public init(config: StudioConfig, home: String, log: WorkerLog, progress: (any SubmissionProgress)? = nil) {
        self.config = config
        self.home = home
        self.log = log
        self.progress = progress
    }

    /// Submits one experiment to `queue`; returns its key.
    ///
    /// The order keeps a stopped submission harmless: the queue is looked up first (a bad queue fails before
    /// anything is packed), then the workspace is packed and uploaded, then the record and its index keys are
    /// written, and the message is sent last. Until the message is sent, a failure or an `interruption` removes
    /// the record and index keys again, so no record says `waiting` for a message that does not exist. An
    /// uploaded blob stays: it is content-addressed, the next submission of the same files reuses it, and
    /// removing it could race with another submission that found it already stored.
    public func submit(_ submission: Submission, to queue: any JobQueue,
                       interruption: SubmissionInterruption? = nil) async throws -> String {
        let stores = try ExperimentStores(config: config, home: home)
        let key = submission.experimentName ?? Experiment.generateKey()
        var written: [String] = []  // database keys to remove if the message is never sent
        do {
            let message = try await prepare(submission, key: key, queue: queue, stores: stores, interruption: interruption, written: &written)
            // From here the message may reach the queue: a signal no longer stops the submission.
            try interruption?.commit()
            try await queue.send(message.jsonData())
        } catch {
            await removeUnsent(written, from: stores.database)
            if let interruption, interruption.isInterrupted, let signal = interruption.signal {
                throw SubmissionInterrupted(signal: signal)
            }
            throw error
        }
        log.debug("submitted", ["experiment": key, "queue": queue.name])
        return key
    }

    /// Everything before the message is sent: the queue checked, the workspace stored, the record written.
    private func prepare(_ submission: Submission, key: String, queue: any JobQueue, stores: ExperimentStores,
                         interruption: SubmissionInterruption?, written: inout [String]) async throws -> StudioMessage {
        try await queue.prepare()
        let scratch = home + "/tmp"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)

        let now = Date.now.timeIntervalSince1970
        var resources = config.resourcesNeeded.json
        for (name, value) in submission.resources { resources[name] = value }
        let (filename, arguments) = submission.module
            ? ("-m", [submission.script.replacing("::", with: ".")] + submission.arguments)
            : (submission.script, submission.arguments)
        try interruption?.check()
        let workspace = try await uploadImmutable(submission.workspace, ignoreFile: true, scratch: scratch, storage: stores.storage,
                                                  interruption: interruption)
        var artifacts = Artifact.defaults(
            experimentKey: key, workspacePath: absolutePath(submission.workspace), workspaceBlobKey: workspace.key,
            studioHome: home, store: ArtifactStoreReference(config.storage))
        for capture in submission.capturesOnce {
            let blob = try await uploadImmutable(capture.path, ignoreFile: false, scratch: scratch, storage: stores.storage,
                                                 interruption: interruption)
            artifacts.append((capture.tag, Artifact(mutable: false, key: blob.key, local: absolutePath(capture.path))))
        }
        for capture in submission.captures {
            artifacts.append((capture.tag, Artifact(mutable: true, key: "experiments/\(key)/\(capture.tag).tar", local: absolutePath(capture.path))))
        }
        let experiment = Experiment(
            // Stored shell-quoted, as StudioML's submitter stores them; workers undo it once.
            key: key, filename: filename, args: arguments.map(ShellWord.quote),
            pythonenv: requirements(in: submission.workspace), pythonver: pythonVersion(),
            project: submission.project, resourcesNeeded: resources, timeAdded: now,
            maxDuration: submission.maxDuration, metric: submission.metric, artifacts: artifacts)
        var recorded = experiment
        recorded.redactedConfig = config.source
        try interruption?.check()
        let records = RecordBook(store: stores.database)
        written.append(RecordBook.recordKey(key))
        try await stores.database.delete(RecordBook.recordKey(key))
        try await records.write(recorded)
        let owner = experiment.owner ?? "guest"
        written.append("users/\(owner)/experiments/\(key)")
        try await stores.database.put("users/\(owner)/experiments/\(key)", Data(JSONValue.double(now).serialized().utf8))
        if let project = submission.project {
            written.append("projects/\(project)/\(key)/owner")
            try await stores.database.put("projects/\(project)/\(key)/owner", Data(JSONValue.string(owner).serialized().utf8))
        }

        var messageConfig = config.source
        if let lifetime = submission.lifetime { messageConfig["experimentLifetime"] = .string(lifetime) }
        return StudioMessage(experiment: experiment, config: messageConfig)
    }

    /// Removes a submitted experiment's record and index keys again: for `studio run` without `--queue`, whose
    /// private queue (and the message on it) is deleted when a signal stops it before the experiment starts.
    public func withdraw(_ key: String, project: String?) async {
        guard let stores = try? ExperimentStores(config: config, home: home) else { return }
        let owner = (try? await RecordBook(store: stores.database).read(key))?.owner ?? "guest"
        var keys = [RecordBook.recordKey(key), "users/\(owner)/experiments/\(key)"]
        if let project { keys.append("projects/\(project)/\(key)/owner") }
        await removeUnsent(keys, from: stores.database)
    }

    /// Removes what a submission wrote to the database before its message was sent. Run as a task of its own:
    /// the submission's task may be cancelled, and the removal must still reach the store.
    private func removeUnsent(_ keys: [String], from database: any ObjectStore) async {
        guard !keys.isEmpty else { return }
        let log = self.log
        await Task {
            for key in keys.reversed() {
                do {
                    try await database.delete(key)
                    if key.hasPrefix("experiments/") { await RecordBook(store: database).markChanged(String(key.dropFirst("experiments/".count))) }
                } catch {
                    log.warning("cannot remove \(key) of a submission that was not sent: \(error)")
                }
            }
        }.value
    }

    /// Packs `path` (a directory, or one file), uploads it to `blobstore/<sha256>.tar` unless it
    /// is already there, and returns its artifact entry. What no worker would unpack (virtualenvs, links
    /// that are absolute or point outside) is left out, with a warning naming it.
    private func uploadImmutable(_ path: String, ignoreFile: Bool, scratch: String, storage: any ObjectStore,
                                 interruption: SubmissionInterruption?) async throws -> Artifact {
        let local = absolutePath(path)
        let tar = scratch + "/pack-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tar"
        defer { try? FileManager.default.removeItem(atPath: tar) }
        let name = local.split(separator: "/").last.map(String.init) ?? local
        let endPacking = progress?.begin("packing \(name)", total: treeSize(local), done: { fileSize(tar) })
        let packed: TarDigest
        do {
            packed = try ArtifactPacking.packForSubmission(local, toTar: tar, honourIgnoreFile: ignoreFile, compression: config.storage.compression,
                                                           interrupted: { interruption?.isInterrupted ?? false })
            endPacking?()
        } catch {
            endPacking?()
            throw error
        }
        warnAboutLeftOut(packed.leftOut, in: path)
        try interruption?.check()
        let key = "blobstore/\(packed.sha256).tar" + ArtifactPacking.extensionSuffix(config.storage.compression)
        if try await !storage.exists(key) {
            let endUpload = progress?.begin("uploading \(name)", total: nil, done: { fileSize(tar) })
            defer { endUpload?() }
            try await storage.upload(key, fromFile: tar)
        } else {
            log.debug("blob already stored", ["key": key])
        }
        return Artifact(mutable: false, key: key, local: local)
    }

    /// One warning line for the virtualenvs and one for the links that packing left out, naming the first few.
    private func warnAboutLeftOut(_ leftOut: [LeftOut], in path: String) {
        func shown(_ items: [String]) -> String {
            items.prefix(3).joined(separator: ", ") + (items.count > 3 ? " and \(items.count - 3) more" : "")
        }
        let virtualenvs = leftOut.filter { $0.reason == .virtualenv }.map(\.path)
        if !virtualenvs.isEmpty {
            log.warning("left out of \(path) \(virtualenvs.count) virtualenv(s) (a directory holding pyvenv.cfg only works on this "
                        + "machine; workers install requirements.txt instead): \(shown(virtualenvs))")
        }
        let links = leftOut.compactMap { item -> String? in
            guard case .link(let target, _) = item.reason else { return nil }
            return "\(item.path) -> \(target)"
        }
        if !links.isEmpty {
            log.warning("left out of \(path) \(links.count) symlink(s) that no worker would unpack (absolute, or pointing outside it): "
                        + "\(shown(links)); copy what the experiment needs into the workspace, or use a relative link inside it")
        }
    }

    /// The workspace's `requirements.txt`, one entry per requirement as pip reads the file (continuations
    /// joined, comments dropped), which a worker installs what it lacks of; StudioML sent the submitter's
    /// whole `pip freeze` instead.
    private func requirements(in workspace: String) -> [String] {
        guard let data = FileManager.default.contents(atPath: workspace + "/requirements.txt") else { return [] }
        return PipRequirements.lines(of: String(decoding: data, as: UTF8.self))
    }

    /// The `major.minor` of the Python the experiment was written for: `STUDIO_PYTHON_VERSION` if
    /// set, else 3 (the worker then runs `python3`).
    private func pythonVersion() -> String {
        ProcessInfo.processInfo.environment["STUDIO_PYTHON_VERSION"] ?? "3"
    }

    private func absolutePath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return FileManager.default.currentDirectoryPath + "/" + path
    }
}
