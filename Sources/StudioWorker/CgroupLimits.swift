import Glibc

/// The CPU and memory limits of the cgroup this process runs in, cgroup v2 (`cpu.max`,
/// `memory.max`) or v1 (`cpu.cfs_quota_us` / `cpu.cfs_period_us`, `memory.limit_in_bytes`), the
/// tightest along the path from the cgroup up to its hierarchy's root. Hybrid machines (v1
/// controllers beside an empty v2 tree) are read through whichever hierarchy holds the controller.
public struct CgroupLimits: Sendable, Equatable {
    /// CPUs the quota allows (2.5 for `250000 100000`); nil when unlimited.
    public var cpus: Double?
    /// Memory the cgroup may use, in bytes; nil when unlimited.
    public var memoryBytes: Int64?

    public init(cpus: Double? = nil, memoryBytes: Int64? = nil) {
        self.cpus = cpus
        self.memoryBytes = memoryBytes
    }

    // MARK: Parsers (pure, fuzzed)

    /// v2 `cpu.max`: `<quota> <period>` or `max <period>`; nil for no limit or unreadable text.
    public static func parseCPUMax(_ text: String) -> Double? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        guard fields.count >= 1, fields[0] != "max", let quota = Int64(fields[0]) else { return nil }
        let period = fields.count >= 2 ? Int64(fields[1]) : 100_000
        return cpus(quota: quota, period: period)
    }

    /// v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us`; `-1` is no limit.
    public static func parseCFS(quota: String, period: String) -> Double? {
        guard let q = Int64(quota.spacesTrimmed), let p = Int64(period.spacesTrimmed) else { return nil }
        return cpus(quota: q, period: p)
    }

    private static func cpus(quota: Int64, period: Int64?) -> Double? {
        guard quota > 0, let period, period > 0 else { return nil }
        return Double(quota) / Double(period)
    }

    /// v2 `memory.max` (`max` or bytes) or v1 `memory.limit_in_bytes` (bytes; a page-rounded
    /// `LONG_MAX`, 9223372036854771712, means no limit).
    public static func parseMemoryLimit(_ text: String) -> Int64? {
        let trimmed = text.spacesTrimmed
        guard trimmed != "max", let bytes = Int64(trimmed), bytes > 0, bytes < 1 << 60 else { return nil }
        return bytes
    }

    /// `/proc/self/cgroup`: `hierarchy-id:controllers:path` lines; v2's line has id 0 and no controllers.
    public static func parseMembership(_ text: String) -> [(controllers: [String], path: String)] {
        var entries: [(controllers: [String], path: String)] = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, Int(parts[0]) != nil, parts[2].hasPrefix("/") else { continue }
            let controllers = parts[1].split(separator: ",").map { String($0.hasPrefix("name=") ? $0.dropFirst(5) : $0) }
            entries.append((controllers, String(parts[2])))
        }
        return entries
    }

    // MARK: Reading the live files

    /// The limits in force for this process; `root` is where the cgroup file systems are mounted.
    public static func current(root: String = "/sys/fs/cgroup", membership: String = "/proc/self/cgroup") -> CgroupLimits {
        let entries = parseMembership(readSmallFile(membership) ?? "")
        var limits = CgroupLimits()
        for entry in entries {
            for directory in directories(for: entry.controllers, path: entry.path, root: root) {
                if let cpus = cpuLimit(in: directory, v2: entry.controllers.isEmpty) { limits.cpus = min(limits.cpus ?? cpus, cpus) }
                if let bytes = memoryLimit(in: directory, v2: entry.controllers.isEmpty) {
                    limits.memoryBytes = min(limits.memoryBytes ?? bytes, bytes)
                }
            }
        }
        return limits
    }

    /// The cgroup's directory and its ancestors, in the hierarchy's mount: `root` itself for pure
    /// v2, `root/unified` on hybrids, `root/<controllers>` for v1. A path that is not there (a
    /// container sees its own cgroup as the mount's root) falls back to the mount's root.
    static func directories(for controllers: [String], path: String, root: String) -> [String] {
        var mounts: [String] = []
        if controllers.isEmpty {
            mounts = [root + "/unified", root].filter { isFile($0 + "/cgroup.controllers") }
        } else {
            mounts = ([controllers.joined(separator: ",")] + controllers).map { root + "/" + $0 }.filter(isDirectory)
        }
        guard let mount = mounts.first else { return [] }
        var result: [String] = []
        var components = path.split(separator: "/").map(String.init)
        while true {
            let directory = mount + (components.isEmpty ? "" : "/" + components.joined(separator: "/"))
            if isDirectory(directory) { result.append(directory) }
            if components.isEmpty { break }
            components.removeLast()
        }
        return result
    }

    private static func cpuLimit(in directory: String, v2: Bool) -> Double? {
        if v2 { return readSmallFile(directory + "/cpu.max").flatMap(parseCPUMax) }
        guard let quota = readSmallFile(directory + "/cpu.cfs_quota_us"),
              let period = readSmallFile(directory + "/cpu.cfs_period_us") else { return nil }
        return parseCFS(quota: quota, period: period)
    }

    private static func memoryLimit(in directory: String, v2: Bool) -> Int64? {
        readSmallFile(directory + (v2 ? "/memory.max" : "/memory.limit_in_bytes")).flatMap(parseMemoryLimit)
    }
}

