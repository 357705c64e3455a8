/// A window of an experiment's output for the log panel: whole UTF-8 characters only, so a chunk that
/// ends inside a character leaves it for the next poll instead of showing a replacement mark.
struct LogWindow: Sendable, Equatable {
    /// Where the text starts in the output.
    var offset: Int
    /// Where the next poll starts.
    var next: Int
    /// The output's size when read.
    var size: Int
    var text: String

    /// Cuts `bytes` (the output from `start` on, of `total` bytes in all: by default, up to the end of
    /// `bytes`) to at most `limit` bytes; with `tail`, the last `limit` bytes instead. `complete` says the
    /// output will not grow: a trailing partial character at its very end is then shown.
    init(bytes: [UInt8], start: Int, total: Int? = nil, limit: Int, tail: Bool, complete: Bool) {
        size = total ?? start + bytes.count
        var lower = 0
        var upper = bytes.count
        if tail && bytes.count > limit { lower = bytes.count - limit }
        if upper - lower > limit { upper = lower + limit }
        if lower > 0 || start > 0 {
            // Never start inside a character: skip at most 3 continuation bytes.
            var skipped = 0
            while lower < upper, skipped < 3, bytes[lower] & 0xC0 == 0x80 { lower += 1; skipped += 1 }
        }
        if !(complete && upper == bytes.count && start + bytes.count == size) {
            upper = Self.lastCompleteBoundary(bytes, lower: lower, upper: upper)
        }
        offset = start + lower
        next = start + upper
        text = String(decoding: bytes[lower..<upper], as: UTF8.self)
    }

    /// `upper`, moved back before a character that `bytes[lower..<upper]` holds only part of.
    static func lastCompleteBoundary(_ bytes: [UInt8], lower: Int, upper: Int) -> Int {
        var index = upper - 1
        var back = 0
        while index >= lower, back < 4 {
            let byte = bytes[index]
            if byte & 0xC0 != 0x80 {
                let length = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                return index + length > upper ? index : upper
            }
            index -= 1
            back += 1
        }
        return upper
    }
}
