#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import StudioModel
import StudioQueues

/// `$STUDIOML_HOME/rejected/`: the messages this worker settled without an outcome it could
/// record, kept so nothing is lost. Each file is one JSON object: why, when, which queue and
/// message, how many deliveries, and the message itself with its secrets replaced by
/// `<redacted>` (messages carry store credentials in plain text). Files are mode 0600, and only
/// the newest `limit` are kept, so a flood of bad messages cannot fill the disk.
struct RejectedMessages: Sendable {
    let directory: String
    let limit: Int

    init(home: String, limit: Int) {
        directory = home + "/rejected"
        self.limit = max(1, limit)
    }

    /// Writes the file for `message`; returns its path. Throws when it cannot be written.
    func keep(_ message: QueueMessage, queue: String, reason: String, deliveries: Int) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var entry: JSONObject = [
            "reason": .string(reason),
            "rejected_at": .double(Date.now.timeIntervalSince1970),
            "queue": .string(queue),
            "message_id": .string(message.id),
            "deliveries": .int(Int64(deliveries)),
        ]
        if let body = try? JSONValue(parsing: message.body) {
            entry["message"] = SecretRedaction.redact(body)
        } else {
            // Not JSON, so no field of it can be told apart as a secret: kept as text, readable by us only.
            entry["message_text"] = .string(String(decoding: message.body, as: UTF8.self))
        }
        let path = directory + "/" + safeFileName(message.id) + ".json"
        try Self.writePrivate(path, JSONValue.object(entry).jsonData(.pretty))
        trim()
        return path
    }

    /// Removes the oldest files beyond `limit`.
    private func trim() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        let files = names.filter { $0.hasSuffix(".json") }.map { directory + "/" + $0 }
        guard files.count > limit else { return }
        let byAge = files.map { ($0, Self.modificationTime($0)) }.sorted { $0.1 < $1.1 }
        for (path, _) in byAge.prefix(files.count - limit) { unlink(path) }
    }

    static func modificationTime(_ path: String) -> Int64 {
        var status = stat()
        guard stat(path, &status) == 0 else { return 0 }
        return Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec)
    }

    /// Writes a new file with mode 0600 from the start (never world-readable, whatever the umask),
    /// renamed into place whole.
    static func writePrivate(_ path: String, _ data: Data) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WorkerError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let count = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { return false }
                offset += count
            }
            return true
        }
        let failure = String(cString: strerror(errno))
        guard written, fsync(fd) == 0, close(fd) == 0 else {
            close(fd)
            unlink(temporary)
            throw WorkerError("cannot write \(temporary): \(failure)")
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw WorkerError("cannot move \(temporary) to \(path): \(String(cString: strerror(errno)))")
        }
    }
}
