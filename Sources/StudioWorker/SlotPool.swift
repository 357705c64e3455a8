import Synchronization

/// What one admitted experiment holds until it is settled.
struct Reservation: Sendable, Equatable {
    let id: Int
    let request: ResourceRequest
    /// Its GPUs (none for a CPU experiment).
    let gpus: [GPU]
    /// Whether the machine has GPUs at all: then a CPU experiment is shown none.
    let machineHasGPUs: Bool

    /// `CUDA_VISIBLE_DEVICES` (indexes in PCI bus order), `CUDA_DEVICE_ORDER`, and
    /// `NVIDIA_VISIBLE_DEVICES` (UUIDs, for a container the experiment may start), set only where
    /// the machine has GPUs, so a CPU-only worker's environment is passed on untouched.
    var environment: [String: String] {
        guard machineHasGPUs else { return [:] }
        return ["CUDA_VISIBLE_DEVICES": gpus.map { String($0.index) }.joined(separator: ","),
                "CUDA_DEVICE_ORDER": "PCI_BUS_ID",
                "NVIDIA_VISIBLE_DEVICES": gpus.isEmpty ? "none" : gpus.map(\.uuid).joined(separator: ",")]
    }
}

/// The worker's slots: at most `parallel` experiments at once, each holding its CPUs, memory,
/// disk and GPUs until it is settled. The worker loop asks `admit` whether there is a slot for a
/// message's request now; it never reads the machine itself.
final class SlotPool: Sendable {
    enum Admission: Sendable, Equatable {
        case admitted(Reservation)
        case refused(FitVerdict)
    }

    private struct State {
        var held: [Int: Reservation] = [:]
        var nextID = 0
        var releases = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    let machine: MachineResources
    let parallel: Int
    let acceptUnfit: Bool
    private let state = Mutex(State())

    init(machine: MachineResources, parallel: Int, acceptUnfit: Bool) {
        self.machine = machine
        self.parallel = max(1, parallel)
        self.acceptUnfit = acceptUnfit
    }

    /// `--parallel auto`: one per GPU; without GPUs, one per 2 CPUs and 2 GiB of memory (at least one).
    static func automaticParallel(for machine: MachineResources) -> Int {
        if !machine.gpus.isEmpty { return machine.gpus.count }
        let byCPU = Int(machine.cpus / 2)
        let byMemory = Int(machine.memoryBytes / (2 << 30))
        return max(1, min(byCPU, byMemory))
    }

    /// Experiments held now.
    var running: Int { state.withLock { $0.held.count } }

    /// Whether another experiment may start (a slot is free at all).
    var hasFreeSlot: Bool { running < parallel }

    /// Reserves what `request` needs, `currentGPUs` being the GPUs with their memory use as of now
    /// (nil: as discovered); or says why not.
    func admit(_ request: ResourceRequest, currentGPUs: [GPU]? = nil) -> Admission {
        var request = request
        if let short = ResourceMatch.neverFits(request, on: machine) {
            guard acceptUnfit else { return .refused(.never(short)) }
            request = request.clamped(to: machine)
        }
        return state.withLock { state in
            guard state.held.count < parallel else { return .refused(.busy("all \(parallel) slots are running experiments")) }
            let held = state.held.values
            var short: [String] = []
            if Double(held.reduce(request.cpus) { $0 + $1.request.cpus }) > machine.cpus { short.append("cpus") }
            if held.reduce(request.memoryBytes, { $0 + $1.request.memoryBytes }) > machine.memoryBytes { short.append("ram") }
            if held.reduce(request.diskBytes, { $0 + $1.request.diskBytes }) > machine.diskFreeBytes { short.append("hdd") }
            let taken = Set(held.flatMap { $0.gpus.map(\.index) })
            let free = (currentGPUs ?? machine.gpus).filter { !taken.contains($0.index) }
            let gpus = ResourceMatch.pickGPUs(request, from: free)
            if gpus == nil { short.append("gpus") }
            guard short.isEmpty, let gpus else {
                return .refused(.busy(short.joined(separator: ", ") + " taken by running experiments or other processes"))
            }
            defer { state.nextID += 1 }
            let reservation = Reservation(id: state.nextID, request: request, gpus: gpus, machineHasGPUs: !machine.gpus.isEmpty)
            state.held[reservation.id] = reservation
            return .admitted(reservation)
        }
    }

    /// Gives back what `reservation` held and wakes whoever waits for a slot.
    func release(_ reservation: Reservation) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard state.held.removeValue(forKey: reservation.id) != nil else { return [] }
            state.releases += 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Releases so far: pass it to `waitForRelease(after:)` to miss none in between.
    var releaseCount: Int { state.withLock { $0.releases } }

    /// Returns once a reservation has been released since `count` was read (at once if one was,
    /// or if nothing is held, as then none ever will be), or when the waiting task is cancelled.
    func waitForRelease(after count: Int) async {
        let id = state.withLock { state -> Int in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.releases != count || state.held.isEmpty || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
