import ContactLog
import Foundation
import GatewayCore
import Testing
import TestSupport

/// `gateway replies receive`: a reply that came by letter or call, recorded and acted on as the webhooks do.
extension GatewayProcessTests {
    @Test func aReplyByLetterIsRecordedOnceAndActedOnFromTheCommandLine() async throws {
        let harness = try Harness()
        let escalations = TestRedis.unique("escalations")
        let config = try writeConfig(harness, extra: """
            replies: \(repositoryRoot.appendingPathComponent("config/replies").path)
            reply_actions: \(repositoryRoot.appendingPathComponent("config/reply-actions.yml").path)
            escalation_stream: \(escalations)
            """)
        let store = try SQLiteContactLog(path: harness.configuration.contactLogPath)
        _ = try await store.append([ContactEvent(jobID: "LTR-0", contactID: "C-LTR", kind: .sent, at: Date(), channel: .sms,
                                                 template: "payment-reminder", address: "+50688886666", debtID: "LN-5")])
        let arguments = ["replies", "receive", "--from", "+50688886666", "--text", "Me declaré en quiebra, hablen con mi abogado",
                         "--id", "letter-2026-0142", "--by", "compliance:ana", "--config", config]
        let first = try run(arguments)
        #expect(first.status == 0, "\(first.output)")
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(first.output.split(separator: "\n").last.map(String.init)?.utf8 ?? "".utf8)) as? [String: Any],
                                  "\(first.output)")
        #expect(answer["recorded"] as? Bool == true)
        #expect((answer["intents"] as? [String])?.contains("bankruptcy") == true, "\(first.output)")
        #expect((answer["escalations"] as? [String])?.count == 1)
        let again = try run(arguments)
        #expect(again.status == 0 && again.output.contains("\"recorded\":false") && again.output.contains("recorded before: nothing changed"), "\(again.output)")
        #expect(try await harness.redis.command(["XLEN", escalations]) == .integer(1))
        let holds = try await store.states(StateQuery(kinds: [.hold], contactIDs: ["C-LTR"], activeOnly: true)).compactMap(\.hold)
        #expect(holds.contains { $0.intent == "bankruptcy" && $0.scope == .contact }, "\(holds.map(\.intent))")
        #expect(try await store.events(EventFilter(kinds: [.inbound])).first?.event.provider == "manual:compliance:ana")
        let bad = try run(["replies", "receive", "--from", "8888-6666", "--text", "x", "--id", "y", "--config", config])
        #expect(bad.status != 0 && bad.output.contains("--from must be an E.164 phone number"), "\(bad.output)")
    }
}
