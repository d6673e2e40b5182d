import Foundation
import Testing
@testable import Replies

/// The promised day, read from the reply's words relative to when it arrived, in the contact's zone.
@Suite struct PromiseDateTests {
    static let zone = TimeZone(identifier: "America/Costa_Rica")!   // UTC-6, no DST
    // Wednesday 2026-12-09 23:30 in Costa Rica (already Thursday in UTC).
    static let now = Date(timeIntervalSince1970: 1_796_880_600)

    func day(_ text: String) -> Date { ISO8601DateFormatter().date(from: text + "T06:00:00Z")! }

    @Test(arguments: [
        (PaymentPromise(weekday: "friday"), "2026-12-11"),
        (PaymentPromise(weekday: "wednesday"), "2026-12-16"),      // today is Wednesday: the next one
        (PaymentPromise(day: 15), "2026-12-15"),
        (PaymentPromise(day: 5), "2027-01-05"),                    // the 5th has passed: next month
        (PaymentPromise(day: 15, month: 1), "2027-01-15"),
        (PaymentPromise(relative: "tomorrow"), "2026-12-10"),     // tomorrow in Costa Rica, not in UTC
        (PaymentPromise(relative: "today"), "2026-12-09"),
        (PaymentPromise(relative: "end_of_month"), "2026-12-31"),
        (PaymentPromise(relative: "payday"), "2026-12-15"),
        (PaymentPromise(relative: "next_week"), "2026-12-16"),
    ])
    func promisedDays(promise: PaymentPromise, expected: String) {
        #expect(promise.date(after: Self.now, zone: Self.zone) == day(expected))
    }

    @Test func noDateOrAnImpossibleOneGivesNothing() {
        #expect(PaymentPromise(amount: "50.00").date(after: Self.now, zone: Self.zone) == nil)
        #expect(PaymentPromise(day: 31, month: 2).date(after: Self.now, zone: Self.zone) == nil)
        #expect(PaymentPromise(weekday: "someday").date(after: Self.now, zone: Self.zone) == nil)
    }
}
