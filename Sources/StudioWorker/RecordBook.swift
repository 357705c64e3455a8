#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioModel
import StudioStorage

/// Experiment records in the database store (`experiments/<key>`), updated read-modify-write so
/// that a writer changes only the fields it sets and keeps every other field, known or not. Every write and
/// delete leaves a change mark (`ChangeMark`) so that a reader following the store re-reads only what changed.
struct RecordBook: Sendable {
    let store: any ObjectStore

    /// The object key of an experiment's record.
    static func recordKey(_ key: String) -> String { "experiments/" + key }

    /// The stored record, or nil when there is none.
    func read(_ key: String) async throws -> Experiment? {
        guard let data = try await store.get(Self.recordKey(key)) else { return nil }
        return try Experiment(parsing: data)
    }

    /// Writes the record whole (compact JSON, as StudioML does).
    func write(_ experiment: Experiment) async throws {
        try await store.put(Self.recordKey(experiment.key), experiment.jsonData())
        await markChanged(experiment.key)
    }

    /// Deletes the record.
    func delete(_ key: String) async throws {
        try await store.delete(Self.recordKey(key))
        await markChanged(key)
    }

    /// Leaves a change mark for `key`'s record. A hint only: when it cannot be written, readers still see the
    /// change at their next full listing, so a failure here never fails the write it follows.
    func markChanged(_ key: String) async {
        try? await store.putMarker(ChangeMark.now(key).objectKey)
    }

    /// Re-reads the stored record, applies `change`, and writes it back.
    func update(_ key: String, _ change: (inout Experiment) -> Void) async throws {
        guard var record = try await read(key) else {
            throw WorkerError("the record experiments/\(key) has disappeared from the database")
        }
        change(&record)
        try await write(record)
    }
}
