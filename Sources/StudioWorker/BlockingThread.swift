import StudioThreads

/// The worker's name for the process's one thread helper (blocking reads and waits off the cooperative pool).
typealias BlockingThread = DetachedThread
