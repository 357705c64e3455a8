#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import XCTest
@testable import StudioStorage

final class TarReaderTests: XCTestCase {
    private var scratch: Scratch!

    override func setUpWithError() throws { scratch = try Scratch() }
    override func tearDown() { scratch.remove() }

    static func memberNames(_ archive: String) throws -> [String] {
        let reader = try TarReader(path: archive)
        var names: [String] = []
        while let entry = try reader.next() { names.append(entry.path) }
        return names
    }

    static func entries(_ archive: String) throws -> [(entry: TarEntry, content: [UInt8])] {
        let reader = try TarReader(path: archive)
        var result: [(TarEntry, [UInt8])] = []
        while let entry = try reader.next() { result.append((entry, try reader.readContents())) }
        return result
    }

    /// Makes an archive with Python's tarfile in the given format with the tricky members every format must carry.
    private func pythonArchive(format: String) throws -> String {
        let archive = scratch.at("\(format).tar")
        try python("""
            import tarfile, io
            def add(t, name, data=None, **kw):
                info = tarfile.TarInfo(name)
                for k, v in kw.items(): setattr(info, k, v)
                if data is not None:
                    info.size = len(data)
                    t.addfile(info, io.BytesIO(data))
                else:
                    t.addfile(info)
            with tarfile.open('\(archive)', 'w', format=tarfile.\(format)) as t:
                add(t, 'dir', type=tarfile.DIRTYPE, mode=0o755, mtime=1600000000)
                add(t, 'dir/file.txt', b'hello', mode=0o640, mtime=1600000001)
                add(t, 'dir/' + 'd' * 60 + '/' + 'n' * 90 + '.txt', b'long', mtime=1600000002)
                add(t, 'link', type=tarfile.SYMTYPE, linkname='dir/file.txt', mtime=1600000003)
                add(t, 'hard', type=tarfile.LNKTYPE, linkname='dir/file.txt', mtime=1600000004)
                add(t, 'big-uid', b'x', uid=\(format == "GNU_FORMAT" ? "8**8 + 5" : "1000"), mtime=1600000005)
            """)
        return archive
    }

    func testReadsPythonPaxGnuAndUstarArchives() throws {
        for format in ["PAX_FORMAT", "GNU_FORMAT", "USTAR_FORMAT"] {
            let entries = try Self.entries(try pythonArchive(format: format))
            let longPath = "dir/" + String(repeating: "d", count: 60) + "/" + String(repeating: "n", count: 90) + ".txt"
            XCTAssertEqual(entries.map(\.entry.path), ["dir/", "dir/file.txt", longPath, "link", "hard", "big-uid"], format)
            XCTAssertEqual(entries[0].entry.kind, .directory, format)
            XCTAssertEqual(entries[1].content, Array("hello".utf8), format)
            XCTAssertEqual(entries[1].entry.mode, 0o640, format)
            XCTAssertEqual(entries[1].entry.mtime, 1_600_000_001, format)
            XCTAssertEqual(entries[2].content, Array("long".utf8), format)
            XCTAssertEqual(entries[3].entry.kind, .symlink, format)
            XCTAssertEqual(entries[3].entry.linkTarget, "dir/file.txt", format)
            XCTAssertEqual(entries[4].entry.kind, .hardLink, format)
            XCTAssertEqual(entries[5].entry.uid, format == "GNU_FORMAT" ? (1 << 24) + 5 : 1000, format)
            XCTAssertEqual(entries[5].content, Array("x".utf8), format)
        }
    }

    func testReadsPaxFloatMtimeUnicodeAndGlobalHeaders() throws {
        let archive = scratch.at("pax.tar")
        try python("""
            import tarfile, io
            with tarfile.open('\(archive)', 'w', format=tarfile.PAX_FORMAT, pax_headers={'comment': 'global'}) as t:
                info = tarfile.TarInfo('ünï/名前.txt'); info.size = 3; info.mtime = 1600000000.75
                info.uname = 'üser'
                t.addfile(info, io.BytesIO(b'abc'))
            """)
        let entries = try Self.entries(archive)
        XCTAssertEqual(entries.count, 1)
        XCTAssertEqual(entries[0].entry.path, "ünï/名前.txt")
        XCTAssertEqual(entries[0].entry.mtime, 1_600_000_000.75)
        XCTAssertEqual(entries[0].entry.uname, "üser")
        XCTAssertEqual(entries[0].content, Array("abc".utf8))
    }

    func testReadsGnuTarArchivesWithLongNames() throws {
        let source = scratch.at("src")
        let deep = "a/" + String(repeating: "b", count: 110) + "/" + String(repeating: "c", count: 120)
        try writeFile("\(source)/\(deep)", "deep")
        try writeFile("\(source)/top", "top")
        XCTAssertEqual(symlink(String(repeating: "t", count: 150), "\(source)/longlink"), 0)
        for format in ["gnu", "posix"] {
            let archive = scratch.at("gnu-\(format).tar")
            let made = try runProcess(["tar", "--format=\(format)", "-C", source, "-cf", archive, "."])
            XCTAssertEqual(made.status, 0, made.output)
            let entries = try Self.entries(archive)
            XCTAssertEqual(entries.first { $0.entry.path == "./\(deep)" }?.content, Array("deep".utf8), format)
            XCTAssertEqual(entries.first { $0.entry.path == "./longlink" }?.entry.linkTarget, String(repeating: "t", count: 150), format)
            let target = scratch.at("out-\(format)")
            try TarExtractor.extract(archivePath: archive, to: target)
            XCTAssertEqual(try readText("\(target)/\(deep)"), "deep", format)
        }
    }

    func testReadsGzipCompressedArchivesMadeByGnuTar() throws {
        let source = scratch.at("src")
        try writeBytes("\(source)/data.bin", patternBytes(3 << 20))
        let archive = scratch.at("made.tgz")
        XCTAssertEqual(try runProcess(["tar", "-C", source, "-czf", archive, "data.bin"]).status, 0)
        let entries = try Self.entries(archive)
        XCTAssertEqual(entries.map(\.entry.path), ["data.bin"])
        XCTAssertEqual(entries[0].content, patternBytes(3 << 20))
    }

    func testTruncatedArchivesAreReportedNotSilentlyAccepted() throws {
        let archive = scratch.at("full.tar")
        try python("""
            import tarfile, io
            with tarfile.open('\(archive)', 'w') as t:
                for i in range(3):
                    info = tarfile.TarInfo('f%d' % i); info.size = 2000
                    t.addfile(info, io.BytesIO(b'x' * 2000))
            """)
        let bytes = try readBytes(archive)
        // Cut inside a member's content, inside a header, and at a member boundary without the end marker.
        for cut in [1500, 2048 + 700, 2048 + 2560] {
            let truncated = scratch.at("cut-\(cut).tar")
            try writeBytes(truncated, Array(bytes[0..<cut]))
            XCTAssertThrowsError(try Self.entries(truncated), "cut at \(cut)") { error in
                XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
            }
            XCTAssertThrowsError(try TarExtractor.extract(archivePath: truncated, to: scratch.at("t-\(cut)")))
        }
        let gz = scratch.at("full.tar.gz")
        XCTAssertEqual(try runProcess(["gzip", "-k", archive]).status, 0)
        let gzBytes = try readBytes(gz)
        try writeBytes(gz, Array(gzBytes[0..<(gzBytes.count / 2)]))
        XCTAssertThrowsError(try Self.entries(gz)) { error in XCTAssertTrue("\(error)".contains("truncated"), "\(error)") }
    }

    func testBadChecksumIsReportedAsCorrupt() throws {
        let archive = scratch.at("a.tar")
        try python("""
            import tarfile, io
            with tarfile.open('\(archive)', 'w') as t:
                info = tarfile.TarInfo('f'); info.size = 1
                t.addfile(info, io.BytesIO(b'x'))
            """)
        var bytes = try readBytes(archive)
        // An integer mtime and a short name need no PAX record: byte 0 is the member's name.
        bytes[0] ^= 0x20
        try writeBytes(archive, bytes)
        XCTAssertThrowsError(try Self.entries(archive)) { error in
            XCTAssertTrue("\(error)".contains("bad checksum"), "\(error)")
        }
        try writeBytes(scratch.at("empty.tar"), [])
        XCTAssertThrowsError(try Self.entries(scratch.at("empty.tar"))) { error in
            XCTAssertTrue("\(error)".contains("empty"), "\(error)")
        }
        try writeBytes(scratch.at("text.tar"), Array(String(repeating: "not a tar file\n", count: 100).utf8))
        XCTAssertThrowsError(try Self.entries(scratch.at("text.tar")))
    }

    func testReadsArchiveFromAPipe() throws {
        let archive = try pythonArchive(format: "PAX_FORMAT")
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let bytes = try readBytes(archive)
        // 10 KiB fits in the pipe's buffer, so one thread can write it all and then read.
        XCTAssertLessThan(bytes.count, 65536)
        XCTAssertEqual(bytes.withUnsafeBytes { write(fds[1], $0.baseAddress!, $0.count) }, bytes.count)
        close(fds[1])
        let reader = try TarReader(fileDescriptor: fds[0])
        var names: [String] = []
        while let entry = try reader.next() { names.append(entry.path) }
        close(fds[0])
        XCTAssertEqual(names.count, 6)
    }
}
