/// A credential problem: what is wrong and how to fix it, in one line, never containing a secret.
public struct CredentialsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of problem, for callers that branch on it.
    public enum Code: String, Sendable, Equatable {
        /// A file could not be read (other than being absent where absence is allowed).
        case unreadableFile
        /// A file is not valid JSON / INI or has the wrong shape.
        case malformedFile
        /// A required field is absent.
        case missingField
        /// A field is present but has the wrong type or an unusable value.
        case invalidField
        /// The credential `type` is known but not supported, or unknown.
        case unsupportedType
        /// Only half of a key pair was given (an access key without its secret, or the reverse).
        case partialCredentials
        /// A URL given for signing could not be parsed.
        case invalidURL
        /// No source of credentials was found.
        case notFound
        /// Signing failed (for example the private key was rejected by the crypto library).
        case signingFailed
    }

    /// The kind of problem.
    public let code: Code
    /// The one-line, secret-free explanation.
    public let message: String

    /// Creates an error; `message` must never contain a secret value.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message itself, so logs print it verbatim.
    public var description: String { message }
}
