import NIOHTTP1

/// A request the UI refuses, with the HTTP status and a sentence for the user.
public struct UIError: Error, CustomStringConvertible, Sendable {
    /// The HTTP status to answer with.
    public var status: HTTPResponseStatus
    public var description: String

    public init(_ status: HTTPResponseStatus, _ description: String) {
        self.status = status
        self.description = description
    }
}
