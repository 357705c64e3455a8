#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// What one scan of the queue found.
enum LocalQueueScan {
    /// A message this receive now holds.
    case claimed(QueueMessage)
    /// Nothing to take; `nextChange` is when (wall-clock ms) a lease ends or a dropped-in file settles.
    case empty(nextChange: Int64?)
}

extension LocalQueue {
    /// Returns expired leases to the queue, then claims the oldest ready message, if any.
    func claimOldest(leaseSeconds: Int) throws -> LocalQueueScan {
        let now = QueueClock.nowMilliseconds()
        var nextChange: Int64?
        func note(_ time: Int64) { nextChange = min(nextChange ?? time, time) }

        for name in try QueueFiles.list(leasedDirectory) {
            guard let leased = LocalQueueFileName.parseLeased(name) else { continue }
            if leased.deadlineMilliseconds < now {
                // ENOENT: another worker returned, extended or acknowledged it first.
                let code = returnToReady(leased)
                guard code == 0 || code == ENOENT else {
                    throw QueueFiles.failure("return an expired lease to", directory, code)
                }
            } else {
                note(leased.deadlineMilliseconds + 1)
            }
        }

        let candidates = try QueueFiles.list(directory)
            .filter(LocalQueueFileName.isReadyCandidate)
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for name in candidates {
            let path = directory + "/" + name
            let ready = LocalQueueFileName.parseReady(name)
            if !LocalQueueFileName.isSentName(name) && ready.previousDeliveries == 0 {
                // Another tool's file: only a regular file, and only once its writer is done.
                guard let info = QueueFiles.status(path), info.st_mode & S_IFMT == S_IFREG else { continue }
                let settled = QueueClock.milliseconds(info.st_mtim) + LocalQueue.settleMilliseconds
                if settled > now {
                    note(settled + 1)
                    continue
                }
            }
            let stem = LocalQueueFileName.boundedStem(ready.stem)
            let receipt = LocalQueueFileName.newReceipt()
            let attempt = ready.previousDeliveries + 1
            let leasedName = LocalQueueFileName.leasedName(
                receipt: receipt, deadlineMilliseconds: now + Int64(leaseSeconds) * 1000, attempt: attempt, stem: stem)
            let leasedPath = leasedDirectory + "/" + leasedName
            let code = QueueFiles.rename(path, leasedPath)
            if code == ENOENT { continue }  // another worker claimed it first
            guard code == 0 else { throw QueueFiles.failure("claim", path, code) }
            do {
                let body = try QueueFiles.read(leasedPath)
                return .claimed(QueueMessage(id: stem, body: body, receipt: receipt, deliveryAttempt: attempt))
            } catch {
                // ENOENT: a zero-second lease already ran out and another worker took the message.
                if error.code == ENOENT { continue }
                throw QueueError(.unusable,
                    "cannot read message file \(leasedPath): \(QueueFiles.describe(error.code)); fix its permissions or remove it (it returns to the queue when its lease ends)")
            }
        }
        return .empty(nextChange: nextChange)
    }

    /// Renames a leased file back to a ready one, counting this delivery: 0, or the errno.
    func returnToReady(_ leased: LeasedFile) -> Int32 {
        let tag = String(leased.receipt.prefix(12))
        let readyName = LocalQueueFileName.readyName(stem: leased.stem, deliveries: leased.attempt, tag: tag)
        return QueueFiles.rename(leasedDirectory + "/" + leased.name, directory + "/" + readyName)
    }
}
