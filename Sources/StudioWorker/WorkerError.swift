/// A failure of the worker itself (not of an experiment), in words a user can act on.
public struct WorkerError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
