import Glibc

/// Runs blocking work (reads from pipes, waits on files) on a thread of its own, so that it never
/// occupies one of Swift concurrency's few cooperative threads (two, on a two-core machine).
enum BlockingThread {
    /// Runs `body` on a new detached thread and returns its result.
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            let box = Unmanaged.passRetained(ThreadBody {
                continuation.resume(returning: body())
            })
            var thread = pthread_t()
            let started = pthread_create(&thread, nil, { raw in
                let body = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
                body.work()
                return nil
            }, box.toOpaque())
            if started != 0 {
                // No thread to be had: do the work here rather than lose it.
                box.takeRetainedValue().work()
            } else {
                pthread_detach(thread)
            }
        }
    }
}

private final class ThreadBody: @unchecked Sendable {
    let work: () -> Void
    init(_ work: @escaping () -> Void) { self.work = work }
}
