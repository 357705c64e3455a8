#if canImport(Glibc)
import Glibc
#endif

/// One process as /proc/<pid>/stat describes it.
public struct ProcessStat: Sendable, Equatable {
    /// Its pid (in our PID namespace).
    public var pid: pid_t
    /// Its parent's pid.
    public var parentPID: pid_t
    /// Its process group.
    public var processGroup: pid_t
    /// Its session.
    public var session: pid_t
    /// The foreground process group of its controlling terminal, or -1/0 without one.
    public var terminalForegroundGroup: pid_t
    /// The state letter: R, S, D, Z, T, ...
    public var state: Character
    /// CPU time used so far, user plus system, in clock ticks (`sysconf(_SC_CLK_TCK)` a second).
    public var cpuTicks: Int64 = 0
    /// Resident set size in pages.
    public var residentPages: Int64 = 0
}

/// A snapshot of every process in /proc, for finding descendants.
public struct ProcessTree: Sendable {
    /// Every process that could be read.
    public var processes: [ProcessStat]

    /// Reads /proc now.
    public static func snapshot() -> ProcessTree {
        var processes: [ProcessStat] = []
        guard let directory = opendir("/proc") else { return ProcessTree(processes: []) }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            // Digits only: the numeric entries are the processes (no String per entry).
            let pid: pid_t? = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                var value: pid_t = 0
                for byte in raw {
                    if byte == 0 { break }
                    guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), value < pid_t.max / 10 else { return nil }
                    value = value * 10 + pid_t(byte - UInt8(ascii: "0"))
                }
                return value > 0 ? value : nil
            }
            guard let pid, let info = readStat(pid) else { continue }
            processes.append(info)
        }
        return ProcessTree(processes: processes)
    }

    /// Parses /proc/<pid>/stat; nil if the process is gone. Works on the bytes: the worker reads
    /// every process a few times per experiment, and String splitting made that its hottest path.
    public static func readStat(_ pid: pid_t) -> ProcessStat? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // The fields we use come first: a longer line cut at 1 KiB still holds them.
        return withUnsafeTemporaryAllocation(byteCount: 1024, alignment: 8) { buffer -> ProcessStat? in
            var got: Int
            repeat { got = read(fd, buffer.baseAddress, buffer.count) } while got < 0 && errno == EINTR
            guard got > 0 else { return nil }
            return parseStat(UnsafeRawBufferPointer(rebasing: buffer[0..<got]), pid: pid)
        }
    }

    /// The fields of a stat line: after the command name (which may hold spaces and parentheses,
    /// so fields start after the last ')') come state, ppid, pgrp, session, tty_nr, tpgid, ...,
    /// utime and stime (the 12th and 13th), ..., rss (the 22nd).
    static func parseStat(_ bytes: UnsafeRawBufferPointer, pid: pid_t) -> ProcessStat? {
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        var fields: [Int64] = []
        fields.reserveCapacity(22)
        var state: UInt8 = 0
        var index = close + 1
        var field = 0
        while index < bytes.count, field < 22 {
            while index < bytes.count, bytes[index] == UInt8(ascii: " ") { index += 1 }
            guard index < bytes.count, bytes[index] != UInt8(ascii: "\n") else { break }
            if field == 0 {
                state = bytes[index]
                index += 1
                fields.append(0)
            } else {
                var negative = false
                if bytes[index] == UInt8(ascii: "-") { negative = true; index += 1 }
                var value: Int64 = 0
                while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                    value = value &* 10 &+ Int64(bytes[index] - UInt8(ascii: "0"))
                    index += 1
                }
                fields.append(negative ? -value : value)
            }
            field += 1
        }
        guard fields.count > 5, state != 0 else { return nil }
        return ProcessStat(pid: pid, parentPID: pid_t(truncatingIfNeeded: fields[1]),
                           processGroup: pid_t(truncatingIfNeeded: fields[2]),
                           session: pid_t(truncatingIfNeeded: fields[3]),
                           terminalForegroundGroup: pid_t(truncatingIfNeeded: fields[5]),
                           state: Character(Unicode.Scalar(state)),
                           cpuTicks: fields.count > 12 ? fields[11] + fields[12] : 0,
                           residentPages: fields.count > 21 ? fields[21] : 0)
    }

    /// Every process below any of `roots` (children, their children, ...), roots excluded.
    public func descendants(of roots: Set<pid_t>) -> [ProcessStat] {
        var children: [pid_t: [ProcessStat]] = [:]
        for process in processes { children[process.parentPID, default: []].append(process) }
        var result: [ProcessStat] = []
        var seen = roots
        var queue = Array(roots)
        while let parent = queue.popLast() {
            for child in children[parent] ?? [] where !seen.contains(child.pid) {
                seen.insert(child.pid)
                result.append(child)
                queue.append(child.pid)
            }
        }
        return result
    }

    /// Members of a process group.
    public func members(ofGroup group: pid_t) -> [ProcessStat] {
        processes.filter { $0.processGroup == group }
    }
}
