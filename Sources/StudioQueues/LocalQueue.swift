// The local queue: a directory with one file per message, and leases, for one machine and the tests.
// It behaves like SQS/Pub/Sub: a received message is invisible until its lease ends, then comes back.
//
// On-disk layout, under `<home>/queue/<name>/` (home = $STUDIOML_HOME, default ~/.studioml):
//
//   <ns since epoch, 20 digits>-<8 hex>.json    a ready message sent by `send`; names sort in send order
//   <anything>.json                             a ready message dropped in by another tool (cp, mv)
//   <stem>#<deliveries>-<12 hex>.json           a ready message that was delivered `deliveries` times
//                                               before and came back (lease ran out, or released)
//   .leased/<receipt>.<deadline ms>.<attempt>.<stem>.json
//                                               a message under lease: receipt = 32 random hex digits,
//                                               deadline = wall-clock ms since the epoch, attempt = this
//                                               delivery's number (1 for the first)
//   .tmp/<name>.tmp                             a message being written by `send`
//
// Every state change is one rename(2) inside one filesystem, so a message is always exactly one file:
// ready, leased or (after acknowledge) deleted; if several workers (threads or processes) race for the
// same file, exactly one rename succeeds and the others see ENOENT.
//   send:        write .tmp/x.tmp, fsync, rename to x.json      (appears whole or not at all)
//   receive:     rename ready → .leased/<new receipt>...        (the claim; deadline is in the new name)
//   extendLease: rename .leased/<receipt>.<old>... → <receipt>.<new deadline>...
//   acknowledge: unlink .leased/<receipt>...
//   release, or a lease found expired by any receive:
//                rename .leased/<receipt>... → <stem>#<attempt>-<receipt prefix>.json
// A receipt is only found by its prefix in `.leased/`, so once its file was moved back (or taken by
// another worker under a new receipt) extend, acknowledge and release fail with `.leaseLost`. A lease
// whose deadline passed but that nobody reclaimed yet still holds its message, as its file is still there.
// A receive takes the ready file whose name sorts first (bytewise), so sent messages come in send order.
// The message id is the stem: stable across redeliveries. The body is delivered as stored, whatever it is.
// Files of other tools are taken only once unmodified for half a second (cp writes in place; files
// named by `send` or by a return to the queue were renamed in whole and are taken at once); hidden
// files and names not ending in `.json` are ignored.

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Synchronization

/// A directory queue with leases on this machine: `local*` queue names.
public struct LocalQueue: CountableQueue {
    /// The queue's name (`local`, `local-gpu`).
    public let name: String
    /// The directory that holds the ready messages: `<home>/queue/<name>`.
    public let directory: String

    var leasedDirectory: String { directory + "/.leased" }
    var temporaryDirectory: String { directory + "/.tmp" }

    /// How long a dropped-in file must stay unmodified before it is taken, as `cp` writes in place.
    static let settleMilliseconds: Int64 = 500

    /// The longest single inotify wait, so changes inotify cannot see (another host on NFS) still count.
    static let longestWatchMilliseconds: Int64 = 5000

    /// The last send time used in this process, so names keep send order even if the clock steps back.
    private static let lastSentNanoseconds = Mutex<UInt64>(0)

    /// Opens (creating if needed) the queue `name` under `home` (the StudioML home, e.g. `~/.studioml`).
    public init(name: String, home: String) throws {
        try LocalQueueFileName.validateQueueName(name)
        var base = home
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        guard !base.isEmpty else {
            throw QueueError(.unusable, "the StudioML home for local queue '\(name)' is empty; set STUDIOML_HOME to a directory")
        }
        self.name = name
        self.directory = (base == "/" ? "" : base) + "/queue/" + name
        try QueueFiles.makeDirectories(leasedDirectory)
        try QueueFiles.makeDirectories(temporaryDirectory)
    }

    /// Opens the queue `name` under the home that `environment` selects (see `home(environment:)`).
    public init(name: String, environment: [String: String]) throws {
        try self.init(name: name, home: LocalQueue.home(environment: environment))
    }

    /// The StudioML home: `$STUDIOML_HOME`, else `$HOME/.studioml`, else the user's passwd home + `/.studioml`.
    public static func home(environment: [String: String]) -> String {
        if let home = environment["STUDIOML_HOME"], !home.isEmpty { return home }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.studioml" }
        if let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir {
            let path = String(cString: directory)
            if !path.isEmpty { return path + "/.studioml" }
        }
        return "/tmp/.studioml"
    }

    /// Writes one message file; it appears in the queue whole, after it is on disk.
    public func send(_ body: Data) async throws {
        let fileName = LocalQueueFileName.sentName(nanoseconds: LocalQueue.nextSendTime(),
                                                   random: LocalQueueFileName.randomUInt32())
        let temporaryPath = temporaryDirectory + "/" + fileName + ".tmp"
        do {
            try QueueFiles.writeNewFile(temporaryPath, body)
        } catch {
            _ = QueueFiles.unlink(temporaryPath)
            throw error
        }
        let code = QueueFiles.rename(temporaryPath, directory + "/" + fileName)
        guard code == 0 else {
            _ = QueueFiles.unlink(temporaryPath)
            throw QueueFiles.failure("move a new message into", directory, code)
        }
        QueueFiles.syncDirectory(directory)
    }

    /// Takes the oldest ready message under a `lease`-second lease, waiting up to `wait` seconds for one;
    /// nil when none came, CancellationError when the task is cancelled while waiting.
    public func receive(lease: Int, wait: Int) async throws -> QueueMessage? {
        let waitEnd = QueueClock.monotonicNanoseconds() + Int64(max(0, wait)) * 1_000_000_000
        // Watch before the first scan, so a message sent between scan and wait still wakes us.
        let watch = wait > 0 ? DirectoryWatch(paths: [directory, leasedDirectory]) : nil
        var pollMilliseconds: Int64 = 25
        while true {
            try Task.checkCancellation()
            let scan = try claimOldest(leaseSeconds: max(0, lease))
            if case .claimed(let message) = scan { return message }
            let remaining = (waitEnd - QueueClock.monotonicNanoseconds()) / 1_000_000
            if remaining <= 0 { return nil }
            var timeout = remaining
            if case .empty(let nextChange?) = scan {
                timeout = min(timeout, max(1, nextChange - QueueClock.nowMilliseconds()))
            }
            if let watch {
                await watch.wait(milliseconds: Int(min(timeout, LocalQueue.longestWatchMilliseconds)))
            } else {
                // No inotify: poll with a growing backoff.
                try await Task.sleep(nanoseconds: UInt64(min(timeout, pollMilliseconds)) * 1_000_000)
                pollMilliseconds = min(pollMilliseconds * 2, 500)
            }
        }
    }

    /// Makes the lease end `seconds` from now if this receipt still holds the message (0 or less: release).
    public func extendLease(_ message: QueueMessage, seconds: Int) async throws {
        if seconds <= 0 { return try await release(message) }
        let leased = try leasedFile(for: message)
        let renewed = LocalQueueFileName.leasedName(
            receipt: leased.receipt, deadlineMilliseconds: QueueClock.nowMilliseconds() + Int64(seconds) * 1000,
            attempt: leased.attempt, stem: leased.stem)
        let code = QueueFiles.rename(leasedDirectory + "/" + leased.name, leasedDirectory + "/" + renewed)
        if code == ENOENT { throw leaseLost(message, "extend its lease") }
        guard code == 0 else { throw QueueFiles.failure("extend the lease of", leasedDirectory + "/" + leased.name, code) }
    }

    /// Deletes a received message for good, if this receipt still holds it.
    public func acknowledge(_ message: QueueMessage) async throws {
        let leased = try leasedFile(for: message)
        let code = QueueFiles.unlink(leasedDirectory + "/" + leased.name)
        if code == ENOENT { throw leaseLost(message, "acknowledge it") }
        guard code == 0 else { throw QueueFiles.failure("delete", leasedDirectory + "/" + leased.name, code) }
    }

    /// Puts a received message back at once for another receive; its delivery count is kept.
    public func release(_ message: QueueMessage) async throws {
        let leased = try leasedFile(for: message)
        let code = returnToReady(leased)
        if code == ENOENT { throw leaseLost(message, "release it") }
        guard code == 0 else { throw QueueFiles.failure("release", leasedDirectory + "/" + leased.name, code) }
    }

    /// The numbers of ready messages (expired leases count as ready) and of messages under lease.
    public func counts() async throws -> QueueCounts {
        let now = QueueClock.nowMilliseconds()
        var ready = try QueueFiles.list(directory).filter(LocalQueueFileName.isReadyCandidate).count
        var leased = 0
        for name in try QueueFiles.list(leasedDirectory) {
            guard let file = LocalQueueFileName.parseLeased(name) else { continue }
            if file.deadlineMilliseconds < now { ready += 1 } else { leased += 1 }
        }
        return QueueCounts(ready: ready, leased: leased)
    }

    private static func nextSendTime() -> UInt64 {
        lastSentNanoseconds.withLock { last in
            last = max(QueueClock.nowNanoseconds(), last + 1)
            return last
        }
    }

    private func leaseLost(_ message: QueueMessage, _ action: String) -> QueueError {
        QueueError(.leaseLost,
            "cannot \(action): the lease on message \(message.id) in queue \(name) was lost (it ran out and the message went back to the queue, or it was already acknowledged); extend leases well before they end")
    }

    /// The file this message's receipt holds in `.leased/`, or `.leaseLost`.
    private func leasedFile(for message: QueueMessage) throws -> LeasedFile {
        guard LocalQueueFileName.isReceipt(message.receipt) else {
            throw QueueError(.leaseLost, "receipt '\(message.receipt)' of message \(message.id) is not a receipt of local queue \(name)")
        }
        let prefix = message.receipt + "."
        for name in try QueueFiles.list(leasedDirectory) where name.hasPrefix(prefix) {
            if let file = LocalQueueFileName.parseLeased(name) { return file }
        }
        throw leaseLost(message, "use its receipt")
    }
}
