import Glibc

/// Small text files of /proc and /sys, and their formats.
enum ProcFiles {
    /// The number of CPUs in a list such as `0-3,8,10-11`; nil when unreadable.
    static func parseCPUList(_ text: String) -> Int? {
        var count = 0
        for item in text.spacesTrimmed.split(separator: ",") {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            guard let low = Int(bounds[0]), low >= 0 else { return nil }
            let high = bounds.count == 2 ? Int(bounds[1]) : (bounds.count == 1 ? low : nil)
            guard let high, high >= low, high - low < 1 << 16 else { return nil }
            count += high - low + 1
        }
        return count == 0 ? nil : count
    }

    /// A `/proc/meminfo` field (`MemAvailable:  123 kB`) in bytes.
    static func meminfoBytes(_ text: String, field: String) -> Int64? {
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            let words = line.dropFirst(field.count + 1).split(separator: " ")
            guard let value = words.first.flatMap({ Int64($0) }), value >= 0, value < 1 << 50 else { return nil }
            return words.count > 1 && words[1] == "kB" ? value * 1024 : value
        }
        return nil
    }
}

/// The first 64 KiB of a file (cgroup and proc files are small), or nil when it cannot be read.
func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while bytes.count < 65_536 {
        let count = read(fd, &buffer, buffer.count)
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { break }
        bytes += buffer[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}

func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}

func isFile(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and line breaks.
    var spacesTrimmed: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
