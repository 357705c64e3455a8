/// Part of an experiment's output: `bytes` from byte `start` on, out of `total` bytes so far.
public struct OutputSlice: Sendable, Equatable {
    public var start: Int
    public var bytes: [UInt8]
    public var total: Int

    public init(start: Int, bytes: [UInt8], total: Int) {
        self.start = start
        self.bytes = bytes
        self.total = total
    }

    /// Where a slice of `total` bytes starts: at `offset` (never past the end), or, with no offset, `limit`
    /// bytes before the end (the tail).
    public static func start(of offset: Int?, limit: Int?, total: Int) -> Int {
        guard let offset else { return max(0, total - (limit ?? total)) }
        return min(offset, total)
    }
}
