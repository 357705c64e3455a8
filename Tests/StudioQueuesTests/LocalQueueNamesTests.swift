@testable import StudioQueues
import XCTest

final class LocalQueueNamesTests: XCTestCase {
    func testSentNamesSortInSendOrder() {
        let early = LocalQueueFileName.sentName(nanoseconds: 999, random: 0xffff_ffff)
        let late = LocalQueueFileName.sentName(nanoseconds: 1_000, random: 0)
        XCTAssertEqual(early, "00000000000000000999-ffffffff.json")
        XCTAssertTrue(early.utf8.lexicographicallyPrecedes(late.utf8))
        XCTAssertTrue(LocalQueueFileName.isSentName(early))
        XCTAssertFalse(LocalQueueFileName.isSentName("job.json"))
        XCTAssertFalse(LocalQueueFileName.isSentName("00000000000000000999-fffffffg.json"))
    }

    func testReadyNamesRoundTrip() {
        XCTAssertEqual(LocalQueueFileName.parseReady("job.json").stem, "job")
        XCTAssertEqual(LocalQueueFileName.parseReady("job.json").previousDeliveries, 0)
        let again = LocalQueueFileName.readyName(stem: "a.b#c", deliveries: 7, tag: "0123456789ab")
        XCTAssertEqual(again, "a.b#c#7-0123456789ab.json")
        XCTAssertEqual(LocalQueueFileName.parseReady(again).stem, "a.b#c")
        XCTAssertEqual(LocalQueueFileName.parseReady(again).previousDeliveries, 7)
        // Names that only look similar keep their whole stem.
        XCTAssertEqual(LocalQueueFileName.parseReady("issue#12.json").stem, "issue#12")
        XCTAssertEqual(LocalQueueFileName.parseReady("#3-ab.json").stem, "#3-ab")
    }

    func testLeasedNamesRoundTrip() throws {
        let receipt = LocalQueueFileName.newReceipt()
        XCTAssertTrue(LocalQueueFileName.isReceipt(receipt))
        XCTAssertNotEqual(receipt, LocalQueueFileName.newReceipt())
        let name = LocalQueueFileName.leasedName(receipt: receipt, deadlineMilliseconds: 1_700_000_000_123,
                                                 attempt: 2, stem: "job.v2")
        let parsed = try XCTUnwrap(LocalQueueFileName.parseLeased(name))
        XCTAssertEqual(parsed, LeasedFile(name: name, receipt: receipt, deadlineMilliseconds: 1_700_000_000_123,
                                          attempt: 2, stem: "job.v2"))
        XCTAssertNil(LocalQueueFileName.parseLeased("notes.txt"))
        XCTAssertNil(LocalQueueFileName.parseLeased("short.1.1.job.json"))
        XCTAssertNil(LocalQueueFileName.parseLeased(receipt + ".soon.1.job.json"))
        XCTAssertNil(LocalQueueFileName.parseLeased(receipt + ".1.0.job.json"))
    }

    func testReadyCandidates() {
        XCTAssertTrue(LocalQueueFileName.isReadyCandidate("job.json"))
        XCTAssertFalse(LocalQueueFileName.isReadyCandidate(".job.json"))
        XCTAssertFalse(LocalQueueFileName.isReadyCandidate("job.json.tmp"))
        XCTAssertFalse(LocalQueueFileName.isReadyCandidate(".json"))
    }

    func testLongStemsAreBounded() {
        let long = String(repeating: "é", count: 200)
        let bounded = LocalQueueFileName.boundedStem(long)
        XCTAssertLessThanOrEqual(bounded.utf8.count, LocalQueueFileName.maximumStemBytes)
        XCTAssertTrue(long.hasPrefix(bounded))
        XCTAssertEqual(LocalQueueFileName.boundedStem("short"), "short")
    }
}
