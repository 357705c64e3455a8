#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioInit
import Synchronization

/// Appends StudioML's `_metrics` lines for a running experiment: its whole process tree's CPU use
/// since the last line (percent of one core) and resident memory in bytes, then, as StudioML's
/// GPU summary does, each of its GPUs' utilization and memory in use:
/// `time: <epoch> CPU: <pct> mem: <bytes> [gpu: <index> util: <pct> gpumem: <bytes>]… \n`.
final class ResourceSampler: Sendable {
    private let group: pid_t
    private let path: String
    private let last = Mutex<(ticks: Int64, at: ContinuousClock.Instant)?>(nil)
    /// The latest GPU figures, refreshed in the background (nvidia-smi takes tens of milliseconds).
    private let gpuSummary = Mutex("")
    private let gpuWatch = Mutex<Task<Void, Never>?>(nil)
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    private static let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))

    /// Samples the process group `group` (the experiment's) into the file at `path`, and the GPUs
    /// with nvidia-smi indexes `gpus` every `gpuInterval`.
    init(group: pid_t, path: String, gpus: [Int] = [], environment: [String: String] = [:], gpuInterval: Duration = .seconds(10)) {
        self.group = group
        self.path = path
        guard !gpus.isEmpty else { return }
        var queryEnvironment = environment
        // The worker's view of the machine, not the experiment's: nvidia-smi indexes, all GPUs.
        queryEnvironment["CUDA_VISIBLE_DEVICES"] = nil
        queryEnvironment["NVIDIA_VISIBLE_DEVICES"] = nil
        let watch = Task { [weak self] in
            while !Task.isCancelled {
                let all = await GPUInventory.query(environment: queryEnvironment, log: nil)
                guard let self else { return }
                self.gpuSummary.withLock { $0 = Self.summary(of: gpus.compactMap { index in all.first { $0.index == index } }) }
                await CancellableSleep.sleep(for: gpuInterval)
            }
        }
        gpuWatch.withLock { $0 = watch }
    }

    deinit { gpuWatch.withLock { $0?.cancel() } }

    /// ` gpu: 0 util: 45 gpumem: 1073741824` for each GPU (utilization -1 when nvidia-smi has none).
    static func summary(of gpus: [GPU]) -> String {
        gpus.map { " gpu: \($0.index) util: \($0.utilizationPercent ?? -1) gpumem: \($0.memoryUsedBytes)" }.joined()
    }

    /// Appends one line now.
    func sample() {
        let tree = ProcessTree.snapshot()
        var pids = Set(tree.members(ofGroup: group).map(\.pid))
        pids.insert(group)
        for process in tree.descendants(of: pids) { pids.insert(process.pid) }
        var ticks: Int64 = 0, rssBytes: Int64 = 0
        for process in tree.processes where pids.contains(process.pid) {
            ticks += process.cpuTicks
            rssBytes += process.residentPages * Self.pageSize
        }
        let now = ContinuousClock.now
        let previous = last.withLock { state in
            defer { state = (ticks, now) }
            return state
        }
        var cpu = 0.0
        if let previous {
            let seconds = Double((now - previous.at).components.attoseconds) / 1e18 + Double((now - previous.at).components.seconds)
            if seconds > 0 { cpu = Double(max(0, ticks - previous.ticks)) / Self.ticksPerSecond / seconds * 100 }
        }
        let line = "time: \(Date.now.timeIntervalSince1970) CPU: \((cpu * 10).rounded() / 10) mem: \(rssBytes)\(gpuSummary.withLock { $0 }) \n"
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        Array(line.utf8).withUnsafeBytes { writeAll(fd, $0.baseAddress!, $0.count) }
        close(fd)
    }
}
