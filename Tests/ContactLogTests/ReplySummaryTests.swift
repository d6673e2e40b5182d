import ContactLog
import Foundation
import GatewayCore
import Testing

/// The replies and escalations part of /reports/summary, on every store.
@Suite struct ReplySummaryTests {
    static func at(_ text: String) -> Date { parseTimestamp(text)! }

    static func sent(_ job: String, contact: String, channel: Channel, address: String, debt: String, segment: String, at: String) -> ContactEvent {
        ContactEvent(jobID: job, contactID: contact, kind: .sent, at: Self.at(at), channel: channel, template: "payment-reminder", provider: "twilio",
                     providerMessageID: "out-\(job)", address: address, debtID: debt, segment: segment)
    }

    /// Records a reply as the reply desk does: ReplyPlanner inside the store's transaction.
    @discardableResult
    static func reply(_ log: any ContactLogStore, _ id: String, from: String, channel: Channel = .sms, at: String, _ body: String,
                      intents: [String], label: String, score: Double, language: String = "es") async throws -> ReplyPlan? {
        let message = InboundMessage(provider: "twilio", messageID: id, from: from, to: "+15005550006", body: body, at: Self.at(at), raw: "{}", channel: channel)
        let reading = ReplyReading(language: language, label: label, score: score, intents: intents)
        return try await log.recordReply(message) { match in ReplyPlanner.plan(message: message, reading: reading, match: match, policy: .standard) }
    }

    /// Resolves an escalation as EscalationDesk.resolve writes it (the row at the version read, and the event).
    static func resolve(_ log: any ContactLogStore, _ id: String, at text: String) async throws {
        let now = at(text)
        let record = try #require(try await log.states(StateQuery(kinds: [.escalation], keys: ["escalation:\(id)"])).first)
        var escalation = try #require(record.escalation)
        escalation.status = .resolved
        escalation.resolvedAt = now
        escalation.resolvedBy = "agent:maria"
        escalation.resolutionNote = "checked"
        escalation.liftedHolds = false
        let event = ContactEvent(jobID: nil, contactID: escalation.contactID, kind: .escalationResolved, at: now, channel: escalation.channel,
                                 reason: "resolved", detail: "escalation \(id) resolved by agent:maria: checked", address: escalation.address,
                                 data: JSONValue.object(["escalation": .string(id), "by": .string("agent:maria"), "lift": .bool(false)]).serialized,
                                 debtID: escalation.debtID)
        #expect(try await log.writeStates([StateWrite(.escalation(escalation, at: now), expect: .version(record.version))], events: [event]))
    }

    @Test(arguments: StoreKind.available) func repliesByDayChannelAndSegmentAndEscalationsWithTimeToResolution(_ kind: StoreKind) async throws {
        let log = try await TestStore.make(kind).log
        _ = try await log.append([
            Self.sent("J1", contact: "C-1", channel: .sms, address: "+50688880001", debt: "LN-1", segment: "early", at: "2026-11-01T10:00:00Z"),
            Self.sent("J2", contact: "C-2", channel: .sms, address: "+50688880002", debt: "LN-2", segment: "late", at: "2026-11-01T10:00:00Z"),
            Self.sent("J3", contact: "C-3", channel: .email, address: "ana@example.com", debt: "LN-3", segment: "late", at: "2026-11-01T10:00:00Z"),
            // C-1 moves to the late segment after its first reply: its second reply is counted there.
            Self.sent("J4", contact: "C-1", channel: .sms, address: "+50688880001", debt: "LN-1", segment: "late", at: "2026-11-03T10:00:00Z"),
            // Two contacts at one number: a reply from it is an inbound event for each, counted once.
            Self.sent("J5", contact: "C-5", channel: .sms, address: "+50688880005", debt: "LN-5", segment: "mid", at: "2026-11-01T10:00:00Z"),
            Self.sent("J6", contact: "C-6", channel: .sms, address: "+50688880005", debt: "LN-6", segment: "mid", at: "2026-11-01T10:00:00Z"),
        ])
        let dispute = try await Self.reply(log, "R1", from: "+50688880001", at: "2026-11-02T09:00:00Z", "esa deuda no es mía", intents: ["dispute"], label: "upset", score: -0.6)
        let paid = try await Self.reply(log, "R2", from: "+50688880002", at: "2026-11-02T15:00:00Z", "ya pagué", intents: ["paid"], label: "neutral", score: 0.1)
        try await Self.reply(log, "R3", from: "ana@example.com", channel: .email, at: "2026-11-02T16:00:00Z", "how do I pay?", intents: ["help"], label: "neutral",
                             score: 0, language: "en")
        try await Self.reply(log, "R5", from: "+15550009999", at: "2026-11-02T20:00:00Z", "STOP", intents: ["opt_out"], label: "neutral", score: 0)
        try await Self.reply(log, "R6", from: "+50688880002", at: "2026-11-02T18:00:00Z", "gracias, muy amables", intents: [], label: "positive", score: 0.5)
        try await Self.reply(log, "R7", from: "+50688880005", at: "2026-11-02T21:00:00Z", "STOP", intents: ["opt_out"], label: "neutral", score: 0)
        let hardship = try await Self.reply(log, "R4", from: "+50688880001", at: "2026-11-04T08:00:00Z", "perdí el trabajo", intents: ["hardship"], label: "sad", score: -0.4)
        // The same webhook again is not a second reply.
        #expect(try await Self.reply(log, "R1", from: "+50688880001", at: "2026-11-02T09:00:00Z", "esa deuda no es mía", intents: ["dispute"], label: "upset", score: -0.6) == nil)
        let disputeID = try #require(dispute?.escalations.first?.id)
        let paidID = try #require(paid?.escalations.first?.id)
        #expect(hardship?.escalations.count == 1)
        try await Self.resolve(log, disputeID, at: "2026-11-02T15:00:00Z")  // 6 h after the reply
        try await Self.resolve(log, paidID, at: "2026-11-04T02:00:00Z")     // 35 h after

        // The hardship escalation (72 h from 2026-11-04T08:00) is overdue on the 8th.
        let summary = try await log.replySummary(from: Self.at("2026-11-01T00:00:00Z"), to: Self.at("2026-11-05T00:00:00Z"), now: Self.at("2026-11-08T00:00:00Z"))
        #expect(summary.rows.map { "\($0.day) \($0.channel ?? "-") \($0.segment ?? "-") \($0.replies)" } == [
            "2026-11-02 email late 1", "2026-11-02 sms - 1", "2026-11-02 sms early 1", "2026-11-02 sms late 2", "2026-11-02 sms mid 1", "2026-11-04 sms late 1",
        ])
        #expect(try await log.events(EventFilter(kinds: [.inbound], from: Self.at("2026-11-02T21:00:00Z"))).map(\.event.contactID) == ["C-5", "C-6", "C-1"])
        #expect(summary.rows[4].intents == ["opt_out": 1] && summary.rows[4].languages == ["es": 1])
        let late = summary.rows[3]
        #expect(late.intents == ["paid": 1] && late.labels == ["neutral": 1, "positive": 1] && late.languages == ["es": 2])
        #expect(abs((late.averageScore ?? 0) - 0.3) < 1e-9)
        #expect(summary.rows[0].intents == ["help": 1] && summary.rows[0].languages == ["en": 1] && summary.rows[0].averageScore == 0)
        #expect(summary.rows[1].intents == ["opt_out": 1])  // from an address no message went to: no contact, no segment
        #expect(summary.rows[2].intents == ["dispute": 1] && summary.rows[2].labels == ["upset": 1] && summary.rows[2].averageScore == -0.6)
        #expect(summary.rows[5].intents == ["hardship": 1] && summary.rows[5].labels == ["sad": 1])

        let all = summary.escalations
        #expect((all.opened, all.resolved, all.openNow, all.overdueNow) == (3, 2, 1, 1))
        #expect(all.medianHoursToResolution == 20.5 && all.maxHoursToResolution == 35)
        #expect(summary.escalationsByIntent.map(\.intent) == ["dispute", "hardship", "paid"])
        let dispute_ = summary.escalationsByIntent[0], hardship_ = summary.escalationsByIntent[1], paid_ = summary.escalationsByIntent[2]
        #expect((dispute_.opened, dispute_.resolved, dispute_.openNow, dispute_.medianHoursToResolution) == (1, 1, 0, 6))
        #expect((hardship_.opened, hardship_.resolved, hardship_.openNow, hardship_.overdueNow, hardship_.medianHoursToResolution) == (1, 0, 1, 1, nil))
        #expect((paid_.opened, paid_.resolved, paid_.maxHoursToResolution) == (1, 1, 35))

        // A narrower period: only what happened in it, while the open queue is the same.
        let later = try await log.replySummary(from: Self.at("2026-11-03T00:00:00Z"), to: Self.at("2026-11-05T00:00:00Z"), now: Self.at("2026-11-05T00:00:00Z"))
        #expect(later.rows.map(\.day) == ["2026-11-04"])
        #expect((later.escalations.opened, later.escalations.resolved, later.escalations.openNow, later.escalations.overdueNow) == (1, 1, 1, 0))
        #expect(later.escalations.medianHoursToResolution == 35)

        let json = summary.escalationsJSON
        #expect(json["median_hours_to_resolution"] == .number(20.5) && json["open_now"] == .number(1) && json["as_of"] == .string("2026-11-08T00:00:00.000Z"))
        guard case .array(let replies) = summary.repliesJSON else { Issue.record("replies is not an array"); return }
        #expect(replies[1]["segment"] == .null && replies[3]["average_score"] == .number(0.3))
    }
}
