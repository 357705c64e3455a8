import XCTest
import StudioModel
@testable import StudioWorker

/// Matching `resources_needed` against the slots: never-fit versus busy, GPU choice by free memory,
/// the GPU environment, `--accept-unfit`, `--parallel auto`.
final class ResourceMatchTests: XCTestCase {
    private func gpu(_ index: Int, total: Int64 = 16, used: Int64 = 0) -> GPU {
        GPU(index: index, uuid: "GPU-\(index)", memoryTotalBytes: total << 30, memoryUsedBytes: used << 30, utilizationPercent: 0)
    }

    private func machine(cpus: Double = 8, ram: Int64 = 32, gpus: [GPU] = []) -> MachineResources {
        MachineResources(cpus: cpus, memoryBytes: ram << 30, diskFreeBytes: 100 << 30, gpus: gpus)
    }

    func testResourcesNeededInStudioMLUnits() throws {
        let request = try ResourceRequest(ResourcesNeeded(json: ["cpus": 2, "ram": "3g", "hdd": "512m", "gpus": "1", "gpuCount": 2, "gpuMem": "8g"]))
        XCTAssertEqual(request, ResourceRequest(cpus: 2, memoryBytes: 3 << 30, diskBytes: 512 << 20, gpus: 2, gpuMemoryBytes: 8 << 30))
        XCTAssertEqual(try ResourceRequest(ResourcesNeeded(json: ["gpuMem": "4g"])).gpus, 1)
        XCTAssertThrowsError(try ResourceRequest(ResourcesNeeded(json: ["cpus": "many"])))
    }

    func testNeverFitNamesWhatIsShort() {
        let pool = SlotPool(machine: machine(cpus: 2, gpus: [gpu(0)]), parallel: 4, acceptUnfit: false)
        guard case .refused(.never(let short)) = pool.admit(ResourceRequest(gpus: 2)) else { return XCTFail("a 2-GPU request fits 1 GPU") }
        XCTAssertEqual(short, "gpus: needs 2, has 1")
        guard case .refused(.never(let both)) = pool.admit(ResourceRequest(cpus: 4, memoryBytes: 64 << 30)) else { return XCTFail() }
        XCTAssertTrue(both.contains("cpus: needs 4, has 2") && both.contains("ram: needs 64g, has 32g"), both)
        guard case .refused(.never(let big)) = pool.admit(ResourceRequest(gpus: 1, gpuMemoryBytes: 40 << 30)) else { return XCTFail() }
        XCTAssertEqual(big, "gpus: needs 1 with 40g each, has 0 that large")
        XCTAssertEqual(pool.running, 0)
    }

    func testBusyUntilASlotIsReleased() throws {
        let pool = SlotPool(machine: machine(gpus: [gpu(0), gpu(1)]), parallel: 2, acceptUnfit: false)
        guard case .admitted(let first) = pool.admit(ResourceRequest(gpus: 2)) else { return XCTFail() }
        XCTAssertEqual(first.gpus.map(\.index), [0, 1])
        guard case .refused(.busy(let why)) = pool.admit(ResourceRequest(gpus: 1)) else { return XCTFail("GPUs are all held") }
        XCTAssertTrue(why.contains("gpus"), why)
        guard case .admitted(let cpuOnly) = pool.admit(ResourceRequest(cpus: 1)) else { return XCTFail("a CPU experiment fits") }
        XCTAssertEqual(cpuOnly.environment["CUDA_VISIBLE_DEVICES"], "", "a CPU experiment on a GPU worker sees no GPU")
        guard case .refused(.busy) = pool.admit(ResourceRequest()) else { return XCTFail("both slots are taken") }
        pool.release(first)
        guard case .admitted(let next) = pool.admit(ResourceRequest(gpus: 1)) else { return XCTFail() }
        XCTAssertEqual(next.environment["CUDA_VISIBLE_DEVICES"], "0")
        XCTAssertEqual(next.environment["CUDA_DEVICE_ORDER"], "PCI_BUS_ID")
        XCTAssertEqual(next.environment["NVIDIA_VISIBLE_DEVICES"], "GPU-0")
    }

    func testCPUAndMemoryAreReserved() {
        let pool = SlotPool(machine: machine(cpus: 4, ram: 8), parallel: 8, acceptUnfit: false)
        guard case .admitted = pool.admit(ResourceRequest(cpus: 3, memoryBytes: 2 << 30)) else { return XCTFail() }
        guard case .refused(.busy(let why)) = pool.admit(ResourceRequest(cpus: 2, memoryBytes: 7 << 30)) else { return XCTFail() }
        XCTAssertTrue(why.hasPrefix("cpus, ram"), why)
        guard case .admitted(let small) = pool.admit(ResourceRequest(cpus: 1, memoryBytes: 6 << 30)) else { return XCTFail() }
        XCTAssertEqual(small.environment, [:], "a CPU-only worker passes its environment on untouched")
    }

    func testGPUsWithTheMostFreeMemoryAreChosen() {
        let pool = SlotPool(machine: machine(gpus: [gpu(0), gpu(1), gpu(2), gpu(3)]), parallel: 4, acceptUnfit: false)
        let now = [gpu(0, used: 15), gpu(1, used: 2), gpu(2, used: 10), gpu(3, used: 1)]
        guard case .admitted(let reservation) = pool.admit(ResourceRequest(gpus: 2, gpuMemoryBytes: 6 << 30), currentGPUs: now) else { return XCTFail() }
        XCTAssertEqual(reservation.gpus.map(\.index), [1, 3])
        guard case .refused(.busy) = pool.admit(ResourceRequest(gpus: 1, gpuMemoryBytes: 8 << 30), currentGPUs: now) else {
            return XCTFail("GPUs 0 and 2 lack the free memory")
        }
    }

    func testAcceptUnfitCutsTheRequestDown() {
        let pool = SlotPool(machine: machine(cpus: 2, gpus: [gpu(0)]), parallel: 1, acceptUnfit: true)
        guard case .admitted(let reservation) = pool.admit(ResourceRequest(cpus: 16, gpus: 4)) else { return XCTFail() }
        XCTAssertEqual(reservation.gpus.map(\.index), [0])
        XCTAssertEqual(reservation.request.cpus, 2)
    }

    func testParallelAuto() {
        XCTAssertEqual(SlotPool.automaticParallel(for: machine(cpus: 2, ram: 1, gpus: [gpu(0), gpu(1), gpu(2), gpu(3)])), 4)
        XCTAssertEqual(SlotPool.automaticParallel(for: machine(cpus: 8, ram: 32)), 4)
        XCTAssertEqual(SlotPool.automaticParallel(for: machine(cpus: 16, ram: 4)), 2)
        XCTAssertEqual(SlotPool.automaticParallel(for: machine(cpus: 1, ram: 1)), 1)
    }

    func testWaitForReleaseReturnsOnRelease() async {
        let pool = SlotPool(machine: machine(), parallel: 2, acceptUnfit: false)
        guard case .admitted(let reservation) = pool.admit(ResourceRequest()) else { return XCTFail() }
        let count = pool.releaseCount
        let waiter = Task { await pool.waitForRelease(after: count) }
        pool.release(reservation)
        await waiter.value
        // Nothing held: returns at once rather than wait for a release that cannot come.
        await pool.waitForRelease(after: pool.releaseCount)
        // A cancelled waiter returns too.
        guard case .admitted = pool.admit(ResourceRequest()) else { return XCTFail() }
        let cancelled = Task { await pool.waitForRelease(after: pool.releaseCount) }
        cancelled.cancel()
        await cancelled.value
    }
}
