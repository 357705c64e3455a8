import StudioModel

/// What one experiment asks for, from its `resources_needed` (StudioML's units: counts, and sizes
/// such as `"3g"` in binary multiples). `gpus` and `gpuCount` mean the same; the larger wins.
/// `gpuMem` is the free memory each of its GPUs must have.
struct ResourceRequest: Sendable, Equatable {
    var cpus = 0
    var memoryBytes: Int64 = 0
    var diskBytes: Int64 = 0
    var gpus = 0
    var gpuMemoryBytes: Int64 = 0

    init(cpus: Int = 0, memoryBytes: Int64 = 0, diskBytes: Int64 = 0, gpus: Int = 0, gpuMemoryBytes: Int64 = 0) {
        self.cpus = cpus
        self.memoryBytes = memoryBytes
        self.diskBytes = diskBytes
        self.gpus = gpus
        self.gpuMemoryBytes = gpuMemoryBytes
    }

    /// Reads `resources_needed`; throws (a `ModelError`) on a value that is not a count or size.
    init(_ needed: ResourcesNeeded) throws {
        cpus = try needed.cpus ?? 0
        memoryBytes = try needed.ramBytes ?? 0
        diskBytes = try needed.hddBytes ?? 0
        gpus = max(try needed.gpus ?? 0, try needed.gpuCount ?? 0)
        gpuMemoryBytes = try needed.gpuMemBytes ?? 0
        // A GPU memory figure alone asks for one GPU.
        if gpus == 0 && gpuMemoryBytes > 0 { gpus = 1 }
    }

    /// This request cut down to what `machine` has at most (`--accept-unfit`).
    func clamped(to machine: MachineResources) -> ResourceRequest {
        var request = self
        request.cpus = min(cpus, max(1, Int(machine.cpus)))
        request.memoryBytes = min(memoryBytes, machine.memoryBytes)
        request.diskBytes = min(diskBytes, machine.diskFreeBytes)
        request.gpus = min(gpus, machine.gpus.count)
        request.gpuMemoryBytes = min(gpuMemoryBytes, machine.gpus.map(\.memoryTotalBytes).max() ?? 0)
        return request
    }

    var summary: String {
        var parts = ["cpus \(cpus)", "ram \(formatBytes(memoryBytes))", "hdd \(formatBytes(diskBytes))"]
        if gpus > 0 { parts.append("gpus \(gpus)" + (gpuMemoryBytes > 0 ? " with \(formatBytes(gpuMemoryBytes)) each" : "")) }
        return parts.joined(separator: ", ")
    }
}

/// Whether a request fits, and if not whether it ever can on this machine.
enum FitVerdict: Sendable, Equatable {
    case fits
    /// Something it asks for is taken by running experiments (or other processes): later, maybe.
    case busy(String)
    /// This machine does not have it at all: another worker must run it.
    case never(String)
}

/// The pure rules of matching, apart from who holds what (`SlotPool`).
enum ResourceMatch {
    /// Whether `request` could ever run on `machine`, with the machine empty; the shortfall if not.
    static func neverFits(_ request: ResourceRequest, on machine: MachineResources) -> String? {
        var short: [String] = []
        if Double(request.cpus) > machine.cpus { short.append("cpus: needs \(request.cpus), has \(formatCPUs(machine.cpus))") }
        if request.memoryBytes > machine.memoryBytes {
            short.append("ram: needs \(formatBytes(request.memoryBytes)), has \(formatBytes(machine.memoryBytes))")
        }
        if request.diskBytes > machine.diskFreeBytes {
            short.append("hdd: needs \(formatBytes(request.diskBytes)), has \(formatBytes(machine.diskFreeBytes)) free")
        }
        let big = machine.gpus.filter { $0.memoryTotalBytes >= request.gpuMemoryBytes }
        if request.gpus > big.count {
            short.append(request.gpuMemoryBytes > 0
                ? "gpus: needs \(request.gpus) with \(formatBytes(request.gpuMemoryBytes)) each, has \(big.count) that large"
                : "gpus: needs \(request.gpus), has \(machine.gpus.count)")
        }
        return short.isEmpty ? nil : short.joined(separator: "; ")
    }

    /// The GPUs to give `request` among `free` (not held by our experiments, memory as of now):
    /// those with enough free memory, the most free first. Nil when too few qualify.
    static func pickGPUs(_ request: ResourceRequest, from free: [GPU]) -> [GPU]? {
        guard request.gpus > 0 else { return [] }
        let fitting = free.filter { $0.memoryFreeBytes >= request.gpuMemoryBytes }
            .sorted { ($0.memoryFreeBytes, -$0.index) > ($1.memoryFreeBytes, -$1.index) }
        guard fitting.count >= request.gpus else { return nil }
        return fitting.prefix(request.gpus).sorted { $0.index < $1.index }
    }
}
