/// POSIX.1-2001 extended header records: `"<length> <key>=<value>\n"`, length counting the whole record.
enum PaxRecords {
    /// Parses the records of an `x` or `g` header's content.
    static func parse(_ data: [UInt8]) throws -> [(key: String, value: [UInt8])] {
        var records: [(key: String, value: [UInt8])] = []
        var position = 0
        while position < data.count {
            // Some writers pad the content with NULs.
            if data[position] == 0 { break }
            var cursor = position
            var length = 0
            while cursor < data.count, data[cursor] >= 0x30, data[cursor] <= 0x39 {
                length = length * 10 + Int(data[cursor] - 0x30)
                guard length <= data.count else { break }
                cursor += 1
            }
            guard cursor < data.count, data[cursor] == 0x20, length > 0, position + length <= data.count,
                  data[position + length - 1] == 0x0A else {
                throw TarError("corrupt PAX extended header record at offset \(position)")
            }
            let body = data[(cursor + 1)..<(position + length - 1)]
            guard let equals = body.firstIndex(of: 0x3D) else {
                throw TarError("corrupt PAX extended header record at offset \(position): no '='")
            }
            let key = String(decoding: body[body.startIndex..<equals], as: UTF8.self)
            records.append((key, Array(body[(equals + 1)...])))
            position += length
        }
        return records
    }

    /// Encodes one record, computing the self-inclusive length the way Python's tarfile does.
    static func record(_ key: String, _ value: [UInt8]) -> [UInt8] {
        let keyBytes = Array(key.utf8)
        let base = keyBytes.count + value.count + 3
        var length = base
        var previous = 0
        while true {
            length = base + String(previous).utf8.count
            if length == previous { break }
            previous = length
        }
        return Array(String(length).utf8) + [0x20] + keyBytes + [0x3D] + value + [0x0A]
    }

    /// A PAX time such as `1700000000.25` or `-1.5`, as seconds; it must fit a `timespec` (Int64 seconds).
    static func time(_ value: [UInt8], key: String) throws -> Double {
        guard let text = String(validating: value, as: UTF8.self), let number = Double(text), number.isFinite else {
            throw TarError("PAX header '\(key)' is not a number: '\(value.displayString)'")
        }
        guard Int64(exactly: number.rounded(.down)) != nil else {
            throw TarError("PAX header '\(key)' is out of range: '\(value.displayString)'")
        }
        return number
    }

    /// A PAX integer value (size, uid, gid).
    static func integer(_ value: [UInt8], key: String) throws -> Int64 {
        guard let text = String(validating: value, as: UTF8.self), let number = Int64(text), number >= 0 else {
            throw TarError("PAX header '\(key)' is not a non-negative integer: '\(value.displayString)'")
        }
        return number
    }

    /// Formats seconds + nanoseconds as a PAX time, without trailing zeros (`1700000000.5`).
    static func time(seconds: Int64, nanoseconds: Int64) -> String {
        guard nanoseconds != 0 else { return String(seconds) }
        var fraction = String(nanoseconds)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        if seconds < 0 {
            // -0.5 s is stored as seconds = -1, nanoseconds = 500000000.
            let total = Double(seconds) + Double(nanoseconds) / 1e9
            return String(total)
        }
        return "\(seconds).\(fraction)"
    }
}
