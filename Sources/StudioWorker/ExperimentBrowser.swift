#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioModel
import StudioStorage

/// Read access to experiments for the submitter's side: `studio status`, `logs` and `stop`.
public struct ExperimentBrowser: Sendable {
    let stores: ExperimentStores
    let home: String

    public init(config: StudioConfig, home: String) throws {
        stores = try ExperimentStores(config: config, home: home)
        self.home = home
    }

    /// Over stores already open (the UI's tests hand it an S3 or GCS store).
    public init(database: any ListableObjectStore, storage: any ListableObjectStore, home: String) {
        stores = ExperimentStores(database: database, storage: storage)
        self.home = home
    }

    /// Every experiment record in the database, newest first.
    public func recent(limit: Int) async throws -> [Experiment] {
        let keys = try await stores.database.list(prefix: "experiments/")
        var records: [Experiment] = []
        for key in keys {
            let name = key.dropFirst("experiments/".count)
            guard !name.isEmpty, !name.contains("/") else { continue }
            if let record = try? await RecordBook(store: stores.database).read(String(name)) { records.append(record) }
        }
        records.sort { ($0.timeAdded ?? 0) > ($1.timeAdded ?? 0) }
        return Array(records.prefix(limit))
    }

    /// One experiment's record; nil when there is none.
    public func record(_ key: String) async throws -> Experiment? {
        try await RecordBook(store: stores.database).read(key)
    }

    /// Asks the worker running `key` to stop it: sets the record's status to `stopped`.
    /// Returns the status it had, or nil when there is no such experiment.
    public func requestStop(_ key: String) async throws -> ExperimentStatus? {
        let records = RecordBook(store: stores.database)
        guard let before = try await records.read(key) else { return nil }
        if before.status.isFinal { return before.status }
        try await records.update(key) { $0.status = .stopped }
        return before.status
    }

    /// The database store (records): the web UI lists and reads it directly.
    public var database: any ListableObjectStore { stores.database }
    /// The storage store (artifacts).
    public var storage: any ListableObjectStore { stores.storage }

    /// Deletes an experiment that is over: its artifacts under `experiments/<key>/` in storage (never
    /// shared `blobstore/` blobs), its owner's and project's index entries, then its record. A waiting or
    /// running experiment is left alone (its status is returned): a worker would re-create a deleted
    /// waiting record from its queue message and run it. A record that does not parse is deleted too.
    /// Returns the status it had (`.other("malformed")` for an unreadable record), or nil when there is none.
    public func delete(_ key: String) async throws -> ExperimentStatus? {
        let recordKey = RecordBook.recordKey(key)
        guard let data = try await stores.database.get(recordKey) else { return nil }
        let record = try? Experiment(parsing: data)
        let status = record?.status ?? .other("malformed")
        if status == .waiting || status == .running { return status }
        for artifact in try await stores.storage.list(prefix: recordKey + "/") {
            try await stores.storage.delete(artifact)
        }
        if let record {
            try await stores.database.delete("users/\(record.owner ?? "guest")/experiments/\(key)")
            if let project = record.project { try await stores.database.delete("projects/\(project)/\(key)/owner") }
        }
        try await RecordBook(store: stores.database).delete(key)
        return status
    }

    /// The experiment's output so far, from byte `offset` on: the worker's live file when it runs
    /// on this machine, else the live log's segments in storage, else the last checkpoint's `output.tar`.
    public func output(_ key: String, from offset: Int) async throws -> [UInt8] {
        try await output(key, from: offset, limit: nil).bytes
    }

    /// At most `limit` bytes of the output from `offset` on, or its last `limit` bytes when there is no offset,
    /// with the output's size so far: only those bytes are read (but from an `output.tar`, which is whole).
    public func output(_ key: String, from offset: Int?, limit: Int?) async throws -> OutputSlice {
        if let slice = readFile(RunLayout(home: home, key: key).outputFile, from: offset, limit: limit) { return slice }
        if let slice = try await LiveLogReader.read(stores.storage, key: key, from: offset, limit: limit) { return slice }
        // One directory per call: the web UI reads several logs at once.
        let scratch = home + "/tmp/logs-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        guard try await stores.storage.download("experiments/\(key)/output.tar", toFile: scratch + "/output.tar") else {
            return OutputSlice(start: 0, bytes: [], total: 0)
        }
        try ArtifactPacking.unpack(tar: scratch + "/output.tar", into: scratch + "/output")
        return readFile(scratch + "/output", from: offset, limit: limit) ?? OutputSlice(start: 0, bytes: [], total: 0)
    }

    /// Where artifact `tag` of `key` is while a worker on this machine runs it (nil when it is not here).
    public func liveArtifactPath(_ key: String, tag: String) -> String? {
        let path = RunLayout(home: home, key: key).path(for: tag)
        return access(path, F_OK) == 0 ? path : nil
    }

    /// The slice of a local file; nil when it cannot be opened.
    private func readFile(_ path: String, from offset: Int?, limit: Int?) -> OutputSlice? {
        let read = RegularFiles.read(path) { size in
            let start = OutputSlice.start(of: offset, limit: limit, total: size)
            return start ..< (limit.map { start + $0 } ?? size)
        }
        return read.map { OutputSlice(start: $0.start, bytes: $0.bytes, total: $0.size) }
    }
}
