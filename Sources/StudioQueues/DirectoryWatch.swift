import Glibc
import StudioThreads

/// Waits for entries to appear in or leave some directories (inotify), without holding a thread of
/// Swift's small cooperative pool: each wait blocks a short-lived thread of its own.
final class DirectoryWatch: @unchecked Sendable {
    // Written once in init, closed in deinit: safe to read from the waiting thread.
    private let inotifyDescriptor: Int32
    private let wakeReadDescriptor: Int32
    private let wakeWriteDescriptor: Int32

    /// Watches `paths`; nil when inotify is unavailable (callers then poll).
    init?(paths: [String]) {
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { return nil }
        // Only arrivals matter: new messages, new or extended leases, finished writes of dropped-in files.
        let events = UInt32(IN_CREATE) | UInt32(IN_MOVED_TO) | UInt32(IN_CLOSE_WRITE) | UInt32(IN_ONLYDIR)
        for path in paths where inotify_add_watch(descriptor, path, events) < 0 {
            close(descriptor)
            return nil
        }
        var pipeDescriptors: [Int32] = [-1, -1]
        guard pipe(&pipeDescriptors) == 0 else {
            close(descriptor)
            return nil
        }
        for end in pipeDescriptors {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, O_NONBLOCK)
        }
        inotifyDescriptor = descriptor
        wakeReadDescriptor = pipeDescriptors[0]
        wakeWriteDescriptor = pipeDescriptors[1]
    }

    deinit {
        close(inotifyDescriptor)
        close(wakeReadDescriptor)
        close(wakeWriteDescriptor)
    }

    /// Returns when a watched directory changed, `milliseconds` passed, or the task was cancelled.
    func wait(milliseconds: Int) async {
        let timeout = Int32(clamping: max(0, milliseconds))
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let started = DetachedThread.start { [self] in
                    blockUntilChange(timeout: timeout)
                    continuation.resume()
                }
                if started != 0 {
                    // No thread to spare: fall back to one bounded blocking wait here.
                    blockUntilChange(timeout: min(timeout, 100))
                    continuation.resume()
                }
            }
        } onCancel: {
            var byte: UInt8 = 1
            _ = write(wakeWriteDescriptor, &byte, 1)
        }
    }

    private func blockUntilChange(timeout: Int32) {
        var descriptors = [
            pollfd(fd: inotifyDescriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeReadDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        let ready = poll(&descriptors, 2, timeout)
        guard ready > 0 else { return }
        // Drain the events: callers rescan the directories, so what changed does not matter.
        var buffer = [UInt8](repeating: 0, count: 4096)
        for descriptor in [inotifyDescriptor, wakeReadDescriptor] {
            while buffer.withUnsafeMutableBytes({ read(descriptor, $0.baseAddress!, $0.count) }) > 0 {}
        }
    }
}
