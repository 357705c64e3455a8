#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import XCTest
@testable import StudioStorage

final class TarWriterTests: XCTestCase {
    private var scratch: Scratch!

    override func setUpWithError() throws { scratch = try Scratch() }
    override func tearDown() { scratch.remove() }

    static let longName = String(repeating: "l", count: 120) + ".txt"

    /// A workspace with everything the round trip must keep.
    private func makeWorkspace(_ root: String) throws {
        try writeFile("\(root)/a.txt", "hello\n")
        try writeFile("\(root)/empty", "")
        try writeBytes("\(root)/nested/deeper/big.bin", patternBytes(5 << 20))
        try writeFile("\(root)/nested/\(Self.longName)", "long name")
        try writeFile("\(root)/ünïcødé/名前.txt", "unicode")
        try writeFile("\(root)/run.sh", "#!/bin/sh\necho hi\n")
        XCTAssertEqual(chmod("\(root)/run.sh", 0o755), 0)
        XCTAssertEqual(mkdir("\(root)/emptydir", 0o750), 0)
        XCTAssertEqual(symlink("a.txt", "\(root)/link"), 0)
        XCTAssertEqual(symlink("../a.txt", "\(root)/nested/up"), 0)
        // A fractional mtime needs a PAX record.
        var times = [timespec(tv_sec: 1_700_000_000, tv_nsec: 250_000_000), timespec(tv_sec: 1_700_000_000, tv_nsec: 250_000_000)]
        XCTAssertEqual(utimensat(AT_FDCWD, "\(root)/a.txt", &times, 0), 0)
    }

    func testDirectoryRoundTripKeepsTreeContentsModesAndTimes() throws {
        let source = scratch.at("src"), archive = scratch.at("out.tar"), target = scratch.at("dst")
        try makeWorkspace(source)
        let digest = try TarWriter.packDirectory(source, to: archive)
        let result = try TarExtractor.extract(archivePath: archive, to: target)

        XCTAssertFalse(result.restoredSingleFile)
        XCTAssertEqual(try tree(target), try tree(source))
        for file in ["a.txt", "empty", "nested/deeper/big.bin", "nested/\(Self.longName)", "ünïcødé/名前.txt", "run.sh"] {
            XCTAssertEqual(try readBytes("\(target)/\(file)"), try readBytes("\(source)/\(file)"), file)
        }
        XCTAssertEqual(lstatOrNil("\(target)/run.sh")!.st_mode & 0o7777, 0o755)
        XCTAssertEqual(lstatOrNil("\(target)/emptydir")!.st_mode & 0o7777, 0o750)
        let restored = lstatOrNil("\(target)/a.txt")!.st_mtim
        XCTAssertEqual(restored.tv_sec, 1_700_000_000)
        XCTAssertEqual(Double(restored.tv_nsec), 250_000_000, accuracy: 1000)
        XCTAssertEqual(symlinkTarget("\(target)/nested/up"), "../a.txt")

        // The digest is the SHA-256 of exactly the bytes on disk, and the size is a multiple of 10240.
        let bytes = try readBytes(archive)
        XCTAssertEqual(digest.byteCount, Int64(bytes.count))
        XCTAssertEqual(bytes.count % 10240, 0)
        let sha = try runProcess(["sha256sum", archive]).output.prefix(64)
        XCTAssertEqual(digest.sha256, String(sha))
    }

    func testPythonTarfileReadsWhatWeWriteWithIdenticalNamesAndContents() throws {
        let source = scratch.at("src"), archive = scratch.at("out.tar")
        try makeWorkspace(source)
        try TarWriter.packDirectory(source, to: archive)
        let listing = try python("""
            import tarfile, hashlib, json, sys
            out = []
            with tarfile.open(sys.argv[1] if len(sys.argv) > 1 else '\(archive)') as t:
                for m in t.getmembers():
                    data = t.extractfile(m).read() if m.isreg() else b''
                    out.append([m.name, m.type.decode(), m.linkname, hashlib.sha256(data).hexdigest(), m.mode, m.mtime])
            print(json.dumps(out))
            """)
        let members = try JSONSerializationFree.decode(listing)
        let names = members.map { $0.name }
        // StudioML naming: children relative to the directory, no "./", no entry for the directory itself.
        XCTAssertEqual(names, ["a.txt", "empty", "emptydir", "link", "nested", "nested/deeper", "nested/deeper/big.bin",
                               "nested/\(Self.longName)", "nested/up", "run.sh", "ünïcødé", "ünïcødé/名前.txt"])
        for member in members where member.type == "0" {
            let expected = try runProcess(["sha256sum", "\(source)/\(member.name)"]).output.prefix(64)
            XCTAssertEqual(member.sha256, String(expected), member.name)
        }
        XCTAssertEqual(members.first { $0.name == "link" }?.linkname, "a.txt")
        XCTAssertEqual(members.first { $0.name == "link" }?.type, "2")
        XCTAssertEqual(members.first { $0.name == "nested" }?.type, "5")
        XCTAssertEqual(members.first { $0.name == "a.txt" }?.mtime ?? 0, 1_700_000_000.25, accuracy: 1e-6)
        XCTAssertEqual(members.first { $0.name == "run.sh" }?.mode, 0o755)
    }

    func testGnuTarExtractsWhatWeWriteIdentically() throws {
        let source = scratch.at("src"), archive = scratch.at("out.tar"), target = scratch.at("gnu")
        try makeWorkspace(source)
        try TarWriter.packDirectory(source, to: archive)
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let extracted = try runProcess(["tar", "-xf", archive, "-C", target])
        XCTAssertEqual(extracted.status, 0, extracted.output)
        let diff = try runProcess(["diff", "-r", "--no-dereference", source, target])
        XCTAssertEqual(diff.status, 0, diff.output)
    }

    func testPaxHeaderLayoutMatchesPythonTarfile() throws {
        let archive = scratch.at("one.tar")
        let fd = open(archive, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let writer = try TarWriter(fileDescriptor: fd)
        try writer.addFile(name: Array("x.txt".utf8), bytes: Array("abc".utf8), mode: 0o644, mtime: TarTime(seconds: 1_600_000_000, nanoseconds: 500_000_000))
        _ = try writer.finish()
        close(fd)
        let bytes = try readBytes(archive)
        XCTAssertEqual(Array(bytes[0..<14]), Array("././@PaxHeader".utf8))
        XCTAssertEqual(bytes[156], UInt8(ascii: "x"))
        XCTAssertEqual(String(decoding: bytes[512..<(512 + 22)], as: UTF8.self), "22 mtime=1600000000.5\n")
        XCTAssertEqual(Array(bytes[1024..<1029]), Array("x.txt".utf8))
        XCTAssertEqual(Array(bytes[(1024 + 257)..<(1024 + 265)]), Array("ustar\u{0}00".utf8))
        XCTAssertEqual(bytes.count, 10240)
        // A whole-second mtime and a short ASCII name need no PAX record.
        let plain = scratch.at("plain.tar")
        let fd2 = open(plain, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let writer2 = try TarWriter(fileDescriptor: fd2)
        try writer2.addFile(name: Array("x.txt".utf8), bytes: Array("abc".utf8), mtime: TarTime(seconds: 1_600_000_000))
        _ = try writer2.finish()
        close(fd2)
        XCTAssertEqual(Array(try readBytes(plain)[0..<5]), Array("x.txt".utf8))
    }

    func testSingleFileArtifactIsOneDotSlashMemberRestoredAsAFile() throws {
        let file = scratch.at("output"), archive = scratch.at("output.tar"), target = scratch.at("restored/output")
        try writeFile(file, "log line\n")
        try TarWriter.pack(file, to: archive)
        let names = try python("import tarfile; print(tarfile.open('\(archive)').getnames())")
        XCTAssertEqual(names, "['./output']\n")
        let result = try TarExtractor.extract(archivePath: archive, to: target)
        XCTAssertTrue(result.restoredSingleFile)
        XCTAssertEqual(try readText(target), "log line\n")
        XCTAssertTrue(Posix.isRegular(lstatOrNil(target)!.st_mode))
    }

    func testGzipRoundTripAndPythonReadsIt() throws {
        let source = scratch.at("src"), archive = scratch.at("out.tar.gz"), target = scratch.at("dst")
        try makeWorkspace(source)
        let digest = try TarWriter.packDirectory(source, to: archive, compression: try TarCompression(configValue: "gzip"))
        let bytes = try readBytes(archive)
        XCTAssertEqual(Array(bytes[0..<2]), [0x1f, 0x8b])
        XCTAssertEqual(digest.byteCount, Int64(bytes.count))
        XCTAssertEqual(digest.sha256, String(try runProcess(["sha256sum", archive]).output.prefix(64)))
        try TarExtractor.extract(archivePath: archive, to: target)
        XCTAssertEqual(try tree(target), try tree(source))
        XCTAssertEqual(try readBytes("\(target)/nested/deeper/big.bin"), try readBytes("\(source)/nested/deeper/big.bin"))
        XCTAssertEqual(try python("import tarfile; print(len(tarfile.open('\(archive)', 'r:gz').getnames()))"), "12\n")
    }

    func testWriteErrorsAreReported() throws {
        let source = scratch.at("src")
        try writeBytes("\(source)/big.bin", patternBytes(6 << 20))
        let full = open("/dev/full", O_WRONLY)
        XCTAssertGreaterThanOrEqual(full, 0)
        defer { close(full) }
        XCTAssertThrowsError(try TarWriter.packDirectory(source, toFileDescriptor: full)) { error in
            XCTAssertTrue("\(error)".contains("No space left"), "\(error)")
        }
    }

    func testCompressionSettingParsing() throws {
        XCTAssertEqual(try TarCompression(configValue: nil), .none)
        XCTAssertEqual(try TarCompression(configValue: "gz"), .gzip(level: 6))
        XCTAssertEqual(try TarCompression(configValue: "gzip").fileExtension, ".tar.gz")
        XCTAssertThrowsError(try TarCompression(configValue: "bz2")) { error in
            XCTAssertTrue("\(error)".contains("'bz2' is not supported"), "\(error)")
        }
    }

    func testHardLinkedFilesAreStoredAsHardLinks() throws {
        let source = scratch.at("src"), archive = scratch.at("out.tar"), target = scratch.at("dst")
        try writeFile("\(source)/one", "same inode")
        XCTAssertEqual(link("\(source)/one", "\(source)/two"), 0)
        try TarWriter.packDirectory(source, to: archive)
        XCTAssertEqual(try python("import tarfile; print([m.type for m in tarfile.open('\(archive)')])"), "[b'0', b'1']\n")
        try TarExtractor.extract(archivePath: archive, to: target)
        XCTAssertEqual(lstatOrNil("\(target)/one")!.st_ino, lstatOrNil("\(target)/two")!.st_ino)
        XCTAssertEqual(try readText("\(target)/two"), "same inode")
    }

    func testStudioIgnoreFileExcludesMatchingPaths() throws {
        let source = scratch.at("src"), archive = scratch.at("out.tar")
        try writeFile("\(source)/.studioml_ignore", "# comment\n\n*.pyc\ndata/\n/top.log\n!keep.pyc\n")
        for file in ["a.py", "a.pyc", "keep.pyc", "sub/b.pyc", "data/big", "sub/data/x", "top.log", "sub/top.log"] {
            try writeFile("\(source)/\(file)", file)
        }
        try TarWriter.packDirectory(source, to: archive)
        let names = try TarReaderTests.memberNames(archive)
        XCTAssertEqual(names, [".studioml_ignore", "a.py", "keep.pyc", "sub/", "sub/top.log"])
    }
}

/// Decodes the JSON listing the Python helper prints.
enum JSONSerializationFree {
    struct Member {
        var name: String, type: String, linkname: String, sha256: String, mode: Int, mtime: Double
    }

    static func decode(_ text: String) throws -> [Member] {
        let rows = try JSONDecoder().decode([[Field]].self, from: Data(text.utf8))
        return rows.map { row in
            Member(name: row[0].text, type: row[1].text, linkname: row[2].text, sha256: row[3].text,
                   mode: Int(row[4].number), mtime: row[5].number)
        }
    }

    enum Field: Decodable {
        case text(String), number(Double)
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Double.self) { self = .number(value) } else { self = .text(try container.decode(String.self)) }
        }
        var text: String { if case .text(let value) = self { return value }; return "" }
        var number: Double { if case .number(let value) = self { return value }; return 0 }
    }
}
