// Pure: no imports beyond the standard library, so the fuzz target compiles it alone.

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

/// The machine's NVIDIA GPUs: nvidia-smi's CSV read, and the visibility lists applied.
public enum GPUInventory {
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

    private static func mebibytes(_ text: String) -> Int64? {
        guard let value = Int64(text), value >= 0, value < 1 << 40 else { return nil }
        return value << 20
    }
}
