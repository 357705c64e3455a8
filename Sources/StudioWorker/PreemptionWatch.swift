#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioHTTP
import Synchronization

/// Why and how soon this machine goes away.
struct PreemptionNotice: Sendable, Equatable {
    /// `gce`, `ec2-spot` or the signal's name (`SIGTERM`).
    var source: String
    /// How long the notice leaves (30 s on GCE, 2 min on EC2 spot).
    var budget: Duration
    var receivedAt = ContinuousClock.now

    /// What is left of the budget now.
    var remaining: Duration { max(.zero, budget - (ContinuousClock.now - receivedAt)) }
}

/// The first preemption notice of the worker's life; the experiments read it when they stop.
final class Preemption: Sendable {
    private let state = Mutex<PreemptionNotice?>(nil)

    var notice: PreemptionNotice? { state.withLock { $0 } }

    /// Keeps `notice` unless one came first; whether it was the first.
    @discardableResult
    func record(_ notice: PreemptionNotice) -> Bool {
        state.withLock { current in
            guard current == nil else { return false }
            current = notice
            return true
        }
    }
}

/// Watches the cloud's preemption notices: GCE's metadata `instance/preempted` (a hanging GET with
/// `wait_for_change=true`), and EC2 spot's `spot/instance-action` through IMDSv2 (polled every 5 s,
/// as AWS advises). Off the cloud each watcher costs one failed probe (a 1 s timeout), then nothing.
enum PreemptionWatch {
    /// Starts both watchers; `onNotice` is called once, for the first notice.
    static func start(environment: [String: String], log: WorkerLog, onNotice: @escaping @Sendable (PreemptionNotice) -> Void) -> Task<Void, Never> {
        Task {
            await withTaskGroup(of: PreemptionNotice?.self) { group in
                group.addTask { await watchGCE(environment: environment, log: log) }
                if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() != "true" {
                    group.addTask { await watchEC2(environment: environment, log: log) }
                }
                for await notice in group {
                    guard let notice else { continue }
                    onNotice(notice)
                    group.cancelAll()
                    return
                }
            }
        }
    }

    // MARK: GCE

    static func gceURL(environment: [String: String], waiting: Bool) -> String {
        let host = environment["GCE_METADATA_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "169.254.169.254"
        return "http://\(host)/computeMetadata/v1/instance/preempted" + (waiting ? "?wait_for_change=true&timeout_sec=300" : "")
    }

    /// Returns a notice once the metadata says `TRUE`; nil when there is no metadata server.
    static func watchGCE(environment: [String: String], log: WorkerLog) async -> PreemptionNotice? {
        let headers = [(name: "Metadata-Flavor", value: "Google")]
        var waiting = false
        var failures = 0
        while !Task.isCancelled {
            let spec = HTTPRequestSpec(method: "GET", url: gceURL(environment: environment, waiting: waiting), headers: headers)
            do {
                let reply = try await HTTPTransport.shared.send(spec, timeout: waiting ? .seconds(330) : .seconds(1), maxBodyBytes: 1024)
                guard reply.isSuccess, reply.header("Metadata-Flavor") == "Google" || waiting else {
                    if !waiting { return nil } // something answers, but not GCE's metadata server
                    throw HTTPTransportError("HTTP \(reply.status)")
                }
                failures = 0
                if reply.bodyText.spacesTrimmed.uppercased() == "TRUE" { return PreemptionNotice(source: "gce", budget: .seconds(30)) }
                if !waiting { log.info("watching GCE's preemption notice") }
                waiting = true
            } catch {
                if !waiting || Task.isCancelled { return nil } // off GCE: one failed probe, then silence
                failures += 1
                log.debug("GCE preemption watch: \(error)")
                await CancellableSleep.sleep(for: .seconds(min(30, 1 << min(failures, 5))))
            }
        }
        return nil
    }

    // MARK: EC2 spot

    static func ec2Base(environment: [String: String]) -> String {
        var base = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://169.254.169.254"
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    /// Returns a notice once `spot/instance-action` exists (200); nil when there is no IMDS.
    static func watchEC2(environment: [String: String], log: WorkerLog) async -> PreemptionNotice? {
        let base = ec2Base(environment: environment)
        var token: (value: String, until: ContinuousClock.Instant)?
        var probed = false
        while !Task.isCancelled {
            do {
                if token == nil || token!.until < ContinuousClock.now {
                    let spec = HTTPRequestSpec(method: "PUT", url: base + "/latest/api/token",
                                               headers: [(name: "X-aws-ec2-metadata-token-ttl-seconds", value: "21600")])
                    let reply = try await HTTPTransport.shared.send(spec, timeout: .seconds(1), maxBodyBytes: 4096)
                    guard reply.isSuccess, !reply.bodyText.isEmpty else { throw HTTPTransportError("IMDSv2 token: HTTP \(reply.status)") }
                    token = (reply.bodyText, ContinuousClock.now + .seconds(21_000))
                }
                let spec = HTTPRequestSpec(method: "GET", url: base + "/latest/meta-data/spot/instance-action",
                                           headers: [(name: "X-aws-ec2-metadata-token", value: token!.value)])
                let reply = try await HTTPTransport.shared.send(spec, timeout: .seconds(2), maxBodyBytes: 4096)
                if reply.status == 401 { token = nil; continue }
                if reply.isSuccess, reply.bodyText.contains("\"action\"") { return PreemptionNotice(source: "ec2-spot", budget: .seconds(120)) }
                if !probed { log.info("watching EC2's spot interruption notice") }
                probed = true
            } catch {
                if !probed || Task.isCancelled { return nil } // off EC2: one failed probe, then silence
                log.debug("EC2 spot watch: \(error)")
            }
            await CancellableSleep.sleep(for: .seconds(5))
        }
        return nil
    }
}
