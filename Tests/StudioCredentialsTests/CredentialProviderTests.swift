#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization
import XCTest
@testable import StudioCredentials

/// A provider that counts fetches, hands out credentials expiring at `expiry`, and can be told to fail.
final class CountingProvider: CredentialProvider, Sendable {
    let fetches = Atomic<Int>(0)
    let failing = Atomic<Bool>(false)
    let expiry: Date

    init(expiry: Date) { self.expiry = expiry }

    func fetchCredential() async throws -> AWSCredentials {
        let number = fetches.add(1, ordering: .sequentiallyConsistent).newValue
        for _ in 0..<10 { await Task.yield() } // give concurrent callers a chance to pile up
        if failing.load(ordering: .sequentiallyConsistent) {
            throw CredentialsError(.notFound, "endpoint unavailable")
        }
        return AWSCredentials(accessKeyId: "ASIA\(number)", secretAccessKey: "s", sessionToken: "t", expiration: expiry)
    }
}

final class TestClock: Sendable {
    let seconds = Atomic<Int>(0)
    var now: Date { Date(timeIntervalSince1970: Double(seconds.load(ordering: .sequentiallyConsistent))) }
    func set(_ value: Int) { seconds.store(value, ordering: .sequentiallyConsistent) }
}

final class CredentialProviderTests: XCTestCase {
    let expiry = 3600

    func makeCache() -> (CachingCredentialProvider<CountingProvider>, CountingProvider, TestClock) {
        let base = CountingProvider(expiry: Date(timeIntervalSince1970: Double(expiry)))
        let clock = TestClock()
        return (CachingCredentialProvider(base, now: { clock.now }), base, clock)
    }

    func testConcurrentCallersShareOneFetch() async throws {
        let (cache, base, _) = makeCache()
        let keys = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await cache.fetchCredential().accessKeyId } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        XCTAssertEqual(keys, ["ASIA1"])
        XCTAssertEqual(base.fetches.load(ordering: .sequentiallyConsistent), 1)
    }

    func testMandatoryWindowWaitsForANewCredential() async throws {
        let (cache, base, clock) = makeCache()
        _ = try await cache.fetchCredential()
        clock.set(expiry - 9 * 60)
        let fresh = try await cache.fetchCredential()
        XCTAssertEqual(fresh.accessKeyId, "ASIA2")
        XCTAssertEqual(base.fetches.load(ordering: .sequentiallyConsistent), 2)
    }

    func testAdvisoryWindowServesTheOldOneAndRefreshesInTheBackground() async throws {
        let (cache, base, clock) = makeCache()
        _ = try await cache.fetchCredential()
        clock.set(expiry - 14 * 60)
        let served = try await cache.fetchCredential()
        XCTAssertEqual(served.accessKeyId, "ASIA1", "no waiting in the advisory window")
        let deadline = Date().addingTimeInterval(5)
        while base.fetches.load(ordering: .sequentiallyConsistent) < 2, Date() < deadline { await Task.yield() }
        XCTAssertEqual(base.fetches.load(ordering: .sequentiallyConsistent), 2)
    }

    func testFailuresPropagateAndInvalidateForcesAFetch() async throws {
        let (cache, base, _) = makeCache()
        _ = try await cache.fetchCredential()
        await cache.invalidate()
        base.failing.store(true, ordering: .sequentiallyConsistent)
        do {
            _ = try await cache.fetchCredential()
            XCTFail("expected the fetch error")
        } catch {
            XCTAssertEqual((error as? CredentialsError)?.code, .notFound)
        }
        base.failing.store(false, ordering: .sequentiallyConsistent)
        let recovered = try await cache.fetchCredential()
        XCTAssertEqual(recovered.accessKeyId, "ASIA3")
    }

    func testStaticProvider() async throws {
        let credentials = AWSCredentials(accessKeyId: "AKID", secretAccessKey: "s")
        let fetched = try await StaticCredentialProvider(credentials).fetchCredential()
        XCTAssertEqual(fetched, credentials)
    }
}
