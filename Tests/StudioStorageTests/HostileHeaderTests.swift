#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import XCTest
@testable import StudioStorage

/// Archives with numeric header fields at extreme values (issue #11: "no trap on any input"). Each archive is
/// built byte by byte here, so the test states exactly what the worker receives; every one must end in a
/// thrown `TarError`, never a trap (which would kill the whole test process).
final class HostileHeaderTests: XCTestCase {
    private var scratch: Scratch!

    override func setUpWithError() throws { scratch = try Scratch() }
    override func tearDown() { scratch.remove() }

    // MARK: Building headers

    /// A ustar header block for a regular file `name` with a valid checksum; `fields` overwrite raw bytes
    /// at their offsets (size 124, mtime 136, mode 100, uid 108, typeflag 156) before the checksum is sealed.
    static func header(_ name: String, size: Int = 0, typeflag: UInt8 = UInt8(ascii: "0"), fields: [Int: [UInt8]] = [:]) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ offset: Int, _ bytes: [UInt8]) { for (index, byte) in bytes.enumerated() { block[offset + index] = byte } }
        put(0, Array(name.utf8))
        put(100, Array("0000644\0".utf8))
        put(108, Array("0000000\0".utf8))
        put(116, Array("0000000\0".utf8))
        put(124, Array((String(repeating: "0", count: 11 - String(size, radix: 8).count) + String(size, radix: 8) + "\0").utf8))
        put(136, Array("14707072000\0".utf8))
        block[156] = typeflag
        put(257, Array("ustar\0".utf8) + Array("00".utf8))
        for (offset, bytes) in fields { put(offset, bytes) }
        // The checksum counts its own field as spaces; six octal digits, NUL, space.
        put(148, Array(repeating: 0x20, count: 8))
        let sum = block.reduce(0) { $0 + Int($1) }
        let digits = String(sum, radix: 8)
        put(148, Array((String(repeating: "0", count: 6 - digits.count) + digits + "\0 ").utf8))
        return block
    }

    /// Content padded to whole blocks.
    static func padded(_ content: [UInt8]) -> [UInt8] {
        content + [UInt8](repeating: 0, count: (512 - content.count % 512) % 512)
    }

    /// A PAX `x` header carrying `records` ("key=value"), followed by the member it describes.
    static func pax(_ records: [String], member: [UInt8]) -> [UInt8] {
        var body: [UInt8] = []
        for record in records {
            // The length counts itself: try one more digit until it is stable.
            var length = record.utf8.count + 3
            while String(length).count + record.utf8.count + 2 != length { length += 1 }
            body += Array("\(length) \(record)\n".utf8)
        }
        return header("./PaxHeaders/x", size: body.count, typeflag: UInt8(ascii: "x")) + padded(body) + member
    }

    static let endMarker = [UInt8](repeating: 0, count: 1024)

    /// Base-256 field bytes: the leader then big-endian bytes, `width` in all.
    static func base256(_ leader: UInt8, _ bytes: [UInt8], width: Int = 12) -> [UInt8] {
        [leader] + [UInt8](repeating: leader == 0xff ? 0xff : 0, count: width - 1 - bytes.count) + bytes
    }

    // MARK: Asserting

    /// Reading every member (content included) must throw a TarError whose message contains `reason`.
    private func assertReadFails(_ archive: [UInt8], _ reason: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let path = scratch.at("hostile-\(line).tar")
        try writeBytes(path, archive)
        XCTAssertThrowsError(try Self.readAll(path), file: file, line: line) { error in
            XCTAssertTrue(error is TarError, "\(type(of: error)): \(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(reason), "\(error)", file: file, line: line)
        }
    }

    /// Extracting must throw a TarError whose message contains `reason`.
    private func assertExtractFails(_ archive: [UInt8], _ reason: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let path = scratch.at("hostile-\(line).tar")
        try writeBytes(path, archive)
        XCTAssertThrowsError(try TarExtractor.extract(archivePath: path, to: scratch.at("target-\(line)")), file: file, line: line) { error in
            XCTAssertTrue(error is TarError, "\(type(of: error)): \(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(reason), "\(error)", file: file, line: line)
        }
    }

    private static func readAll(_ path: String) throws {
        let reader = try TarReader(path: path)
        while try reader.next() != nil { _ = try reader.readContents() }
    }

    // MARK: ustar octal and GNU base-256 numbers

    func testLargestOctalSizeIsATruncatedArchiveNotATrap() throws {
        // 11 octal sevens: 8 GiB - 1 claimed, nothing there.
        try assertReadFails(Self.header("f", fields: [124: Array("77777777777\0".utf8)]) + Self.endMarker, "truncated")
        // 12 digits, no terminator: the field's full width.
        try assertReadFails(Self.header("f", fields: [124: Array("777777777777".utf8)]) + Self.endMarker, "truncated")
    }

    func testBase256SizeNearInt64MaxIsRefused() throws {
        // 2^63 - 1: rounding it up to whole blocks overflowed Int64 (a trap) before the size was checked.
        let size = Self.base256(0x80, [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        try assertReadFails(Self.header("f", fields: [124: size]) + Self.endMarker, "impossible size")
        // The same on a member whose content is skipped, not read.
        let path = scratch.at("skipped.tar")
        try writeBytes(path, Self.header("f", fields: [124: size]) + Self.endMarker)
        XCTAssertThrowsError(try TarReader(path: path).next())
    }

    func testBase256SizeBeyondInt64IsRefused() throws {
        // 0x80 leader with eleven 0xff bytes: 88 bits of value.
        try assertReadFails(Self.header("f", fields: [124: [0x80] + Array(repeating: 0xff, count: 11)]) + Self.endMarker, "out of range")
    }

    func testNegativeBase256SizeIsRefused() throws {
        try assertReadFails(Self.header("f", fields: [124: Self.base256(0xff, [0xfe])]) + Self.endMarker, "negative size")
        // All 0xff: -1.
        try assertReadFails(Self.header("f", fields: [124: Array(repeating: 0xff, count: 12)]) + Self.endMarker, "negative size")
    }

    func testNegativeBase256BeyondInt64IsRefusedNotWrapped() throws {
        // -2^87: shifting it into Int64 wrapped to a size of 0 (the member silently read as empty).
        try assertReadFails(Self.header("f", fields: [124: [0xff, 0x80] + Array(repeating: 0, count: 10)]) + Self.endMarker, "out of range")
    }

    func testClaimedSizeIsNotAllocatedUpFront() throws {
        // 2^62 bytes claimed, 5 present: readContents used to reserve the claimed size (an allocation failure).
        let size = Self.base256(0x80, [0x40, 0, 0, 0, 0, 0, 0, 0])
        try assertReadFails(Self.header("f", fields: [124: size]) + Self.padded(Array("hello".utf8)) + Self.endMarker, "truncated")
    }

    func testBase256MtimeNearInt64MaxIsRefusedOnExtraction() throws {
        // 2^63 - 1 seconds reads fine as a Double but converting it back to time_t trapped when extracting.
        let mtime = Self.base256(0x80, [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        try assertExtractFails(Self.header("f", fields: [136: mtime]) + Self.endMarker, "modification time")
        // Directories get their times at the end of the extraction, by another path.
        try assertExtractFails(Self.header("d/", typeflag: UInt8(ascii: "5"), fields: [136: mtime]) + Self.endMarker, "modification time")
    }

    func testFuzzCrashMutatedGnuTarWithBase256MtimeExtractsToAnError() throws {
        // Found by Fuzz/tar.swift on the old code (crash-17233fea…): GNU tar's seed mutated so that its fifth
        // header has an mtime of base-256 2^63 - 1, which the old time conversion for extraction trapped on.
        // Stored gzip-compressed (2578 bytes → 289), which the reader undoes itself.
        let archive = try XCTUnwrap(Data(base64Encoded: """
            H4sIAAAAAAACA0vRT9QrqShhoBQY4JMDAjMTEzANBMg0dvVmRuZm5gwKDO5+oXrFBYlFxal6uZl5+UUwBf+pB/C7GghMGQxNjQ1MzEyNjMyA\
            XjA0MDczZlAwoCSsGMNIU19aXJJYpKDAUJSfj4io0swUWzR1KPIDBxixiCmQAgyMDEyNDHDpESfBJBwu9CfHW3r6evoOPvl56T6ZedlkBk0O\
            UGtBYkkGLOaQ2QRzGFouYsCTeKMJmlaIDHBH4lzS/QgP/A8KZAIDIyNzQ0MG0jUiuaIBiOsJ5nHaxjb5YNDGnzkCKNAMGBiaG5sDC1kqBSb9\
            o5JztPBHgKlElf7I+dXA0MTExJSBUGmOy6j/hIp/eoGBLUPIBQC9HSuxEgoAAA==
            """))
        let path = scratch.at("fuzz-crash.tar.gz")
        try writeBytes(path, Array(archive))
        let reader = try TarReader(path: path)
        var times: [Double] = []
        // The mutation also cut the end-of-archive marker: the read ends in an error after five members.
        XCTAssertThrowsError(try {
            while let entry = try reader.next() {
                times.append(entry.mtime)
                if entry.mtime == 0 { continue }
                XCTAssertThrowsError(try Extraction.fileTime(entry.mtime, member: entry.pathBytes)) { error in
                    XCTAssertTrue("\(error)".contains("modification time"), "\(error)")
                }
            }
        }()) { error in XCTAssertTrue("\(error)".contains("truncated"), "\(error)") }
        XCTAssertEqual(times, [0, 0, 0, 0, 0x1p63])
        // Extracting it stops at the second member, whose name is empty.
        XCTAssertThrowsError(try TarExtractor.extract(archivePath: path, to: scratch.at("target"))) { error in
            XCTAssertTrue("\(error)".contains("empty name"), "\(error)")
        }
    }

    func testExtremeModeUidAndGidAreReadAsStored() throws {
        // Not errors: mode keeps its permission bits, ids are informational. What matters is no trap.
        let path = scratch.at("ids.tar")
        try writeBytes(path, Self.header("f", fields: [
            100: Self.base256(0xff, [0x00], width: 8), 108: [0x80] + Array(repeating: 0x7f, count: 7),
            116: Self.base256(0xff, [0x01], width: 8),
        ]) + Self.endMarker)
        let entry = try XCTUnwrap(try TarReader(path: path).next())
        XCTAssertEqual(entry.mode, 0o7400)
        XCTAssertEqual(entry.uid, 0x7f7f_7f7f_7f7f_7f)
        XCTAssertEqual(entry.gid, -255)
    }

    // MARK: PAX records

    func testPaxSizeOutOfRangeIsRefused() throws {
        let member = Self.header("f") + Self.endMarker
        try assertReadFails(Self.pax(["size=-1"], member: member), "not a non-negative integer")
        try assertReadFails(Self.pax(["size=1e400"], member: member), "not a non-negative integer")
        try assertReadFails(Self.pax(["size=99999999999999999999"], member: member), "not a non-negative integer")
        // Fits Int64, but padding it to whole blocks overflowed: a trap before this fix.
        try assertReadFails(Self.pax(["size=9223372036854775807"], member: member), "impossible size")
    }

    func testPaxMtimeThatIsNoTimeIsRefused() throws {
        let member = Self.header("f") + Self.endMarker
        try assertReadFails(Self.pax(["mtime=nan"], member: member), "not a number")
        try assertReadFails(Self.pax(["mtime=1e400"], member: member), "not a number")
        try assertReadFails(Self.pax(["mtime=-inf"], member: member), "not a number")
        // Finite but beyond time_t: reading accepted it and extraction trapped converting it.
        try assertReadFails(Self.pax(["mtime=1e300"], member: member), "out of range")
        try assertExtractFails(Self.pax(["mtime=-9.3e18"], member: member), "out of range")
    }

    func testPaxRecordLengthsAtExtremesAreRefused() throws {
        let member = Self.header("f") + Self.endMarker
        for body in ["99999999999999999999999 path=x\n", "0 path=x\n", "3 =\n", "12 path=x\n"] {
            let bytes = Array(body.utf8)
            try assertReadFails(Self.header("p", size: bytes.count, typeflag: UInt8(ascii: "x")) + Self.padded(bytes) + member, "PAX")
        }
    }

    // MARK: GNU sparse members

    func testGnuSparseWithHugeOffsetsIsRefused() throws {
        // Old-GNU sparse header: four (offset, numbytes) pairs at 386, real size at 483, all at their maximum.
        let huge = [0x80] + Array(repeating: 0xff, count: 11) as [UInt8]
        let sparse = Self.header("s", typeflag: UInt8(ascii: "S"), fields: [
            257: Array("ustar  \0".utf8), 386: huge, 398: huge, 483: huge,
        ])
        try assertReadFails(sparse + Self.endMarker, "sparse")
        try assertReadFails(Self.pax(["GNU.sparse.map=0,99999999999999999999,18446744073709551616,1", "GNU.sparse.realsize=1e400"],
                                     member: Self.header("s") + Self.endMarker), "sparse")
    }

    // MARK: gzip

    func testGzipWithGarbageAfterTheTrailerIsHandled() throws {
        let tar = Self.header("f", size: 5) + Self.padded(Array("hello".utf8)) + Self.endMarker
        // Garbage after a complete archive is never reached: the archive ends at its end marker.
        let complete = scratch.at("complete.tar.gz")
        try writeBytes(complete, try gzip(tar) + Array("\u{1f}garbage".utf8))
        XCTAssertNoThrow(try Self.readAll(complete))
        // Garbage where the archive goes on: looks like a second gzip member (0x1f) but is not one.
        try assertReadFails(try gzip(Array(tar[0..<1024])) + [0x1f, 0x8b, 0x08, 0xff] + Array("garbage".utf8), "gzip")
        try assertReadFails(try gzip(Array(tar[0..<1024])) + [0x1f] + Array(repeating: 0xff, count: 100), "gzip")
        // A gzip header whose trailer (CRC, length) is garbage.
        var broken = try gzip(tar)
        for index in (broken.count - 8)..<broken.count { broken[index] ^= 0x5a }
        try assertReadFails(broken, "gzip")
    }

    private func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let deflater = try Deflater(level: 6, bufferSize: 1 << 16)
        var out: [UInt8] = []
        try bytes.withUnsafeBytes { try deflater.deflate($0, finish: true) { out.append(contentsOf: $0) } }
        return out
    }
}
