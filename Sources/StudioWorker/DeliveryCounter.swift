import Synchronization

/// Deliveries of each message this worker has seen, for queues that do not count them (Pub/Sub
/// without a dead-letter policy reports none). The effective count is the larger of the queue's
/// and ours, so `--max-deliveries` holds for a long-running worker on any backend. Bounded: the
/// oldest entries go first, and a settled message's entry is dropped.
final class DeliveryCounter: Sendable {
    private struct State {
        var counts: [String: Int] = [:]
        var order: [String] = []
    }
    private let state = Mutex(State())
    private let capacity: Int

    init(capacity: Int = 4096) { self.capacity = capacity }

    /// Counts one more delivery of `id`; returns the larger of that count and `reported`.
    func record(_ id: String, reported: Int) -> Int {
        state.withLock { state in
            if state.counts[id] == nil {
                state.order.append(id)
                if state.order.count > capacity {
                    let excess = state.order.count - capacity
                    for old in state.order.prefix(excess) { state.counts[old] = nil }
                    state.order.removeFirst(excess)
                }
            }
            let ours = (state.counts[id] ?? 0) + 1
            let count = max(ours, reported)
            state.counts[id] = count
            return count
        }
    }

    /// Forgets `id` once its message is settled.
    func forget(_ id: String) {
        state.withLock { state in
            if state.counts.removeValue(forKey: id) != nil { state.order.removeAll { $0 == id } }
        }
    }
}
