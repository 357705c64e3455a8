/// The worker's `_metrics` lines, `time: <epoch> CPU: <pct> mem: <bytes> [name: <number> ...]`: each
/// `name: number` pair but time is a series `_metrics/<name lowercased>`, its step the line's number.
enum ResourceSamples {
    /// Reads the lines of `bytes`, numbering them from `firstStep`; with `wholeLinesOnly`, a last line with
    /// no newline yet is left for later. Returns the bytes read and the next line's step.
    @discardableResult
    static func read(_ bytes: [UInt8], into scalars: inout TensorBoardScalars, firstStep: Int64 = 0,
                     wholeLinesOnly: Bool = false) -> (consumed: Int, nextStep: Int64) {
        var step = firstStep
        let newline = UInt8(ascii: "\n")
        let end = wholeLinesOnly ? (bytes.lastIndex(of: newline).map { $0 + 1 } ?? 0) : bytes.count
        for line in bytes[..<end].split(separator: newline) {
            let words = String(decoding: line, as: UTF8.self).split(separator: " ")
            var pairs: [(String, Double)] = []
            var index = 0
            while index + 1 < words.count {
                if words[index].hasSuffix(":"), let value = Double(words[index + 1]), value.isFinite {
                    pairs.append((words[index].dropLast().lowercased(), value))
                    index += 2
                } else {
                    index += 1
                }
            }
            guard let time = pairs.first(where: { $0.0 == "time" })?.1 else { continue }
            for (name, value) in pairs where name != "time" {
                scalars.append("_metrics/" + name, ScalarPoint(step: step, wallTime: time, value: value))
            }
            step += 1
        }
        return (end, step)
    }
}
