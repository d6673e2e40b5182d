import Foundation
import Testing
import TestSupport
@testable import RedisQueue
@testable import Worker

/// A provider's Retry-After, shared by the workers through Redis, only ever gets later: worker B's
/// 1 s Retry-After must not cut short the 60 s worker A was told.
@Suite struct SharedHoldTests {
    static func hold(_ redis: RedisClient, _ key: String) async throws -> (until: Int64?, ttl: Int64) {
        let value = try await redis.command(["GET", key]).string.flatMap { Int64($0) }
        let ttl = try await redis.command(["PTTL", key])
        guard case .integer(let milliseconds) = ttl else { throw RedisError(code: .protocolError, message: "PTTL: \(ttl)") }
        return (value, Int64(milliseconds))
    }

    @Test func aShorterRetryAfterDoesNotLowerALongerOne() async throws {
        let redis = try TestRedis.client()
        let breakers = SharedBreakers(client: redis, prefix: TestRedis.unique("holds") + ":")
        let key = breakers.holdKey("twilio-a")
        let now = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
        let long = now.addingTimeInterval(600)
        try await breakers.publishHolds([(name: "twilio-a", until: long)], now: now)
        // Worker B is told 1 s.
        try await breakers.publishHolds([(name: "twilio-a", until: now.addingTimeInterval(1))], now: now)
        let after = try await Self.hold(redis, key)
        #expect(after.until == Int64(long.timeIntervalSince1970 * 1000))
        // The expiry is still the long one's (PTTL counts down from 600,000; a 1 s hold's would be at most 1,000).
        #expect(after.ttl > 1000 && after.ttl <= 600_000, "PTTL \(after.ttl)")
    }

    @Test func aLaterRetryAfterRaisesTheHoldAndItsExpiry() async throws {
        let redis = try TestRedis.client()
        let breakers = SharedBreakers(client: redis, prefix: TestRedis.unique("holds") + ":")
        let now = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
        try await breakers.publishHolds([(name: "a", until: now.addingTimeInterval(2)), (name: "b", until: now.addingTimeInterval(600))], now: now)
        // One batch: a rises to 900 s, b's 5 s is ignored, c is new.
        try await breakers.publishHolds([(name: "a", until: now.addingTimeInterval(900)), (name: "b", until: now.addingTimeInterval(5)),
                                         (name: "c", until: now.addingTimeInterval(600))], now: now)
        let a = try await Self.hold(redis, breakers.holdKey("a"))
        let b = try await Self.hold(redis, breakers.holdKey("b"))
        let c = try await Self.hold(redis, breakers.holdKey("c"))
        // PTTL counts down from the TTL set; the bounds leave minutes for a slow machine.
        #expect(a.until == Int64(now.addingTimeInterval(900).timeIntervalSince1970 * 1000))
        #expect(a.ttl > 2_000 && a.ttl <= 900_000, "PTTL \(a.ttl)")  // the 2 s hold's would be at most 2,000
        #expect(b.until == Int64(now.addingTimeInterval(600).timeIntervalSince1970 * 1000))
        #expect(b.ttl > 5_000 && b.ttl <= 600_000, "PTTL \(b.ttl)")  // a 5 s one's at most 5,000
        #expect(c.until == Int64(now.addingTimeInterval(600).timeIntervalSince1970 * 1000))
        #expect(c.ttl > 0 && c.ttl <= 600_000, "PTTL \(c.ttl)")
    }

    @Test func aHoldAlreadyOverIsNotWritten() async throws {
        let redis = try TestRedis.client()
        let breakers = SharedBreakers(client: redis, prefix: TestRedis.unique("holds") + ":")
        let now = Date()
        try await breakers.publishHolds([(name: "gone", until: now.addingTimeInterval(-1))], now: now)
        #expect(try await Self.hold(redis, breakers.holdKey("gone")).until == nil)
    }
}
