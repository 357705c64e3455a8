import Foundation
import XCTest
@testable import StudioWorker

/// The parsers of machine discovery: nvidia-smi's CSV, the visibility lists, cgroup v1 and v2 files
/// (read from a tree the test writes), the affinity list and /proc/meminfo.
final class ResourceDiscoveryTests: XCTestCase {
    private let csv = """
        0, GPU-aaaaaaaa-0000-0000-0000-000000000000, 16384, 1024, 5
        1, GPU-bbbbbbbb-0000-0000-0000-000000000000, 16384, 15000, 97
        2, GPU-cccccccc-0000-0000-0000-000000000000, 81920, 0, [N/A]

        """

    func testNvidiaSMICSVIsParsedInBytes() throws {
        let gpus = try XCTUnwrap(GPUInventory.parse(csv: csv))
        XCTAssertEqual(gpus.map(\.index), [0, 1, 2])
        XCTAssertEqual(gpus[1].uuid, "GPU-bbbbbbbb-0000-0000-0000-000000000000")
        XCTAssertEqual(gpus[0].memoryTotalBytes, 16384 << 20)
        XCTAssertEqual(gpus[1].memoryFreeBytes, (16384 - 15000) << 20)
        XCTAssertEqual(gpus[1].utilizationPercent, 97)
        XCTAssertNil(gpus[2].utilizationPercent)
        XCTAssertEqual(GPUInventory.parse(csv: ""), [])
    }

    func testGarbledNvidiaSMIOutputIsRefused() {
        for garbled in ["NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
                        "0, GPU-x, 16384, 1024", "0, GPU-x, lots, 1024, 5", "-1, GPU-x, 1, 1, 1",
                        "0, GPU x, 1, 1, 1", "0, GPU-x, 99999999999999999999, 1, 1"] {
            XCTAssertNil(GPUInventory.parse(csv: garbled), garbled)
        }
    }

    func testVisibleDevicesByIndexUUIDAllAndNone() throws {
        let gpus = try XCTUnwrap(GPUInventory.parse(csv: csv))
        func visible(_ environment: [String: String]) -> [Int] { GPUInventory.visible(gpus, environment: environment).map(\.index) }
        XCTAssertEqual(visible([:]), [0, 1, 2])
        XCTAssertEqual(visible(["NVIDIA_VISIBLE_DEVICES": "all"]), [0, 1, 2])
        XCTAssertEqual(visible(["NVIDIA_VISIBLE_DEVICES": "none"]), [])
        XCTAssertEqual(visible(["NVIDIA_VISIBLE_DEVICES": "void"]), [])
        XCTAssertEqual(visible(["CUDA_VISIBLE_DEVICES": ""]), [])
        XCTAssertEqual(visible(["NVIDIA_VISIBLE_DEVICES": "2,0"]), [2, 0])
        XCTAssertEqual(visible(["NVIDIA_VISIBLE_DEVICES": "GPU-cccccccc-0000-0000-0000-000000000000"]), [2])
        XCTAssertEqual(visible(["CUDA_VISIBLE_DEVICES": "GPU-bbbbbbbb"]), [1])
        // CUDA numbers what NVIDIA's list left, and stops at the first device it cannot use.
        XCTAssertEqual(visible(["NVIDIA_VISIBLE_DEVICES": "1,2", "CUDA_VISIBLE_DEVICES": "1"]), [2])
        XCTAssertEqual(visible(["CUDA_VISIBLE_DEVICES": "0,7,1"]), [0])
        XCTAssertEqual(visible(["CUDA_VISIBLE_DEVICES": "-1"]), [])
    }

    func testCgroupFileParsers() {
        XCTAssertEqual(CgroupLimits.parseCPUMax("max 100000\n"), nil)
        XCTAssertEqual(CgroupLimits.parseCPUMax("250000 100000\n"), 2.5)
        XCTAssertEqual(CgroupLimits.parseCPUMax("50000"), 0.5)
        XCTAssertNil(CgroupLimits.parseCPUMax("garbage 1"))
        XCTAssertNil(CgroupLimits.parseCPUMax("100 0"))
        XCTAssertEqual(CgroupLimits.parseCFS(quota: "-1\n", period: "100000\n"), nil)
        XCTAssertEqual(CgroupLimits.parseCFS(quota: "150000\n", period: "100000\n"), 1.5)
        XCTAssertEqual(CgroupLimits.parseMemoryLimit("max\n"), nil)
        XCTAssertEqual(CgroupLimits.parseMemoryLimit("536870912\n"), 536_870_912)
        XCTAssertEqual(CgroupLimits.parseMemoryLimit("9223372036854771712\n"), nil)
        XCTAssertNil(CgroupLimits.parseMemoryLimit("-5"))
        let membership = CgroupLimits.parseMembership("12:cpu,cpuacct:/a/b\n4:memory:/a\n1:name=systemd:/\n0::/kube/pod\nnonsense\n")
        XCTAssertEqual(membership.map(\.path), ["/a/b", "/a", "/", "/kube/pod"])
        XCTAssertEqual(membership.map(\.controllers), [["cpu", "cpuacct"], ["memory"], ["systemd"], []])
    }

    /// A cgroup v2 tree written by the test: the tightest limit along the path wins, and `max` is none.
    func testCgroupV2LimitsAreReadAlongThePath() throws {
        let root = NSTemporaryDirectory() + "cgroup-v2-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try write(root + "/cgroup.controllers", "cpu memory\n")
        try write(root + "/kube/cpu.max", "400000 100000\n")
        try write(root + "/kube/memory.max", "max\n")
        try write(root + "/kube/pod/cpu.max", "max 100000\n")
        try write(root + "/kube/pod/memory.max", "1073741824\n")
        try write(root + "/self", "0::/kube/pod\n")
        let limits = CgroupLimits.current(root: root, membership: root + "/self")
        XCTAssertEqual(limits, CgroupLimits(cpus: 4, memoryBytes: 1 << 30))
    }

    /// A v1/v2 hybrid (v1 controllers, an empty v2 tree at `unified`), as on this machine; a cgroup
    /// path that is not in the mount (a container's own cgroup is its root) falls back to the root.
    func testCgroupV1HybridLimits() throws {
        let root = NSTemporaryDirectory() + "cgroup-v1-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try write(root + "/unified/cgroup.controllers", "")
        try write(root + "/cpu,cpuacct/job/cpu.cfs_quota_us", "150000\n")
        try write(root + "/cpu,cpuacct/job/cpu.cfs_period_us", "100000\n")
        try write(root + "/memory/memory.limit_in_bytes", "268435456\n")
        try write(root + "/self", "3:cpu,cpuacct:/job\n2:memory:/docker/abc\n0::/\n")
        let limits = CgroupLimits.current(root: root, membership: root + "/self")
        XCTAssertEqual(limits, CgroupLimits(cpus: 1.5, memoryBytes: 256 << 20))
        XCTAssertEqual(CgroupLimits.current(root: root + "/nowhere", membership: root + "/self"), CgroupLimits())
    }

    func testAffinityListAndMeminfo() {
        XCTAssertEqual(ProcFiles.parseCPUList("0-3,8,10-11\n"), 7)
        XCTAssertEqual(ProcFiles.parseCPUList("0"), 1)
        XCTAssertNil(ProcFiles.parseCPUList("3-1"))
        XCTAssertNil(ProcFiles.parseCPUList("a-b"))
        XCTAssertNil(ProcFiles.parseCPUList(""))
        let meminfo = "MemTotal:       32000000 kB\nMemFree:  1 kB\nMemAvailable:   2048 kB\n"
        XCTAssertEqual(ProcFiles.meminfoBytes(meminfo, field: "MemAvailable"), 2048 * 1024)
        XCTAssertEqual(ProcFiles.meminfoBytes(meminfo, field: "MemTotal"), 32_000_000 * 1024)
        XCTAssertNil(ProcFiles.meminfoBytes(meminfo, field: "SwapTotal"))
        XCTAssertGreaterThanOrEqual(MachineResources.affinityCPUs(), 1)
    }

    private func write(_ path: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }
}
