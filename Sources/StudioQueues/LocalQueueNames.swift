#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Whether `--queue name` selects the local directory queue (StudioML: names starting with `local`).
public func isLocalQueueName(_ name: String) -> Bool {
    name.hasPrefix("local")
}

/// The file names the local queue uses, and how to read them back (see LocalQueue.swift for the layout).
enum LocalQueueFileName {
    static let messageSuffix = ".json"
    /// Separates a stem from its delivery count in a ready file that was delivered before.
    static let deliveriesMarker: Character = "#"

    /// Refuses a queue name that is not one safe path component starting with `local`.
    static func validateQueueName(_ name: String) throws {
        guard isLocalQueueName(name) else {
            throw QueueError(.unusable, "queue name '\(name)' is not a local queue: local queue names start with 'local'")
        }
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
        guard allowed, !name.contains(".."), name.utf8.count <= 200 else {
            throw QueueError(.unusable,
                "local queue name '\(name)' is not usable: use at most 200 letters, digits, '-', '_' or '.' after 'local', with no '/' or '..'")
        }
    }

    /// A fresh sent message: `<nanoseconds since epoch, 20 digits>-<8 hex>.json`, so names sort in send order.
    static func sentName(nanoseconds: UInt64, random: UInt32) -> String {
        let digits = String(nanoseconds)
        let padded = String(repeating: "0", count: max(0, 20 - digits.count)) + digits
        return padded + "-" + hex(random, width: 8) + messageSuffix
    }

    /// Whether a name is one `sentName` makes: such files were renamed in whole, so need no settling.
    static func isSentName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard bytes.count == 20 + 1 + 8 + messageSuffix.utf8.count, name.hasSuffix(messageSuffix) else { return false }
        return bytes[0..<20].allSatisfy(isDigit) && bytes[20] == UInt8(ascii: "-") && bytes[21..<29].allSatisfy(isHexDigit)
    }

    /// Whether a directory entry of the queue directory is a candidate message: `*.json`, not hidden.
    static func isReadyCandidate(_ name: String) -> Bool {
        !name.hasPrefix(".") && name.hasSuffix(messageSuffix) && name.utf8.count > messageSuffix.utf8.count
    }

    /// A ready file name split into the message id (stem) and how often it was delivered before.
    /// `job.json` → ("job", 0); `job#2-1a2b3c4d5e6f.json` → ("job", 2).
    static func parseReady(_ name: String) -> (stem: String, previousDeliveries: Int) {
        let stem = String(name.dropLast(messageSuffix.count))
        guard let hash = stem.lastIndex(of: deliveriesMarker) else { return (stem, 0) }
        let base = String(stem[..<hash])
        let tail = stem[stem.index(after: hash)...]
        let parts = tail.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard !base.isEmpty, parts.count == 2, let count = Int(parts[0]), count >= 0,
              parts[0].utf8.allSatisfy(isDigit), !parts[1].isEmpty, parts[1].utf8.allSatisfy(isHexDigit)
        else { return (stem, 0) }
        return (base, count)
    }

    /// The ready name of a message handed back after `deliveries` deliveries; `tag` (from the receipt)
    /// keeps two messages with the same stem (the same file dropped in twice) from overwriting each other.
    static func readyName(stem: String, deliveries: Int, tag: String) -> String {
        stem + String(deliveriesMarker) + String(deliveries) + "-" + tag + messageSuffix
    }

    /// A claimed message in `.leased/`: `<receipt>.<deadline ms since epoch>.<delivery attempt>.<stem>.json`.
    static func leasedName(receipt: String, deadlineMilliseconds: Int64, attempt: Int, stem: String) -> String {
        receipt + "." + String(deadlineMilliseconds) + "." + String(attempt) + "." + stem + messageSuffix
    }

    /// A claimed message's parts, or nil for a name `leasedName` did not make.
    static func parseLeased(_ name: String) -> LeasedFile? {
        guard name.hasSuffix(messageSuffix) else { return nil }
        let parts = name.dropLast(messageSuffix.count).split(separator: ".", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, isReceipt(String(parts[0])),
              let deadline = Int64(parts[1]), let attempt = Int(parts[2]), attempt >= 1, !parts[3].isEmpty
        else { return nil }
        return LeasedFile(name: name, receipt: String(parts[0]), deadlineMilliseconds: deadline,
                          attempt: attempt, stem: String(parts[3]))
    }

    static let receiptHexLength = 32

    /// Whether a string has the shape of a local receipt (32 lowercase hex digits).
    static func isReceipt(_ text: String) -> Bool {
        text.utf8.count == receiptHexLength && text.utf8.allSatisfy(isHexDigit)
    }

    /// The longest stem kept in a leased name, so the whole name stays under NAME_MAX (255 bytes).
    static let maximumStemBytes = 180

    /// A stem cut to `maximumStemBytes` on a character boundary (only very long dropped-in names change).
    static func boundedStem(_ stem: String) -> String {
        guard stem.utf8.count > maximumStemBytes else { return stem }
        var result = ""
        for character in stem {
            if result.utf8.count + String(character).utf8.count > maximumStemBytes { break }
            result.append(character)
        }
        return result.isEmpty ? "message" : result
    }

    static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// 32 random bits, for the tie-breaker in sent names.
    static func randomUInt32() -> UInt32 {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }

    /// A new receipt: 128 random bits as 32 hex digits.
    static func newReceipt() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in hex(generator.next(), width: 8) }.joined()
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }
}

/// One file in `.leased/`, read from its name.
struct LeasedFile: Sendable, Equatable {
    var name: String
    var receipt: String
    var deadlineMilliseconds: Int64
    var attempt: Int
    var stem: String
}
