import Glibc

/// What this worker may use: CPUs (the affinity mask, capped by the cgroup's quota), memory (the
/// cgroup's limit, else `MemAvailable`), disk free under `$STUDIOML_HOME`, and the visible GPUs.
public struct MachineResources: Sendable, Equatable {
    public var cpus: Double
    public var memoryBytes: Int64
    public var diskFreeBytes: Int64
    public var gpus: [GPU]
    /// Where each figure came from, for `--show-resources`.
    public var sources: [String: String] = [:]

    public init(cpus: Double, memoryBytes: Int64, diskFreeBytes: Int64, gpus: [GPU]) {
        self.cpus = cpus
        self.memoryBytes = memoryBytes
        self.diskFreeBytes = diskFreeBytes
        self.gpus = gpus
    }

    /// Reads the machine now.
    public static func discover(home: String, environment: [String: String], log: WorkerLog?) async -> MachineResources {
        let limits = CgroupLimits.current()
        let affinity = affinityCPUs()
        var cpus = Double(affinity)
        var sources = ["cpus": "affinity mask (\(affinity))"]
        if let quota = limits.cpus, quota < cpus {
            cpus = quota
            sources["cpus"] = "cgroup cpu quota"
        }
        let meminfo = readSmallFile("/proc/meminfo") ?? ""
        let available = ProcFiles.meminfoBytes(meminfo, field: "MemAvailable") ?? 0
        var memory = available
        sources["memory"] = "MemAvailable"
        if let limit = limits.memoryBytes, limit < (ProcFiles.meminfoBytes(meminfo, field: "MemTotal") ?? Int64.max) {
            memory = limit
            sources["memory"] = "cgroup memory limit"
        }
        let gpus = await GPUInventory.query(environment: environment, log: log)
        sources["gpus"] = "nvidia-smi" + (gpus.isEmpty ? " (none found, or not installed)" : "")
        var machine = MachineResources(cpus: cpus, memoryBytes: memory, diskFreeBytes: diskFree(under: home), gpus: gpus)
        machine.sources = sources
        return machine
    }

    /// CPUs in this process's affinity mask (`Cpus_allowed_list` of `/proc/self/status`; the C
    /// library's `sched_getaffinity` wrapper is not visible to Swift), at least 1.
    static func affinityCPUs() -> Int {
        let online = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        let status = readSmallFile("/proc/self/status") ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }),
              let count = ProcFiles.parseCPUList(String(line.dropFirst("Cpus_allowed_list:".count))) else { return online }
        return max(1, count)
    }

    /// Bytes free to unprivileged users on the file system of `path` (or its nearest existing parent).
    static func diskFree(under path: String) -> Int64 {
        var directory = path
        var info = statvfs()
        while statvfs(directory, &info) != 0 {
            guard let slash = directory.lastIndex(of: "/"), directory != "/" else { return 0 }
            directory = slash == directory.startIndex ? "/" : String(directory[..<slash])
        }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// What `--show-resources` prints: one line per figure, then one per GPU.
    public var report: String {
        var lines = [
            "cpus: \(formatCPUs(cpus)) (\(sources["cpus"] ?? "-"))",
            "memory: \(formatBytes(memoryBytes)) (\(sources["memory"] ?? "-"))",
            "disk free: \(formatBytes(diskFreeBytes)) (under $STUDIOML_HOME)",
            "gpus: \(gpus.count) (\(sources["gpus"] ?? "-"))",
        ]
        for gpu in gpus {
            lines.append("  gpu \(gpu.index) \(gpu.uuid): memory \(formatBytes(gpu.memoryUsedBytes)) used of \(formatBytes(gpu.memoryTotalBytes)), utilization "
                         + (gpu.utilizationPercent.map { "\($0) %" } ?? "n/a"))
        }
        lines.append("parallel auto: \(SlotPool.automaticParallel(for: self))")
        return lines.joined(separator: "\n")
    }
}

func formatCPUs(_ cpus: Double) -> String {
    cpus == cpus.rounded() ? String(Int(cpus)) : String((cpus * 100).rounded() / 100)
}

/// Bytes in StudioML's binary units, e.g. `1.5g`, `512m`.
func formatBytes(_ bytes: Int64) -> String {
    let units: [(String, Int64)] = [("t", 1 << 40), ("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10)]
    for (suffix, size) in units where bytes >= size {
        let value = Double(bytes) / Double(size)
        return (value * 10).rounded() / 10 == value.rounded() ? "\(Int(value.rounded()))\(suffix)" : "\((value * 10).rounded() / 10)\(suffix)"
    }
    return "\(bytes)"
}
