/// An experiment's `status`. Statuses this version does not know are kept as written.
public enum ExperimentStatus: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
    case waiting, running, finished, failed, stopped
    /// A status string this version does not know, kept as is.
    case other(String)

    public init(rawValue: String) {
        switch rawValue {
        case "waiting": self = .waiting
        case "running": self = .running
        case "finished": self = .finished
        case "failed": self = .failed
        case "stopped": self = .stopped
        default: self = .other(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .waiting: return "waiting"
        case .running: return "running"
        case .finished: return "finished"
        case .failed: return "failed"
        case .stopped: return "stopped"
        case .other(let s): return s
        }
    }

    public var description: String { rawValue }
}

extension ExperimentStatus {
    /// Whether the experiment is over: a worker that receives it again acknowledges it unrun.
    public var isFinal: Bool {
        switch self {
        case .finished, .failed, .stopped: return true
        case .waiting, .running, .other: return false
        }
    }
}
