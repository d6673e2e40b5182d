import Foundation
import Testing
@testable import Providers

@Suite struct CircuitBreakerTests {
    let t0 = Date(timeIntervalSince1970: 1_796_000_000)

    @Test func opensOnTheFailureRateThenProbesAndCloses() {
        let breaker = CircuitBreaker(settings: .init(failureRate: 0.5, minimumRequests: 4, window: 4, openFor: 30))
        for success in [true, false, true] { #expect(breaker.allow(now: t0)); breaker.record(success: success, now: t0) }
        #expect(breaker.currentState == .closed)  // 3 outcomes: below the minimum
        breaker.record(success: false, now: t0)     // 2 of 4 failed: opens
        #expect(breaker.currentState == .open(until: t0.addingTimeInterval(30)))
        #expect(!breaker.allow(now: t0.addingTimeInterval(29)))
        // After the pause, exactly one probe goes.
        #expect(breaker.allow(now: t0.addingTimeInterval(30)))
        #expect(!breaker.allow(now: t0.addingTimeInterval(30)))
        breaker.record(success: false, now: t0.addingTimeInterval(31))
        #expect(breaker.currentState == .open(until: t0.addingTimeInterval(61)))
        #expect(breaker.allow(now: t0.addingTimeInterval(61)))
        breaker.record(success: true, now: t0.addingTimeInterval(62))
        #expect(breaker.currentState == .closed)
        #expect(breaker.allow(now: t0.addingTimeInterval(62)))
    }

    @Test func onlyTheRecentWindowCounts() {
        let breaker = CircuitBreaker(settings: .init(failureRate: 0.5, minimumRequests: 4, window: 4, openFor: 30))
        for success in [false, true, true, true, true, false] { breaker.record(success: success, now: t0) }
        #expect(breaker.currentState == .closed)  // the first failure has left the window: 1 of the last 4
        breaker.record(success: false, now: t0)
        #expect(breaker.currentState == .open(until: t0.addingTimeInterval(30)))  // 2 of the last 4
    }
}
