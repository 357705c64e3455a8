import XCTest
@testable import StudioWorker

/// The preemption watchers off the cloud (one failed probe, then nothing) and the notice's bookkeeping.
final class ResourcePreemptionTests: XCTestCase {
    private let log = WorkerLog(format: .text, level: .error)

    func testOffTheCloudEachWatcherGivesUpAfterOneProbe() async {
        let began = ContinuousClock.now
        let gce = await PreemptionWatch.watchGCE(environment: ["GCE_METADATA_HOST": "127.0.0.1:9"], log: log)
        let ec2 = await PreemptionWatch.watchEC2(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9/"], log: log)
        XCTAssertNil(gce)
        XCTAssertNil(ec2)
        XCTAssertLessThan(ContinuousClock.now - began, .seconds(5), "a refused probe must end the watch at once")
    }

    func testEndpointsHonourTheEnvironment() {
        XCTAssertEqual(PreemptionWatch.gceURL(environment: ["GCE_METADATA_HOST": "10.0.0.1:8080"], waiting: true),
                       "http://10.0.0.1:8080/computeMetadata/v1/instance/preempted?wait_for_change=true&timeout_sec=300")
        XCTAssertEqual(PreemptionWatch.gceURL(environment: [:], waiting: false), "http://169.254.169.254/computeMetadata/v1/instance/preempted")
        XCTAssertEqual(PreemptionWatch.ec2Base(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://[fd00:ec2::254]//"]), "http://[fd00:ec2::254]")
        XCTAssertEqual(PreemptionWatch.ec2Base(environment: [:]), "http://169.254.169.254")
    }

    func testTheFirstNoticeWins() {
        let preemption = Preemption()
        XCTAssertNil(preemption.notice)
        XCTAssertTrue(preemption.record(PreemptionNotice(source: "gce", budget: .seconds(30))))
        XCTAssertFalse(preemption.record(PreemptionNotice(source: "SIGTERM", budget: .seconds(30))))
        XCTAssertEqual(preemption.notice?.source, "gce")
        let old = PreemptionNotice(source: "ec2-spot", budget: .seconds(120), receivedAt: .now - .seconds(200))
        XCTAssertEqual(old.remaining, .zero)
        XCTAssertLessThanOrEqual(preemption.notice!.remaining, .seconds(30))
    }
}
