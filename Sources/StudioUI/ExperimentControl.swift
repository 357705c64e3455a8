import StudioModel

/// What the UI asks of the submitter's side: the same code `studio stop` and `studio logs` run, so there is
/// one implementation of each. The CLI wires StudioWorker's `ExperimentBrowser` in; StudioUI stays beside
/// StudioWorker and never imports it.
public protocol ExperimentControl: Sendable {
    /// Sets the record's status to `stopped` (a worker running it polls the record); the status it had,
    /// or nil when there is no such experiment.
    func requestStop(_ key: String) async throws -> ExperimentStatus?
    /// Deletes an experiment that is over (record, index entries, its own artifacts); a waiting or
    /// running one is left alone and its status returned; nil when there is no such experiment.
    func delete(_ key: String) async throws -> ExperimentStatus?
    /// At most `limit` bytes of the `output` artifact from `offset` on (its last `limit` bytes without an
    /// offset), with its size so far: the live file when the worker runs on this machine, else the live log's
    /// segments in storage, else the last checkpoint's `output.tar`.
    func output(_ key: String, from offset: Int?, limit: Int) async throws -> OutputSlice
    /// Where artifact `tag` of `key` lives while a worker on this machine runs it; nil when not here.
    func liveArtifactPath(_ key: String, tag: String) -> String?
}

extension ExperimentControl {
    /// Where artifact `tag` of `key` lives while a worker on this machine runs it; nil when it is not
    /// here (the UI then reads the last checkpoint from storage).
    public func liveArtifactPath(_ key: String, tag: String) -> String? { nil }
}
