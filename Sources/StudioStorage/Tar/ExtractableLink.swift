/// The one rule for symbolic links that the extractor enforces and the packer (for `studio run`) follows, so
/// that what a submitter packs every worker unpacks: a link is created only when its target is relative and,
/// read from the link's own directory, never climbs above the archive's root.
///
/// The extractor also refuses, once all members are out, a link that escapes through other links (`d/a -> ..`
/// then `d/b -> a/..`); the packer does not model that: such chains are rare and refused loudly by the worker.
public enum ExtractableLink {
    /// Why a link would be refused, or that it would not.
    public enum Verdict: Sendable, Equatable {
        case extractable
        /// An empty target.
        case empty
        /// A target that starts with `/`.
        case absolute
        /// A relative target whose `..` climbs above the root.
        case escapes
    }

    /// The verdict for a link at `member` (its path components below the root, its own name last) to `target`.
    public static func verdict(member: [[UInt8]], target: [UInt8]) -> Verdict {
        guard !target.isEmpty else { return .empty }
        guard target[0] != 0x2F else { return .absolute }
        var depth = member.count - 1
        for part in FileTree.components(target) {
            if part != [0x2E, 0x2E] { depth += 1; continue }
            guard depth > 0 else { return .escapes }
            depth -= 1
        }
        return .extractable
    }
}
