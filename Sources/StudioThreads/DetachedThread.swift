import Glibc

/// The one way the process starts a thread of its own: for work that blocks (the reaper's signalfd,
/// pipes, inotify, pip's output, a progress bar's timer) and so must never occupy one of Swift
/// concurrency's few cooperative threads (two, on a two-core machine). Glibc only, so the init core
/// can use it too.
public enum DetachedThread {
    /// Starts `body` on a new detached POSIX thread; returns 0, or pthread_create's error number
    /// (then `body` is not run).
    @discardableResult
    public static func start(_ body: @escaping @Sendable () -> Void) -> Int32 {
        let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, box)
        guard result == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(box).release()
            return result
        }
        pthread_detach(thread)
        return 0
    }

    /// Runs blocking `body` on a new detached thread and returns its result; when no thread can be
    /// had, runs it here rather than lose the work.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            let work: @Sendable () -> Void = { continuation.resume(returning: body()) }
            if start(work) != 0 { work() }
        }
    }
}

private final class ThreadBody: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}
