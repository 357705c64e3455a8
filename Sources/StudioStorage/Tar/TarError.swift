/// Why reading, writing or extracting a tar archive failed, in one line a user can act on.
public struct TarError: Error, CustomStringConvertible, Sendable {
    /// The one-line message.
    public var description: String
    /// An error with the given message.
    public init(_ description: String) { self.description = description }

    /// Packing stopped because its caller asked it to (a `studio run` interrupted by a signal).
    public static let interrupted = TarError("packing interrupted")

    /// An error about one archive member, e.g. `tar member '../x': refused: ...`.
    static func member(_ name: [UInt8], _ reason: String) -> TarError {
        TarError("tar member '\(name.displayString)': \(reason)")
    }
}
