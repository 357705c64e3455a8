#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioInit

/// Running `nvidia-smi` (which the NVIDIA container toolkit mounts into GPU containers; a static
/// binary cannot load NVML). No `nvidia-smi` means no GPUs, never an error; output that cannot be
/// read means no GPUs and one warning.
extension GPUInventory {
    /// The arguments after `nvidia-smi`: one CSV line per GPU, memory in MiB.
    static let queryArguments = ["--query-gpu=index,uuid,memory.total,memory.used,utilization.gpu",
                                 "--format=csv,noheader,nounits"]

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

}
