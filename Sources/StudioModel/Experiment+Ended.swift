extension Experiment {
    /// Whether the experiment's output will not grow any more: its status is final, except for one stopped while
    /// it ran whose worker has not recorded the end yet (`stop` sets the status at once; the experiment then
    /// still prints its last lines until the worker's SIGTERM, or SIGKILL after the grace, ends it).
    public var hasEnded: Bool {
        status.isFinal && !(status == .stopped && timeStarted != nil && timeFinished == nil)
    }
}
