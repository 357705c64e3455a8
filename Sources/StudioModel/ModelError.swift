#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Why a StudioML document (JSON, YAML, message, record, config) could not be read, in words a user can act on.
public struct ModelError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The broad reason, for callers that branch on it.
    public enum Kind: Sendable, Equatable {
        case invalidJSON, invalidYAML, unsupportedYAML
        case missingField, invalidField
        case encryptedMessage
        case invalidDuration, invalidSize, invalidArtifactLocation
        case unreadableFile
    }

    /// The broad reason.
    public var kind: Kind
    /// What is wrong, without position.
    public var message: String
    /// 1-based line of the problem in the source text, when it has one.
    public var line: Int?
    /// 1-based column (in characters) of the problem, when known.
    public var column: Int?

    public init(_ kind: Kind, _ message: String, line: Int? = nil, column: Int? = nil) {
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
    }

    /// One line: `line 3, column 7: expected ':' ...`, or the bare message when there is no position.
    public var description: String {
        switch (line, column) {
        case let (line?, column?): return "line \(line), column \(column): \(message)"
        case let (line?, nil): return "line \(line): \(message)"
        default: return message
        }
    }
}
