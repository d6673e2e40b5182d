import Foundation
import Testing
import TestSupport
@testable import RedisQueue

@Suite struct TokenBucketTests {
    @Test func burstThenRateSharedByEveryClient() async throws {
        let key = TestRedis.unique("rate")
        let a = TokenBucket(client: try TestRedis.client(), key: key, rate: 10, burst: 5)
        let b = TokenBucket(client: try TestRedis.client(), key: key, rate: 10, burst: 5)
        let t0 = Date(timeIntervalSince1970: 1_796_000_000)
        #expect(try await a.take(3, now: t0) == 3)
        #expect(try await b.take(3, now: t0) == 2)     // the same bucket: only 5 in all
        #expect(try await a.take(1, now: t0) == 0)
        #expect(try await b.take(5, now: t0.addingTimeInterval(0.35)) == 3)  // 10/s for 0.35 s
        #expect(try await a.take(100, now: t0.addingTimeInterval(10)) == 5)  // never more than the burst
        #expect(a.wait(for: 5) == 0.5)
    }
}
