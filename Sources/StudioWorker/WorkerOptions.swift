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
    /// Seconds a received message stays leased; extended every third of it while the experiment
    /// runs. Short, so that the message of a worker killed outright is offered again within it.
    public var leaseSeconds = 30
    /// Deliveries of one message before a failure that may pass is taken as permanent.
    public var maxDeliveries = 5
    /// The delay before a transiently failed message is offered again, doubled at each delivery.
    public var retryDelaySeconds = 15
    /// Run directories of settled experiments kept for debugging (the newest).
    public var keepRuns = 2
    /// The blob cache's size limit in bytes (least recently used out).
    public var cacheBytes: Int64 = 2 << 30
    /// Files kept under `rejected/` (the newest).
    public var keepRejected = 200
    /// How long an experiment has between SIGTERM and SIGKILL when it is stopped.
    public var grace: Duration = .seconds(10)
    /// How often the record is read for a stop request.
    public var stopCheckInterval: Duration = .seconds(3)
    /// Whether to install missing requirements.
    public var pip: PipPolicy = .missing
    /// Experiments run at once; nil is `auto` (one per GPU, else by CPUs and memory).
    public var parallel: Int? = 1
    /// Run experiments whose `resources_needed` this machine can never satisfy, cut down to it.
    public var acceptUnfit = false
    /// Sent to an experiment's process group on a preemption notice or SIGTERM, before it is stopped.
    public var checkpointSignal: Int32?
    /// Whether to watch GCE's and EC2 spot's preemption notices.
    public var watchPreemption = true
    /// `$STUDIOML_HOME`: the worker's working directories (and the local store's default place).
    public var home: String
    /// The environment experiments inherit (the worker's own, normally).
    public var environment: [String: String]

    public init(home: String, environment: [String: String]) {
        self.home = home
        self.environment = environment
    }
}
