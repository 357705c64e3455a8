#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Synchronization
import XCTest
@testable import StudioStorage

/// Packing for a worker (`portableOnly`, what `studio run` does) leaves out exactly what the extractor would
/// refuse, so that every packed workspace unpacks; and an interrupted pack stops part-way.
final class PortablePackingTests: XCTestCase {
    private var scratch: Scratch!

    override func setUpWithError() throws { scratch = try Scratch() }
    override func tearDown() { scratch.remove() }

    func testTheSharedLinkRule() {
        func verdict(_ member: String, _ target: String) -> ExtractableLink.Verdict {
            ExtractableLink.verdict(member: FileTree.components(Array(member.utf8)), target: Array(target.utf8))
        }
        XCTAssertEqual(verdict("link", "a.txt"), .extractable)
        XCTAssertEqual(verdict("d/up", "../a.txt"), .extractable)
        XCTAssertEqual(verdict("d/e/up", "../../a/./b"), .extractable)
        XCTAssertEqual(verdict("d/self", "."), .extractable)
        XCTAssertEqual(verdict("link", "/usr/bin/python3"), .absolute)
        XCTAssertEqual(verdict("link", "../outside"), .escapes)
        XCTAssertEqual(verdict("d/link", "x/../../../outside"), .escapes)
        XCTAssertEqual(verdict("link", ""), .empty)
    }

    func testVirtualenvsAndLinksNoWorkerWouldUnpackAreLeftOutAndTheRestUnpacks() throws {
        let source = scratch.at("ws"), archive = scratch.at("out.tar"), target = scratch.at("dst")
        try writeFile("\(source)/train.py", "print('hi')\n")
        try writeFile("\(source)/data/x.csv", "1,2\n")
        XCTAssertEqual(symlink("train.py", "\(source)/latest"), 0)
        XCTAssertEqual(symlink("../train.py", "\(source)/data/up"), 0)
        XCTAssertEqual(symlink("/etc/hostname", "\(source)/absolute"), 0)
        XCTAssertEqual(symlink("../../elsewhere", "\(source)/data/escaping"), 0)
        // A virtualenv as `python3 -m venv` makes one: pyvenv.cfg, bin/python linking to the system's.
        try writeFile("\(source)/.venv/pyvenv.cfg", "home = /usr/bin\n")
        try writeFile("\(source)/.venv/lib/site.py", "")
        try FileManager.default.createDirectory(atPath: "\(source)/.venv/bin", withIntermediateDirectories: true)
        XCTAssertEqual(symlink("/usr/bin/python3", "\(source)/.venv/bin/python"), 0)
        // A directory merely named venv, without pyvenv.cfg, is ordinary content.
        try writeFile("\(source)/venv/notes.txt", "kept\n")

        // Without portableOnly (artifacts, `studio tar`) everything is packed, and the extractor refuses it.
        try TarWriter.packDirectory(source, to: archive)
        XCTAssertThrowsError(try TarExtractor.extract(archivePath: archive, to: scratch.at("refused")))

        let fd = open(archive, O_WRONLY | O_TRUNC)
        let digest = try TarWriter.packDirectory(source, toFileDescriptor: fd, portableOnly: true)
        close(fd)
        XCTAssertEqual(digest.leftOut, [
            LeftOut(path: ".venv", reason: .virtualenv),
            LeftOut(path: "absolute", reason: .link(target: "/etc/hostname", .absolute)),
            LeftOut(path: "data/escaping", reason: .link(target: "../../elsewhere", .escapes)),
        ])
        _ = try TarExtractor.extract(archivePath: archive, to: target)
        XCTAssertEqual(symlinkTarget("\(target)/latest"), "train.py")
        XCTAssertEqual(symlinkTarget("\(target)/data/up"), "../train.py")
        XCTAssertEqual(try readBytes("\(target)/venv/notes.txt"), Array("kept\n".utf8))
        for missing in [".venv", "absolute", "data/escaping"] {
            XCTAssertNil(lstatOrNil("\(target)/\(missing)"), missing)
        }
    }

    func testAnInterruptedPackStopsPartWay() throws {
        let source = scratch.at("big"), archive = scratch.at("out.tar")
        for index in 0..<8 { try writeBytes("\(source)/part\(index).bin", patternBytes(4 << 20)) }
        let buffers = Mutex(0)
        XCTAssertThrowsError(try TarWriter.pack(source, to: archive, interrupted: {
            buffers.withLock { count in
                count += 1
                return count > 2  // after two buffers of archive
            }
        })) { error in
            XCTAssertEqual("\(error)", "packing interrupted")
        }
        let size = lstatOrNil(archive).map { Int64($0.st_size) } ?? 0
        XCTAssertLessThan(size, 32 << 20, "stopped before the whole workspace was written")
    }
}
