#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioThreads
import StudioWorker
import Synchronization

/// A progress bar on stderr for the steps of `studio run` that take long: nothing for the first
/// second (most submissions are done by then), then one line redrawn five times a second.
/// Only used when stderr is a terminal.
struct TerminalProgress: SubmissionProgress {
    /// A bar when stderr is a terminal, else nil.
    static func ifTerminal() -> TerminalProgress? {
        isatty(STDERR_FILENO) == 1 ? TerminalProgress() : nil
    }

    func begin(_ label: String, total: Int64?, done: @escaping @Sendable () -> Int64) -> @Sendable () -> Void {
        let state = Mutex<(stopped: Bool, drawn: Bool)>((false, false))
        let started = ContinuousClock.now
        DetachedThread.start {
            while true {
                usleep(200_000)
                let elapsed = ContinuousClock.now - started
                let stop = state.withLock { state -> Bool in
                    if state.stopped { return true }
                    if elapsed >= .seconds(1) { state.drawn = true }
                    return false
                }
                if stop { return }
                if elapsed >= .seconds(1) { Self.draw(label, done(), total) }
            }
        }
        return {
            let drawn = state.withLock { state -> Bool in
                state.stopped = true
                return state.drawn
            }
            if drawn { Self.write("\r\u{1B}[2K") }
        }
    }

    private static func draw(_ label: String, _ done: Int64, _ total: Int64?) {
        let mib = Double(done) / 1_048_576
        var line = "\r\u{1B}[2K" + label + "  "
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let width = 30, filled = Int(fraction * Double(width))
            line += "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            line += "\(Int(fraction * 100))%  \(format(mib)) / \(format(Double(total) / 1_048_576)) MiB"
        } else {
            line += "\(format(mib)) MiB"
        }
        write(line)
    }

    private static func format(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    private static func write(_ text: String) {
        writeOut(Array(text.utf8), to: STDERR_FILENO)
    }
}
