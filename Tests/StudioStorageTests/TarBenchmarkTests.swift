#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import XCTest
@testable import StudioStorage

/// A stand-in for `studio tar create|extract` until the CLI exposes them, so Benchmarks/tar-bench.sh can time
/// a release build: `STUDIO_TAR_BENCH=create|extract STUDIO_TAR_BENCH_ARCHIVE=... STUDIO_TAR_BENCH_DIR=...`.
/// Skipped when those variables are not set.
final class TarBenchmarkTests: XCTestCase {
    func testBenchCommand() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let operation = environment["STUDIO_TAR_BENCH"], let archive = environment["STUDIO_TAR_BENCH_ARCHIVE"],
              let directory = environment["STUDIO_TAR_BENCH_DIR"] else {
            throw XCTSkip("set STUDIO_TAR_BENCH, STUDIO_TAR_BENCH_ARCHIVE and STUDIO_TAR_BENCH_DIR to run")
        }
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        switch operation {
        case "create":
            let digest = try TarWriter.packDirectory(directory, to: archive)
            XCTAssertGreaterThan(digest.memberCount, 0)
        case "extract":
            let result = try TarExtractor.extract(archivePath: archive, to: directory)
            XCTAssertGreaterThan(result.memberCount, 0)
        default:
            XCTFail("STUDIO_TAR_BENCH must be create or extract, not \(operation)")
        }
        var end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &end)
        let seconds = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
        print("tar-bench \(operation) inside: \(seconds) s")
    }
}
