// libFuzzer target: the worker's machine-discovery parsers (nvidia-smi's CSV, the visibility lists,
// cgroup v1/v2 files, /proc/self/cgroup, the affinity list, /proc/meminfo), all fed the same text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let gpus = GPUInventory.parse(csv: text) {
        _ = GPUInventory.visible(gpus, environment: ["NVIDIA_VISIBLE_DEVICES": "all", "CUDA_VISIBLE_DEVICES": "1,0"])
        _ = gpus.reduce(Int64(0)) { $0 &+ $1.memoryFreeBytes }
    }
    let half = text.split(separator: "\n", maxSplits: 1).map(String.init)
    let fake = GPU(index: 0, uuid: "GPU-0", memoryTotalBytes: 1, memoryUsedBytes: 0, utilizationPercent: nil)
    _ = GPUInventory.visible([fake, fake], environment: ["NVIDIA_VISIBLE_DEVICES": half.first ?? "", "CUDA_VISIBLE_DEVICES": half.last ?? ""])
    _ = CgroupLimits.parseCPUMax(text)
    _ = CgroupLimits.parseCFS(quota: half.first ?? "", period: half.last ?? "")
    _ = CgroupLimits.parseMemoryLimit(text)
    _ = CgroupLimits.parseMembership(text).count
    _ = ProcFiles.parseCPUList(text)
    _ = ProcFiles.meminfoBytes(text, field: "MemAvailable")
    return 0
}
