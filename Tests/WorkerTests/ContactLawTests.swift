import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import RedisQueue
@testable import Worker

/// The shipped rules' frequency laws, case by case: Chile's two messages a week, two days apart;
/// Colombia's one contact a day and one channel a week. Caps go through the real shared ledger in
/// Redis, as the worker uses it. (The holidays and the file: WorkerUnitTests' ContactLawTests.)
@Suite struct ContactLawTests {
    /// Decides as the worker does: the requested channels allowed now are tried in order against
    /// the ledger (reserving), and the first one reserved is used.
    static func decideWithLedger(_ job: Job, at now: Date, ledger: CapLedger) async throws -> RuledDecision {
        let plan = RulesEngine.plan(job: job, now: now, rules: shippedRules, optOuts: []) { _ in nil }
        var caps: [Channel: CapResult] = [:]
        for channel in plan.allowedNow {
            let checks = shippedRules.capChecks(job: job, channel: channel, country: plan.location.country, category: job.category ?? .collection,
                                                zone: plan.location.timeZones[0])
            let result = try await ledger.check(checks, member: job.id, now: now)
            caps[channel] = result
            if result == .reserved { break }
        }
        return RulesEngine.resolve(job: job, now: now, plan: plan, caps: caps, rules: shippedRules)
    }

    /// (case, phone, time zone, earlier sends as (time, channels), then (time, channels, category),
    /// expected: "send <channel>" or "defer <rule> <until>", and words the sentence must contain).
    @Test(arguments: [
        // Chile, Ley 19.496 art. 37: e-mail, SMS or messaging at most twice a week, two days apart.
        ("CL third message in a week", "+56912345678", "America/Santiago" as String?,
         ["2026-11-30T15:00:00Z sms", "2026-12-02T15:00:00Z sms"] as [String], "2026-12-04T15:00:00Z sms",
         "defer chile-2-per-week 2026-12-07T15:00:00Z", "Chile Ley 19.496 art. 37: at most two messages a week"),
        ("CL third message on another channel", "+56912345678", "America/Santiago",
         ["2026-11-30T15:00:00Z sms", "2026-12-02T15:00:00Z email"], "2026-12-04T15:00:00Z email",
         "defer chile-2-per-week 2026-12-07T15:00:00Z", ""),
        ("CL a week after the first, the third goes", "+56912345678", "America/Santiago",
         ["2026-11-30T15:00:00Z sms", "2026-12-02T15:00:00Z sms"], "2026-12-07T15:00:00Z sms", "send sms", ""),
        ("CL two days apart still holds", "+56912345678", "America/Santiago",
         ["2026-11-30T15:00:00Z sms"], "2026-12-01T15:00:00Z email",
         "defer chile-two-days 2026-12-02T15:00:00Z", "Chile Ley 19.496 art. 37: messages at least two days apart"),
        // The week reopens on Christmas Day: the job waits for Saturday, and the sentence says why.
        ("CL week reopening on a holiday", "+56912345678", "America/Santiago",
         ["2026-12-18T15:00:00Z sms", "2026-12-21T15:00:00Z sms"], "2026-12-23T15:00:00Z sms",
         "defer chile-2-per-week 2026-12-26T11:00:00Z", "closed: Navidad (public holiday)"),
        // Colombia, Ley 2300 art. 3: one contact a day, and one channel in a week.
        ("CO second message in a day", "+573001234567", nil,
         ["2026-12-01T14:00:00Z email"], "2026-12-01T20:00:00Z email",
         "defer colombia-1-per-day 2026-12-02T14:00:00Z", "Colombia Ley 2300 art. 3: one contact a day"),
        // The week frees on Tuesday 8 December 09:00, a holiday in Colombia: Wednesday 07:00.
        ("CO second channel in a week", "+573001234567", nil,
         ["2026-12-01T14:00:00Z sms"], "2026-12-02T15:00:00Z email",
         "defer colombia-one-channel-per-week 2026-12-09T12:00:00Z",
         "colombia-one-channel-per-week: Colombia Ley 2300 art. 3: one channel per week; sms used 2026-12-01; closed: La Inmaculada Concepción (public holiday)"),
        ("CO same channel the next day", "+573001234567", nil,
         ["2026-12-01T14:00:00Z sms"], "2026-12-02T15:00:00Z sms", "send sms", ""),
        ("CO a job asking e-mail then SMS goes on the week's channel", "+573001234567", nil,
         ["2026-12-01T14:00:00Z sms"], "2026-12-02T15:00:00Z email,sms", "send sms", ""),
        ("CO another channel once the week has passed", "+573001234567", nil,
         ["2026-12-01T14:00:00Z sms"], "2026-12-09T15:00:00Z email", "send email", ""),
        ("CO transactional messages skip caps", "+573001234567", nil,
         ["2026-12-01T14:00:00Z sms"], "2026-12-01T20:00:00Z email transactional", "send email", ""),
    ])
    func frequencyLaws(name: String, phone: String, zone: String?, earlier: [String], then: String, expected: String, words: String) async throws {
        let ledger = CapLedger(client: try TestRedis.client(), prefix: TestRedis.unique("law") + ":")
        func parse(_ text: String) -> (Date, [Channel], Category?) {
            let parts = text.split(separator: " ").map(String.init)
            return (at(parts[0]), parts[1].split(separator: ",").compactMap { Channel(rawValue: String($0)) }, parts.count > 2 ? Category(rawValue: parts[2]) : nil)
        }
        for send in earlier {
            let (time, channels, category) = parse(send)
            let decision = try await Self.decideWithLedger(contactJob(phone: phone, timezone: zone, channels: channels, category: category), at: time, ledger: ledger)
            guard case .send = decision else {
                Issue.record("\(name): the earlier send at \(send) was not sent: \(decision)")
                return
            }
        }
        let (time, channels, category) = parse(then)
        let decision = try await Self.decideWithLedger(contactJob(phone: phone, timezone: zone, channels: channels, category: category), at: time, ledger: ledger)
        let got: String
        let detail: String
        switch decision {
        case .send(let channel, let text): (got, detail) = ("send \(channel.rawValue)", text)
        case .defer(let until, let rule, let text): (got, detail) = ("defer \(rule) \(formatTimestamp(until).replacingOccurrences(of: ".000Z", with: "Z"))", text)
        case .suppress(let code, let rule, let text): (got, detail) = ("suppress \(code) \(rule)", text)
        case .expire(let text): (got, detail) = ("expire", text)
        }
        #expect(got == expected, "\(name): \(detail)")
        #expect(words.isEmpty || detail.contains(words), "\(name): \(detail)")
    }
}
