#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioInit

/// One NVIDIA GPU as `nvidia-smi` reports it.
public struct GPU: Sendable, Equatable {
    /// nvidia-smi's index: with `CUDA_DEVICE_ORDER=PCI_BUS_ID`, CUDA's numbering too.
    public var index: Int
    public var uuid: String
    public var memoryTotalBytes: Int64
    public var memoryUsedBytes: Int64
    /// Percent busy over nvidia-smi's last sample period; nil when it says `[N/A]`.
    public var utilizationPercent: Int?

    public var memoryFreeBytes: Int64 { max(0, memoryTotalBytes - memoryUsedBytes) }
}

/// The machine's NVIDIA GPUs, read from `nvidia-smi` (which the NVIDIA container toolkit mounts
/// into GPU containers; a static binary cannot load NVML). No `nvidia-smi` means no GPUs, never an
/// error; output that cannot be read means no GPUs and one warning.
public enum GPUInventory {
    /// The arguments after `nvidia-smi`: one CSV line per GPU, memory in MiB.
    static let queryArguments = ["--query-gpu=index,uuid,memory.total,memory.used,utilization.gpu",
                                 "--format=csv,noheader,nounits"]

    /// Parses nvidia-smi's CSV; nil when any line is not five fields of the expected kinds.
    public static func parse(csv: String) -> [GPU]? {
        var gpus: [GPU] = []
        for rawLine in csv.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let fields = rawLine.split(separator: ",", omittingEmptySubsequences: false).map { $0.spacesTrimmed }
            if fields.count == 1 && fields[0].isEmpty { continue }
            guard fields.count == 5, let index = Int(fields[0]), index >= 0, index < 4096,
                  !fields[1].isEmpty, fields[1].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }),
                  let total = mebibytes(fields[2]), let used = mebibytes(fields[3]) else { return nil }
            let utilization = Int(fields[4]).flatMap { (0...100).contains($0) ? $0 : nil }
            gpus.append(GPU(index: index, uuid: fields[1], memoryTotalBytes: total, memoryUsedBytes: used,
                            utilizationPercent: utilization))
        }
        return gpus
    }

    /// The GPUs `NVIDIA_VISIBLE_DEVICES` and `CUDA_VISIBLE_DEVICES` allow (indexes or UUIDs,
    /// comma-separated; `all`; `none`, `void` or empty for none). CUDA's list numbers the devices
    /// NVIDIA's list left, in its order, so it is applied second.
    public static func visible(_ gpus: [GPU], environment: [String: String]) -> [GPU] {
        var allowed = gpus
        if let nvidia = environment["NVIDIA_VISIBLE_DEVICES"] { allowed = select(nvidia, from: allowed) }
        if let cuda = environment["CUDA_VISIBLE_DEVICES"] { allowed = select(cuda, from: allowed, positional: true) }
        return allowed
    }

    private static func select(_ list: String, from gpus: [GPU], positional: Bool = false) -> [GPU] {
        let text = list.spacesTrimmed
        if text == "all" { return gpus }
        if text.isEmpty || text == "none" || text == "void" || text == "NoDevFiles" { return [] }
        var chosen: [GPU] = []
        for item in text.split(separator: ",").map({ $0.spacesTrimmed }) {
            let found: GPU?
            if let number = Int(item) {
                // CUDA numbers what it can see (0..n-1); NVIDIA's list names nvidia-smi's indexes.
                found = positional ? (number >= 0 && number < gpus.count ? gpus[number] : nil) : gpus.first { $0.index == number }
            } else {
                found = gpus.first { $0.uuid == item || (item.count >= 8 && $0.uuid.hasPrefix(item)) }
            }
            // CUDA stops at the first entry it cannot use; so do we.
            guard let found else { break }
            if !chosen.contains(found) { chosen.append(found) }
        }
        return chosen
    }

    /// Runs `nvidia-smi` (found on the environment's PATH) and returns the visible GPUs.
    public static func query(environment: [String: String], log: WorkerLog?) async -> [GPU] {
        guard let output = await runNvidiaSMI(environment: environment) else { return [] }
        guard let gpus = parse(csv: output) else {
            let first = output.split(separator: "\n").first.map { String($0.prefix(120)) } ?? ""
            log?.warning("nvidia-smi's output is not the expected CSV, so no GPUs are used: '\(first)'")
            return []
        }
        return visible(gpus, environment: environment)
    }

    /// nvidia-smi's standard output, or nil when it is missing, fails or hangs (10 s).
    private static func runNvidiaSMI(environment: [String: String]) async -> String? {
        let path = "/tmp/studio-nvidia-smi-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        unlink(path)
        defer { close(fd) }
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { if devNull >= 0 { close(devNull) } }
        var childEnvironment = environment
        // nvidia-smi must report every GPU: the visibility lists are applied here, by index and UUID.
        childEnvironment["CUDA_VISIBLE_DEVICES"] = nil
        guard let pid = try? ProcessSupervisor.shared.spawn(SpawnRequest(
            arguments: ["nvidia-smi"] + queryArguments, environment: childEnvironment, workingDirectory: nil,
            stdin: devNull >= 0 ? devNull : nil, stdout: fd, stderr: devNull >= 0 ? devNull : nil)) else { return nil }
        let hang = Task {
            await CancellableSleep.sleep(for: .seconds(10))
            if !Task.isCancelled { _ = await ProcessSupervisor.shared.terminate(pid, grace: .seconds(1)) }
        }
        let status = await ProcessSupervisor.shared.waitForExit(pid)
        hang.cancel()
        guard status == .exited(0) else { return nil }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        lseek(fd, 0, SEEK_SET)
        while bytes.count < 1 << 20 {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func mebibytes(_ text: String) -> Int64? {
        guard let value = Int64(text), value >= 0, value < 1 << 40 else { return nil }
        return value << 20
    }
}
