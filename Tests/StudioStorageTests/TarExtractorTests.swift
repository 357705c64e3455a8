#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import XCTest
@testable import StudioStorage

final class TarExtractorTests: XCTestCase {
    private var scratch: Scratch!

    override func setUpWithError() throws {
        scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: scratch.at("outside"), withIntermediateDirectories: true)
        try writeFile(scratch.at("outside/secret"), "secret")
    }

    override func tearDown() { scratch.remove() }

    /// Writes an archive with Python's tarfile; each member is a Python expression building a TarInfo and data.
    private func archive(_ members: [String]) throws -> String {
        let path = scratch.at("hostile.tar")
        try python("""
            import tarfile, io
            def m(name, data=b'', **kw):
                info = tarfile.TarInfo(name)
                for k, v in kw.items(): setattr(info, k, v)
                info.size = len(data) if info.type in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0
                return info, io.BytesIO(data)
            with tarfile.open('\(path)', 'w', format=tarfile.PAX_FORMAT) as t:
                for info, data in [\(members.joined(separator: ", "))]:
                    t.addfile(info, data)
            """)
        return path
    }

    /// Extracting must fail naming `member`, and nothing may appear outside the target.
    private func assertRefused(_ members: [String], member: String, reason: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let path = try archive(members)
        XCTAssertThrowsError(try TarExtractor.extract(archivePath: path, to: scratch.at("target")), file: file, line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("'\(member)'") && message.contains(reason), message, file: file, line: line)
            XCTAssertFalse(message.contains("\n"), file: file, line: line)
        }
        let outside = try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
        XCTAssertEqual(outside, ["hostile.tar", "outside", "target"], file: file, line: line)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.at("outside")), ["secret"], file: file, line: line)
        XCTAssertEqual(try readText(scratch.at("outside/secret")), "secret", file: file, line: line)
    }

    func testAbsoluteNameIsRefused() throws {
        try assertRefused(["m('\(scratch.at("outside"))/abs', b'evil')"], member: "\(scratch.at("outside"))/abs", reason: "absolute")
    }

    func testDotDotNamesAreRefused() throws {
        try assertRefused(["m('ok', b'fine')", "m('../escaped', b'evil')"], member: "../escaped", reason: "'..'")
        try assertRefused(["m('a/../../escaped', b'evil')"], member: "a/../../escaped", reason: "'..'")
    }

    func testSymlinkToOutsideThenWriteThroughItIsRefused() throws {
        try assertRefused(["m('link', type=tarfile.SYMTYPE, linkname='\(scratch.at("outside"))')", "m('link/passwd', b'evil')"],
                          member: "link", reason: "absolute")
        try assertRefused(["m('link', type=tarfile.SYMTYPE, linkname='/etc')", "m('link/passwd', b'evil')"],
                          member: "link", reason: "absolute")
    }

    func testSymlinkWithDotDotTargetIsRefused() throws {
        try assertRefused(["m('sub/link', type=tarfile.SYMTYPE, linkname='../../outside')"], member: "sub/link", reason: "outside")
    }

    func testSymlinkEscapingThroughAnotherSymlinkIsRefused() throws {
        // `d -> .` is harmless alone, but `e -> d/d/..` then resolves to the target's parent.
        try assertRefused(["m('d', type=tarfile.SYMTYPE, linkname='.')", "m('e', type=tarfile.SYMTYPE, linkname='d/d/..')"],
                          member: "e", reason: "outside")
        XCTAssertFalse(fileExists(scratch.at("target/e")))
    }

    func testWritingThroughAnInsideSymlinkIsRefused() throws {
        try assertRefused(["m('dir', type=tarfile.DIRTYPE)", "m('inner', type=tarfile.SYMTYPE, linkname='dir')", "m('inner/file', b'x')"],
                          member: "inner/file", reason: "symlink 'inner'")
    }

    func testPreexistingSymlinkInTargetIsNotFollowed() throws {
        try FileManager.default.createDirectory(atPath: scratch.at("target"), withIntermediateDirectories: true)
        XCTAssertEqual(symlink(scratch.at("outside"), scratch.at("target/link")), 0)
        let path = try archive(["m('link/secret', b'overwritten')"])
        XCTAssertThrowsError(try TarExtractor.extract(archivePath: path, to: scratch.at("target"), options: ExtractOptions(replaceTarget: false)))
        XCTAssertEqual(try readText(scratch.at("outside/secret")), "secret")
    }

    func testHardLinksOutsideAreRefused() throws {
        try assertRefused(["m('hl', type=tarfile.LNKTYPE, linkname='/etc/passwd')"], member: "hl", reason: "absolute hard link target '/etc/passwd'")
        try assertRefused(["m('hl', type=tarfile.LNKTYPE, linkname='../outside/secret')"], member: "hl", reason: "'..'")
    }

    func testDevicesAndFifosAreRefused() throws {
        try assertRefused(["m('null', type=tarfile.CHRTYPE, devmajor=1, devminor=3)"], member: "null", reason: "device")
        try assertRefused(["m('disk', type=tarfile.BLKTYPE, devmajor=8, devminor=0)"], member: "disk", reason: "device")
        try assertRefused(["m('pipe', type=tarfile.FIFOTYPE)"], member: "pipe", reason: "FIFO")
    }

    func testSetuidBitsAreDropped() throws {
        let path = try archive(["m('tool', b'x', mode=0o4755)", "m('dir', type=tarfile.DIRTYPE, mode=0o2775)"])
        try TarExtractor.extract(archivePath: path, to: scratch.at("target"))
        XCTAssertEqual(lstatOrNil(scratch.at("target/tool"))!.st_mode & 0o7777, 0o755)
        XCTAssertEqual(lstatOrNil(scratch.at("target/dir"))!.st_mode & 0o7777, 0o775)
    }

    func testReplaceTargetRemovesOldContentAndMergeKeepsIt() throws {
        try writeFile(scratch.at("target/old"), "old")
        let path = try archive(["m('new', b'new')"])
        try TarExtractor.extract(archivePath: path, to: scratch.at("target"), options: ExtractOptions(replaceTarget: false))
        XCTAssertEqual(try tree(scratch.at("target")), ["f new", "f old"])
        try TarExtractor.extract(archivePath: path, to: scratch.at("target"))
        XCTAssertEqual(try tree(scratch.at("target")), ["f new"])
    }

    func testDotSlashMemberFollowedByOthersIsADirectory() throws {
        let path = try archive(["m('./first', b'1')", "m('./second', b'2')"])
        let result = try TarExtractor.extract(archivePath: path, to: scratch.at("target"))
        XCTAssertFalse(result.restoredSingleFile)
        XCTAssertEqual(result.memberCount, 2)
        XCTAssertEqual(try tree(scratch.at("target")), ["f first", "f second"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted(), ["hostile.tar", "outside", "target"])
    }

    func testSingleFileReplacesAnExistingDirectoryAtTheTarget() throws {
        try writeFile(scratch.at("target/stale"), "stale")
        let path = try archive(["m('./output', b'fresh')"])
        XCTAssertTrue(try TarExtractor.extract(archivePath: path, to: scratch.at("target")).restoredSingleFile)
        XCTAssertEqual(try readText(scratch.at("target")), "fresh")
    }

    func testPlainNameSingleMemberStaysInADirectory() throws {
        let path = try archive(["m('output', b'x')"])
        XCTAssertFalse(try TarExtractor.extract(archivePath: path, to: scratch.at("target")).restoredSingleFile)
        XCTAssertEqual(try readText(scratch.at("target/output")), "x")
    }
}
