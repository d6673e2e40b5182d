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
    @Test func openingIsReportedAndAnotherWorkersOpeningIsAdopted() {
        let breaker = CircuitBreaker(settings: .init(failureRate: 0.5, minimumRequests: 2, window: 2, openFor: 30))
        #expect(breaker.record(success: false, now: t0) == nil)
        #expect(breaker.record(success: false, now: t0) == t0.addingTimeInterval(30))   // this one opened it
        #expect(breaker.record(success: false, now: t0) == nil)                         // already open
        // A later opening elsewhere keeps it open longer; an earlier or past one changes nothing.
        breaker.adopt(openUntil: t0.addingTimeInterval(100), now: t0)
        #expect(breaker.currentState == .open(until: t0.addingTimeInterval(100)))
        breaker.adopt(openUntil: t0.addingTimeInterval(50), now: t0)
        #expect(breaker.currentState == .open(until: t0.addingTimeInterval(100)))
        // The probe after the pause: a failure reopens it, and says until when.
        #expect(breaker.allow(now: t0.addingTimeInterval(100)))
        breaker.adopt(openUntil: t0.addingTimeInterval(500), now: t0.addingTimeInterval(100))
        #expect(breaker.currentState == .halfOpen(probeInFlight: true))                // the probe is out: kept
        #expect(breaker.record(success: false, now: t0.addingTimeInterval(101)) == t0.addingTimeInterval(131))
        // A closed breaker adopts an opening; one already over is ignored.
        let other = CircuitBreaker()
        other.adopt(openUntil: t0.addingTimeInterval(-1), now: t0)
        #expect(other.currentState == .closed)
        other.adopt(openUntil: t0.addingTimeInterval(60), now: t0)
        #expect(other.currentState == .open(until: t0.addingTimeInterval(60)))
        #expect(!other.allow(now: t0.addingTimeInterval(59)))
    }

    @Test func aRetryAfterHoldsTheProviderBackWithoutCountingAsAnOpening() {
        let breaker = CircuitBreaker(settings: .init(failureRate: 0.5, minimumRequests: 2, window: 2, openFor: 30))
        breaker.hold(until: t0.addingTimeInterval(10))
        breaker.hold(until: t0.addingTimeInterval(5))   // an earlier time never shortens it
        #expect(breaker.held(now: t0) == t0.addingTimeInterval(10))
        #expect(!breaker.allow(now: t0.addingTimeInterval(9.9)))
        #expect(breaker.currentState == .closed)
        // At the time it gave, it is called again as before: no probe needed.
        #expect(breaker.held(now: t0.addingTimeInterval(10)) == nil)
        #expect(breaker.allow(now: t0.addingTimeInterval(10)))
        #expect(breaker.allow(now: t0.addingTimeInterval(10)))
        // A hold also keeps an open breaker's probe back until it ends.
        breaker.record(success: false, now: t0.addingTimeInterval(10))
        breaker.record(success: false, now: t0.addingTimeInterval(10))
        #expect(breaker.currentState == .open(until: t0.addingTimeInterval(40)))
        breaker.hold(until: t0.addingTimeInterval(50))
        #expect(!breaker.allow(now: t0.addingTimeInterval(45)))
        #expect(breaker.currentState == .open(until: t0.addingTimeInterval(40)))
        #expect(breaker.allow(now: t0.addingTimeInterval(50)))
        #expect(breaker.currentState == .halfOpen(probeInFlight: true))
    }
}
