#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import StudioCredentials

final class RotatingFileTests: XCTestCase {
    /// Lays out a Secret volume the way kubelet's AtomicWriter does and returns a function that swaps in new content.
    func makeSecretVolume(initial: String) throws -> (directory: String, swap: (String, String) throws -> Void) {
        let directory = try makeTemporaryDirectory(for: self)
        func publish(_ content: String, stamp: String) throws {
            let versioned = "..\(stamp)"
            try FileManager.default.createDirectory(atPath: directory + "/" + versioned, withIntermediateDirectories: false)
            try write(content, to: directory + "/" + versioned + "/key.json")
            XCTAssertEqual(symlink(versioned, directory + "/..data_tmp"), 0)
            XCTAssertEqual(rename(directory + "/..data_tmp", directory + "/..data"), 0, "the atomic step")
        }
        try publish(initial, stamp: "2024_05_01_12_00_00.1111")
        XCTAssertEqual(symlink("..data/key.json", directory + "/key.json"), 0)
        return (directory, publish)
    }

    func testDetectsAKubeletDataSwap() throws {
        let (directory, swap) = try makeSecretVolume(initial: #"{"v":1}"#)
        var file = RotatingFile(path: directory + "/key.json")
        XCTAssertTrue(try file.hasChanged(), "never read yet")
        let first = try file.read()
        XCTAssertEqual(String(decoding: first.contents, as: UTF8.self), #"{"v":1}"#)
        XCTAssertTrue(first.changed)
        XCTAssertTrue(try file.resolvedPath().hasSuffix("/..2024_05_01_12_00_00.1111/key.json"))
        XCTAssertFalse(try file.hasChanged())
        XCTAssertNil(try file.readIfChanged())

        // Same size, same second: only the inode tells the versions apart.
        try swap(#"{"v":2}"#, "2024_05_01_12_01_00.2222")
        try FileManager.default.removeItem(atPath: directory + "/..2024_05_01_12_00_00.1111")
        XCTAssertTrue(try file.hasChanged())
        XCTAssertEqual(try file.readIfChanged().map { String(decoding: $0, as: UTF8.self) }, #"{"v":2}"#)
        XCTAssertFalse(try file.hasChanged())
        XCTAssertTrue(try file.resolvedPath().hasSuffix("/..2024_05_01_12_01_00.2222/key.json"))
    }

    func testIdenticalRewriteIsNotAChange() throws {
        let (directory, swap) = try makeSecretVolume(initial: "token-a")
        var file = RotatingFile(path: directory + "/key.json")
        _ = try file.read()
        try swap("token-a", "2024_05_01_12_02_00.3333")
        XCTAssertTrue(try file.hasChanged(), "a new inode")
        XCTAssertNil(try file.readIfChanged(), "but the same bytes")
        XCTAssertFalse(try file.hasChanged())
    }

    func testInPlaceEditIsSeen() throws {
        let directory = try makeTemporaryDirectory(for: self)
        let path = directory + "/token"
        try write("one", to: path)
        var file = RotatingFile(path: path)
        _ = try file.read()
        try write("three", to: path)
        XCTAssertEqual(try file.readIfChanged(), Array("three".utf8))
    }

    func testMissingFileErrorNamesThePath() {
        var file = RotatingFile(path: "/nonexistent/dir/token")
        XCTAssertThrowsError(try file.read()) { error in
            XCTAssertEqual(String(describing: error), "cannot read /nonexistent/dir/token: No such file or directory")
        }
    }
}
