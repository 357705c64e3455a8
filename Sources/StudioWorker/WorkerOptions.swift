/// How a worker takes messages from its queue and runs them.
public struct WorkerOptions: Sendable {
    /// When to install an experiment's `pythonenv` requirements.
    public enum PipPolicy: String, Sendable, CaseIterable {
        /// One `pip install` of just the requirements the worker's Python lacks.
        case missing
        /// Never install anything: the image is expected to have it all.
        case never
    }

    /// Quit after one experiment (a fresh container per experiment).
    public var singleRun = false
    /// Quit once this many seconds pass with no message; nil listens forever.
    public var idleTimeout: Int? = 100
    /// Seconds a received message stays leased; extended every third of it while the experiment runs.
    public var leaseSeconds = 240
    /// How long an experiment has between SIGTERM and SIGKILL when it is stopped.
    public var grace: Duration = .seconds(10)
    /// How often the record is read for a stop request.
    public var stopCheckInterval: Duration = .seconds(3)
    /// Whether to install missing requirements.
    public var pip: PipPolicy = .missing
    /// `$STUDIOML_HOME`: the worker's working directories (and the local store's default place).
    public var home: String
    /// The environment experiments inherit (the worker's own, normally).
    public var environment: [String: String]

    public init(home: String, environment: [String: String]) {
        self.home = home
        self.environment = environment
    }
}
