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
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let pid = pid_t(name), let info = readStat(pid) else { continue }
            processes.append(info)
        }
        return ProcessTree(processes: processes)
    }

    /// Parses /proc/<pid>/stat; nil if the process is gone.
    public static func readStat(_ pid: pid_t) -> ProcessStat? {
        guard let text = readSmallFile("/proc/\(pid)/stat") else { return nil }
        // The command name may contain spaces and parentheses: fields start after the last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 5, let state = fields[0].first,
              let parent = pid_t(fields[1]), let group = pid_t(fields[2]),
              let session = pid_t(fields[3]), let foreground = pid_t(fields[5])
        else { return nil }
        return ProcessStat(pid: pid, parentPID: parent, processGroup: group, session: session,
                           terminalForegroundGroup: foreground, state: state)
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

/// Reads a small text file (a few KiB at most) with plain syscalls.
func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if got < 0 {
            if errno == EINTR { continue }
            return nil
        }
        if got == 0 { break }
        bytes.append(contentsOf: buffer[0..<got])
    }
    return String(decoding: bytes, as: UTF8.self)
}
