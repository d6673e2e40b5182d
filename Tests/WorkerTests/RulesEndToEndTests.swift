import ContactLog
import Foundation
import GatewayCore
import ServiceLifecycle
import Testing
import TestSupport
@testable import RedisQueue
@testable import Worker

/// A clock the test moves by hand. It counts how often the gateway read it, so a test can wait
/// until the worker has looked at the time it set (rather than sleeping and hoping it did).
final class TestClock: @unchecked Sendable {
    // @unchecked: `current` and `readings` are guarded by `lock`.
    private let lock = NSLock()
    private var current: Date
    private var readings = 0
    init(_ start: Date) { current = start }
    var now: Date { lock.withLock { readings += 1; return current } }
    /// How many times the gateway has read the clock.
    var reads: Int { lock.withLock { readings } }
    func set(_ date: Date) { lock.withLock { current = date } }

    /// Sets the time, then waits until the gateway has read it `reads` times. An idle worker reads
    /// the clock only when its maintenance lane looks for due jobs, so two readings after `set`
    /// mean one whole promotion pass ran with the new time.
    func set(_ date: Date, thenWaitForReads count: Int) async throws {
        let before = lock.withLock { current = date; return readings }
        let seen = try await eventually { self.reads >= before + count }
        #expect(seen, "the gateway did not read the clock \(count) times after it was set to \(date)")
    }
}

func bogotaJob(_ id: String, contact: String? = nil, channels: String = #"["sms"]"#, expires: String? = nil) -> String {
    """
    {"id": "\(id)", "template": "payment-reminder", "channels": \(channels), \(expires.map { "\"expires_at\": \"\($0)\"," } ?? "")
     "contact": {"id": "\(contact ?? "C-\(id)")", "name": "Ana Mora", "phone": "+573001234567", "email": "ana@example.co", "locale": "es-CO"},
     "debt_id": "LN-\(contact ?? id)", "data": {"amount_due": "125000", "currency": "COP", "due_date": "2026-12-10", "pay_link": "https://pay.example/x"}}
    """
}

@Suite struct RulesEndToEndTests {
    @Test func aJobOutsideAllowedHoursIsDeferredThenSentOnceWhenTheyOpen() async throws {
        let harness = try Harness { $0.contactRulesPath = shippedRulesPath }
        let clock = TestClock(at("2026-12-06T02:14:00Z"))  // Saturday 21:14 in Bogota
        try await harness.running(clock: { clock.now }) { _ in
            try await harness.enqueue(bogotaJob("LATE-1"))
            #expect(try await eventually { try await harness.events(job: "LATE-1").contains { $0.kind == .deferred } })
            let deferred = try #require(try await harness.events(job: "LATE-1").first { $0.kind == .deferred })
            #expect(deferred.reason == "hours-CO")
            #expect(deferred.detail == "deferred to 2026-12-07 07:00 America/Bogota: Colombia allows 07:00-19:00 Mon-Fri, 08:00-15:00 Sat; never Sundays or holidays; now 21:14 Sat America/Bogota (phone +57)")
            #expect(try await harness.redis.command(["ZCARD", harness.configuration.scheduledKey]) == .integer(1))
            #expect(harness.outbox().isEmpty)
            // Monday 06:59: still waiting after a whole promotion pass saw that time. 07:00: promoted once and sent.
            try await clock.set(at("2026-12-07T11:59:00Z"), thenWaitForReads: 2)
            #expect(try await harness.redis.command(["ZCARD", harness.configuration.scheduledKey]) == .integer(1))
            #expect(harness.outbox().isEmpty)
            clock.set(at("2026-12-07T12:00:00Z"))
            _ = try await harness.waitForOutcome(job: "LATE-1")
        }
        #expect(try await harness.outcome(job: "LATE-1")?.kind == .sent)
        #expect(harness.outbox().count == 1)
        #expect(try await harness.events(job: "LATE-1").map(\.kind) == [.received, .deferred, .dispatching, .sent])
        let dispatching = try #require(try await harness.events(job: "LATE-1").first { $0.kind == .dispatching })
        #expect(dispatching.detail?.contains("sms allowed: Colombia allows 07:00-19:00 Mon-Fri") == true)
        #expect(try await harness.redis.command(["ZCARD", harness.configuration.scheduledKey]) == .integer(0))
    }

    @Test func aJobThatCannotBeRenderedIsRefusedAtOnceNotDeferred() async throws {
        let harness = try Harness { $0.contactRulesPath = shippedRulesPath }
        let clock = TestClock(at("2026-12-06T02:14:00Z"))  // Saturday night in Bogota: everything would wait
        let job = bogotaJob("NOVAR-1").replacingOccurrences(of: #""amount_due": "125000", "#, with: "")
        let outcome = try await harness.running(clock: { clock.now }) { _ in
            try await harness.enqueue(job)
            return try await harness.waitForOutcome(job: "NOVAR-1")
        }
        #expect(outcome.kind == .invalid)
        #expect(outcome.reason == "missing_variable")
        #expect(try await harness.redis.command(["ZCARD", harness.configuration.scheduledKey]) == .integer(0))
        #expect(try await harness.deadLetters().map { $0["error_code"] } == ["missing_variable"])
    }

    @Test func aDeferredJobPastItsExpiryEndsExpired() async throws {
        let harness = try Harness { $0.contactRulesPath = shippedRulesPath }
        let clock = TestClock(at("2026-12-06T02:14:00Z"))
        try await harness.running(clock: { clock.now }) { _ in
            // Expires Monday 10:00 Bogota: the 07:00 opening is before it, so the job waits...
            try await harness.enqueue(bogotaJob("EXP-2", expires: "2026-12-07T15:00:00Z"))
            #expect(try await eventually { try await harness.events(job: "EXP-2").contains { $0.kind == .deferred } })
            // ...but the worker is down until after the expiry.
            clock.set(at("2026-12-07T16:00:00Z"))
            _ = try await harness.waitForOutcome(job: "EXP-2")
        }
        #expect(try await harness.outcome(job: "EXP-2")?.kind == .expired)
        // Expiring before any allowed moment: suppressed at once, with the reason.
        try await harness.running(clock: { clock.now }) { _ in
            clock.set(at("2026-12-06T02:14:00Z"))
            try await harness.enqueue(bogotaJob("EXP-3", expires: "2026-12-06T12:00:00Z"))
            _ = try await harness.waitForOutcome(job: "EXP-3")
        }
        let suppressed = try #require(try await harness.outcome(job: "EXP-3"))
        #expect(suppressed.kind == .suppressed)
        #expect(suppressed.reason == "no_window_before_expiry")
    }

    @Test func capsCountOnlySentMessagesAndDeferTheRest() async throws {
        let harness = try Harness { $0.contactRulesPath = shippedRulesPath }
        let clock = TestClock(at("2026-12-07T14:00:00Z"))  // Monday 09:00 Bogota
        try await harness.running(clock: { clock.now }) { _ in
            try await harness.enqueue(bogotaJob("CAP-1", contact: "C-CAP"))
            _ = try await harness.waitForOutcome(job: "CAP-1")
            // sms-1-per-day: a second SMS the same day waits.
            try await harness.enqueue(bogotaJob("CAP-2", contact: "C-CAP"))
            #expect(try await eventually { try await harness.events(job: "CAP-2").contains { $0.kind == .deferred } })
            // E-mail is another channel, but Colombia's law (Ley 2300 art. 3) allows one contact a
            // day and one channel a week: it waits too.
            try await harness.enqueue(bogotaJob("CAP-3", contact: "C-CAP", channels: #"["sms", "email"]"#))
            #expect(try await eventually { try await harness.events(job: "CAP-3").contains { $0.kind == .deferred } })
        }
        // The slot reopens Tuesday 8 December, a public holiday in Colombia: the next allowed moment is Wednesday 07:00.
        let capped = try #require(try await harness.events(job: "CAP-2").first { $0.kind == .deferred })
        #expect(capped.reason == "sms-1-per-day")
        #expect(capped.detail?.hasPrefix("deferred to 2026-12-09 07:00 America/Bogota: sms-1-per-day: at most 1 message in 1 day per contact and channel") == true, "\(capped.detail ?? "")")
        let both = try #require(try await harness.events(job: "CAP-3").first { $0.kind == .deferred })
        #expect(both.reason == "sms-1-per-day", "the earliest of the channels' reopenings is named: \(both.detail ?? "")")
        #expect(harness.outbox().count == 1)
        // The ledger holds exactly the one message sent.
        let contactKey = harness.configuration.capsPrefix + "contact:C-CAP"
        #expect(try await harness.redis.command(["ZCARD", contactKey]) == .integer(1))
    }

    @Test func aFailedSendDoesNotCount() async throws {
        let fake = FakeTwilio()
        fake.enqueue(.error(status: 400, code: 21211, message: "invalid number"))
        let harness = try Harness { $0.contactRulesPath = shippedRulesPath }
        let clock = TestClock(at("2026-12-07T14:00:00Z"))
        try await fake.serve { base in
            try harness.writeTwilio(fake, base)
            try await harness.running(clock: { clock.now }) { _ in
                try await harness.enqueue(bogotaJob("FAIL-1", contact: "C-FAIL"))
                _ = try await harness.waitForOutcome(job: "FAIL-1")
                try await harness.enqueue(bogotaJob("FAIL-2", contact: "C-FAIL"))
                _ = try await harness.waitForOutcome(job: "FAIL-2")
            }
        }
        #expect(try await harness.outcome(job: "FAIL-1")?.kind == .failed)
        #expect(try await harness.outcome(job: "FAIL-2")?.kind == .sent)
    }

    @Test func optOutsAreHonouredAndRecorded() async throws {
        let harness = try Harness()
        let log = try SQLiteContactLog(path: harness.configuration.contactLogPath)
        try await log.setOptOut(OptOut(contactID: "C-OPT", channel: .sms, kind: .optOut, setBy: "agent:maria", setAt: Date(), reason: "asked by phone"))
        try await harness.running { _ in
            try await harness.enqueue(bogotaJob("OPT-1", contact: "C-OPT", channels: #"["sms", "email"]"#))
            try await harness.enqueue(bogotaJob("OPT-2", contact: "C-OPT", channels: #"["sms"]"#))
            _ = try await harness.waitForOutcome(job: "OPT-1")
            _ = try await harness.waitForOutcome(job: "OPT-2")
        }
        #expect(try await harness.outcome(job: "OPT-1")?.channel == .email)
        let suppressed = try #require(try await harness.outcome(job: "OPT-2"))
        #expect(suppressed.kind == .suppressed)
        #expect(suppressed.reason == "opted_out")
        #expect(suppressed.detail?.contains("opted out (sms) by agent:maria") == true)
        // Taking it back is recorded too, with who and why.
        #expect(try await log.removeOptOut(contactID: "C-OPT", channel: .sms, by: "agent:jose", reason: "customer asked again", at: Date()))
        #expect(try await log.optOuts(["C-OPT"]).isEmpty)
        let changes = try await log.events(EventFilter(contactID: "C-OPT", kinds: [.optOut, .optIn])).map(\.event)
        #expect(changes.map(\.kind) == [.optOut, .optIn])
        #expect(changes[1].detail?.hasPrefix("opt-out (sms) taken back by agent:jose") == true)
    }

    @Test func twoWorkersRacingForTheLastSlotSendOnlyOne() async throws {
        let first = try Harness { $0.contactRulesPath = shippedRulesPath }
        var second = first
        second.configuration.consumer = "second-\(UUID().uuidString.prefix(6))"
        let clock = TestClock(at("2026-12-07T14:00:00Z"))
        // Ten jobs for one contact, SMS only: sms-1-per-day allows one.
        for n in 0..<10 { try await first.enqueue(bogotaJob("RACE-\(n)", contact: "C-RACE")) }
        let gateways = [try await Gateway(configuration: first.configuration, logger: Harness.logger, clock: { clock.now }),
                        try await Gateway(configuration: second.configuration, logger: Harness.logger, clock: { clock.now })]
        // Each worker takes a batch of one at a time, so the two really interleave.
        let batches = try await withThrowingTaskGroup(of: Int.self) { group in
            for gateway in gateways {
                group.addTask {
                    var handled = 0
                    try await gateway.worker.processor.consumer.ensureGroup()
                    while true {
                        let entries = try await gateway.worker.processor.consumer.readNew(count: 1, blockMilliseconds: 200)
                        if entries.isEmpty { return handled }
                        try await gateway.worker.processor.process(entries)
                        handled += 1
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(batches.reduce(0, +) == 10)
        #expect(batches.allSatisfy { $0 > 0 }, "both workers took part: \(batches)")
        #expect(first.outbox().count == 1)
        var deferred = 0
        for n in 0..<10 { if try await first.events(job: "RACE-\(n)").contains(where: { $0.kind == .deferred }) { deferred += 1 } }
        #expect(deferred == 9)
        for gateway in gateways { await gateway.shutdown() }
    }

    /// Two entries of one job reach two workers at the same moment: both pass admission and both
    /// reserve the job's cap slot (the ledger's member is the job id), and the database lets only
    /// one claim the send. The worker refused must not give the slot back: it is the slot of the
    /// send the other worker is making, and giving it back let the contact get one message over the cap.
    @Test func aClaimRefusedBecauseAnotherWorkerIsSendingKeepsItsCapSlot() async throws {
        let harness = try Harness { $0.contactRulesPath = shippedRulesPath }
        let clock = TestClock(at("2026-12-07T14:00:00Z"))
        let gateway = try await Gateway(configuration: harness.configuration, logger: Harness.logger, clock: { clock.now })
        var racing = gateway.worker.processor
        racing.store = ClaimsBetweenReads(inner: gateway.store, claim: ContactEvent(
            jobID: "TWIN-1", contactID: "C-TWIN", kind: .dispatching, at: clock.now, channel: .sms, provider: "sandbox", body: "Hola"))
        try await racing.consumer.ensureGroup()
        try await harness.enqueue(bogotaJob("TWIN-1", contact: "C-TWIN"))
        let summary = try await racing.process(try await racing.consumer.readNew(count: 10, blockMilliseconds: 200))
        #expect(summary.duplicates == 1)
        #expect(harness.outbox().isEmpty)
        // The refused worker's entry is still in the log, as `received` with the job as it came.
        let twin = try await harness.events(job: "TWIN-1")
        #expect(twin.map(\.kind) == [.dispatching, .received])
        #expect(twin.last?.rawData == Array(bogotaJob("TWIN-1", contact: "C-TWIN").utf8) && twin.last?.streamID != nil)
        // The other worker's send still holds sms-1-per-day for C-TWIN: the contact's next job waits.
        try await harness.enqueue(bogotaJob("TWIN-2", contact: "C-TWIN"))
        try await gateway.worker.processor.process(try await racing.consumer.readNew(count: 10, blockMilliseconds: 200))
        #expect(try await harness.events(job: "TWIN-2").contains { $0.kind == .deferred })
        #expect(harness.outbox().isEmpty)
        await gateway.shutdown()
    }
}

/// The contact log, with another worker's claim on a job written right after the worker read the
/// job's state: the moment two workers race for one job.
struct ClaimsBetweenReads: ForwardingContactLog {
    let inner: any ContactLogStore
    let claim: ContactEvent

    func admissionFacts(_ request: AdmissionRequest) async throws -> AdmissionFacts {
        let facts = try await inner.admissionFacts(request)
        _ = try await inner.append([claim])
        return facts
    }
}
