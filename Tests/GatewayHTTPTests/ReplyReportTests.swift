import ContactLog
import Conversations
import Foundation
import GatewayCore
import HummingbirdTesting
import Testing

/// /reports/summary's `replies` and `escalations`, with an escalation resolved through the desk.
extension LogAPITests {
    @Test func theSummaryReportsRepliesAndEscalationsBesideTheOutcomes() async throws {
        let store = try temporaryStore()
        try await Self.fill(store, count: 4)
        _ = try await store.append([ContactEvent(jobID: "RJ-1", contactID: "C-R", kind: .sent, at: parseTimestamp("2026-11-01T10:00:00Z")!, channel: .sms,
                                                 template: "payment-reminder", provider: "twilio", providerMessageID: "out-R", address: "+50688880001",
                                                 debtID: "LN-9", segment: "late")])
        func reply(_ id: String, _ from: String, _ at: String, _ intents: [String], _ label: String, _ score: Double) async throws -> ReplyPlan? {
            let message = InboundMessage(provider: "twilio", messageID: id, from: from, to: "+15005550006", body: "texto \(id)", at: parseTimestamp(at)!, raw: "{}")
            let reading = ReplyReading(language: "es", label: label, score: score, intents: intents)
            return try await store.recordReply(message) { match in ReplyPlanner.plan(message: message, reading: reading, match: match, policy: .standard) }
        }
        let lawyer = try #require(try await reply("IN-1", "+50688880001", "2026-11-01T14:00:00Z", ["lawyer"], "upset", -0.5)?.escalations.first)
        _ = try await reply("IN-2", "+50688880001", "2026-11-01T15:00:00Z", ["promise_to_pay"], "positive", 0.4)
        _ = try await reply("IN-3", "+15550001111", "2026-11-01T16:00:00Z", ["hardship"], "sad", -0.3)  // nobody was sent a message there
        let desk = EscalationDesk(store: store)
        _ = try await desk.resolve(lawyer.id, by: "agent:maria", note: "lawyer's letter filed", lift: false, at: parseTimestamp("2026-11-01T18:30:00Z")!)

        try await withApp(store: store) { client in
            try await client.execute(uri: "/reports/summary?from=2026-11-01&to=2026-11-02", method: .get, headers: auth.compliance) { response in
                #expect(response.status == .ok)
                let body = Self.json(response.body)
                // The outcome rows and providers are as before.
                #expect((body["rows"] as? [[String: Any]])?.isEmpty == false && (body["providers"] as? [[String: Any]])?.isEmpty == false)
                let replies = try #require(body["replies"] as? [[String: Any]], "\(body)")
                #expect(replies.count == 2)
                let unknown = try #require(replies.first { $0["segment"] is NSNull }, "\(replies)")
                #expect(unknown["day"] as? String == "2026-11-01" && unknown["channel"] as? String == "sms" && unknown["replies"] as? Int == 1)
                #expect(unknown["intents"] as? [String: Int] == ["hardship": 1])
                let late = try #require(replies.first { $0["segment"] as? String == "late" }, "\(replies)")
                #expect(late["replies"] as? Int == 2)
                #expect(late["intents"] as? [String: Int] == ["lawyer": 1, "promise_to_pay": 1])
                #expect(late["labels"] as? [String: Int] == ["upset": 1, "positive": 1])
                #expect(late["average_score"] as? Double == -0.05)
                let escalations = try #require(body["escalations"] as? [String: Any], "\(body)")
                #expect(escalations["opened"] as? Int == 2 && escalations["resolved"] as? Int == 1 && escalations["open_now"] as? Int == 1)
                #expect(escalations["overdue_now"] as? Int == 1)  // hardship's 72 h ran out long before the test runs
                #expect(escalations["median_hours_to_resolution"] as? Double == 4.5 && escalations["max_hours_to_resolution"] as? Double == 4.5)
                let byIntent = try #require(escalations["by_intent"] as? [[String: Any]])
                #expect(byIntent.map { $0["intent"] as? String } == ["hardship", "lawyer"])
                #expect(byIntent[1]["resolved"] as? Int == 1 && byIntent[0]["median_hours_to_resolution"] is NSNull)
            }
        }
    }
}
