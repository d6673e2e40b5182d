import ContactLog
import Foundation
import GatewayCore
import Testing

/// `gateway escalations` from the built executable, over a contact log where replies were recorded
/// as the reply desk records them.
extension GatewayProcessTests {
    /// Records a reply from `from` as ReplyDesk does (ReplyPlanner inside the store's transaction).
    func recordReply(_ store: SQLiteContactLog, id: String, from: String, body: String, at: Date, intents: [String], label: String, score: Double) async throws -> ReplyPlan {
        let message = InboundMessage(provider: "twilio", messageID: id, from: from, to: "+15005550006", body: body, at: at, raw: "{}")
        let reading = ReplyReading(language: "es", label: label, score: score, intents: intents)
        return try #require(try await store.recordReply(message) { match in
            ReplyPlanner.plan(message: message, reading: reading, match: match, policy: .standard)
        })
    }

    @Test func escalationsAreListedShownAndResolvedFromTheCommandLine() async throws {
        let harness = try Harness()
        let config = try writeConfig(harness)
        let store = try SQLiteContactLog(path: harness.configuration.contactLogPath)
        let now = Date()
        let toAna = ContactEvent(jobID: "ESC-0", contactID: "C-ESC", kind: .sent, at: now.addingTimeInterval(-7 * 86_400), channel: .sms,
                                     template: "payment-reminder", address: "+573001234567", debtID: "LN-77")
        var toBeto = toAna
        toBeto.jobID = "ESC-1"
        toBeto.contactID = "C-ESC-2"
        toBeto.address = "+573009999999"
        toBeto.debtID = "LN-88"
        _ = try await store.append([toAna, toBeto])
        // A dispute two hours ago (high priority, due in 24 h: 22 h left) pauses debt LN-77.
        let dispute = try await recordReply(store, id: "SM-esc-1", from: "+573001234567", body: "esa deuda no es mía", at: now.addingTimeInterval(-2 * 3600),
                                            intents: ["dispute"], label: "upset", score: -0.6)
        let disputeID = try #require(dispute.escalations.first?.id)
        // Hardship five days ago (normal, due in 72 h): overdue by two days. Its text carries a terminal escape sequence.
        let hardship = try await recordReply(store, id: "SM-esc-2", from: "+573009999999", body: "perdí el trabajo\u{1B}[2J\nno puedo pagar",
                                             at: now.addingTimeInterval(-5 * 86_400), intents: ["hardship"], label: "sad", score: -0.4)
        let hardshipID = try #require(hardship.escalations.first?.id)

        let list = try run(["escalations", "list", "--config", config])
        #expect(list.status == 0, "\(list.output)")
        let hardshipAt = try #require(list.output.range(of: "\(hardshipID)  normal  due by "))
        let disputeAt = try #require(list.output.range(of: "\(disputeID)  high  due by "))
        #expect(hardshipAt.lowerBound < disputeAt.lowerBound, "the soonest due first: \(list.output)")
        #expect(list.output.contains("OVERDUE by 1 d 23 h") || list.output.contains("OVERDUE by 2 d"), "\(list.output)")
        #expect(list.output.contains("(in 21 h") || list.output.contains("(in 22 h"), "\(list.output)")
        #expect(list.output.contains("contact C-ESC, debt LN-77; sms from +573001234567"), "\(list.output)")
        #expect(list.output.contains("read as upset (-0.60), intents dispute"), "\(list.output)")
        #expect(list.output.contains("replied \"perdí el trabajo\\u{1b}[2J ⏎ no puedo pagar\""), "\(list.output)")
        #expect(!list.output.contains("\u{1B}"))
        #expect(list.output.contains("2 shown: 2 open (1 overdue), 0 resolved"), "\(list.output)")

        let show = try run(["escalations", "show", disputeID, "--config", config])
        #expect(show.status == 0, "\(show.output)")
        #expect(show.output.contains("status      open, high priority, due by "), "\(show.output)")
        #expect(show.output.contains("text        esa deuda no es mía"), "\(show.output)")
        #expect(show.output.contains("IN FORCE: paused by dispute (debt LN-77), escalation \(disputeID), since "), "\(show.output)")

        // Refusals say what is wrong and exit non-zero.
        let noNote = try run(["escalations", "resolve", disputeID, "--by", "agent:maria", "--note", "  ", "--config", config])
        #expect(noNote.status != 0 && noNote.output.contains("say why in a note"), "\(noNote.output)")
        let missing = try run(["escalations", "resolve", "E-0000000000000000", "--by", "agent:maria", "--note", "x", "--config", config])
        #expect(missing.status == 1 && missing.output.contains("error (not_found): no escalation E-0000000000000000"), "\(missing.output)")
        #expect(try run(["escalations", "list", "--status", "closed", "--config", config]).output.contains("--status must be open, resolved or all; got closed"))

        let resolved = try run(["escalations", "resolve", disputeID, "--by", "agent:maria", "--note", "debt verified, letter sent", "--lift", "--config", config])
        #expect(resolved.status == 0, "\(resolved.output)")
        #expect(resolved.output.contains("\(disputeID) resolved by agent:maria at "), "\(resolved.output)")
        #expect(resolved.output.contains("lifted:\n  paused by dispute (debt LN-77)"), "\(resolved.output)")
        let again = try run(["escalations", "resolve", disputeID, "--by", "agent:jose", "--note", "again", "--config", config])
        #expect(again.status == 1 && again.output.contains("error (already_resolved): escalation \(disputeID) was already resolved by agent:maria"), "\(again.output)")

        let shown = try run(["escalations", "show", disputeID, "--config", config])
        #expect(shown.output.contains("lifted by agent:maria at "), "\(shown.output)")
        #expect(shown.output.contains("note        debt verified, letter sent"), "\(shown.output)")

        let open = try run(["escalations", "list", "--config", config])
        #expect(open.output.contains(hardshipID) && !open.output.contains(disputeID), "\(open.output)")
        let json = try run(["escalations", "list", "--status", "resolved", "--format", "json", "--config", config])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any], "\(json.output)")
        let items = try #require(object["escalations"] as? [[String: Any]])
        #expect(items.count == 1)
        #expect(items.first?["id"] as? String == disputeID)
        #expect(items.first?["resolved_by"] as? String == "agent:maria")
        #expect(items.first?["lifted_holds"] as? Bool == true)
        #expect(items.first?["overdue"] as? Bool == false)
        #expect(try await store.events(EventFilter(kinds: [.escalationResolved, .holdChanged])).map(\.event.kind) == [.escalationResolved, .holdChanged])
    }

    /// `rules check` reads the holds replies set, as the worker does, and names the one that pauses the job.
    @Test func rulesCheckNamesTheReplyPauseThatSuppressesACollectionJob() async throws {
        let harness = try Harness()
        let config = try writeConfig(harness)
        let store = try SQLiteContactLog(path: harness.configuration.contactLogPath)
        let now = Date()
        _ = try await store.append([ContactEvent(jobID: "ESC-0", contactID: "C-ESC", kind: .sent, at: now.addingTimeInterval(-7 * 86_400), channel: .sms,
                                                 template: "payment-reminder", address: "+573001234567", debtID: "LN-77")])
        let dispute = try await recordReply(store, id: "SM-esc-1", from: "+573001234567", body: "esa deuda no es mía", at: now.addingTimeInterval(-2 * 3600),
                                            intents: ["dispute"], label: "upset", score: -0.6)
        let disputeID = try #require(dispute.escalations.first?.id)
        let job = #"{"id": "ESC-2", "template": "payment-reminder", "channels": ["sms"], "contact": {"id": "C-ESC", "phone": "+573001234567"}, "debt_id": "LN-77", "data": {"amount_due": "1", "currency": "COP", "due_date": "2026-12-01", "pay_link": "https://p"}}"#
        let paused = harness.directory.appendingPathComponent("paused.json").path
        try job.write(toFile: paused, atomically: true, encoding: .utf8)
        let other = harness.directory.appendingPathComponent("other.json").path
        try job.replacingOccurrences(of: "LN-77", with: "LN-99").write(toFile: other, atomically: true, encoding: .utf8)
        let transactional = harness.directory.appendingPathComponent("transactional.json").path
        try job.replacingOccurrences(of: #""debt_id""#, with: #""category": "transactional", "debt_id""#).write(toFile: transactional, atomically: true, encoding: .utf8)

        let check = try run(["rules", "check", paused, "--config", config])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("hold      paused by dispute (debt LN-77), escalation \(disputeID), since "), "\(check.output)")
        #expect(check.output.contains("decision  suppress (paused): collection paused by dispute (debt LN-77), escalation \(disputeID), since "), "\(check.output)")
        #expect(check.output.contains("until a person resolves it: replied \"esa deuda no es mía\" [rule reply-dispute]"), "\(check.output)")
        // Another debt of the same contact, and a transactional message, are not paused; the hold is named with why.
        let otherDebt = try run(["rules", "check", other, "--config", config])
        #expect(otherDebt.output.contains("(does not apply: debt LN-77 is not this job's debt LN-99)"), "\(otherDebt.output)")
        #expect(otherDebt.output.contains("decision  send now on sms"), "\(otherDebt.output)")
        let notPaused = try run(["rules", "check", transactional, "--config", config])
        #expect(notPaused.output.contains("(does not apply: transactional messages are not paused)"), "\(notPaused.output)")
        #expect(notPaused.output.contains("decision  send now on sms"), "\(notPaused.output)")

        // A wrong-number reply blocks its address: that channel is unreachable with the block's sentence, the next one is used.
        _ = try await store.append([ContactEvent(jobID: "ESC-9", contactID: "C-ESC-3", kind: .sent, at: now.addingTimeInterval(-86_400), channel: .sms,
                                                 template: "payment-reminder", address: "+573005550000", debtID: "LN-3")])
        _ = try await recordReply(store, id: "SM-esc-9", from: "+573005550000", body: "número equivocado", at: now.addingTimeInterval(-3600),
                                  intents: ["wrong_number"], label: "neutral", score: 0)
        let blockedJob = harness.directory.appendingPathComponent("blocked.json").path
        try #"{"id": "ESC-4", "template": "payment-reminder", "channels": ["sms", "email"], "contact": {"id": "C-ESC-3", "phone": "+573005550000", "email": "c3@example.com"}, "debt_id": "LN-3", "data": {"amount_due": "1", "currency": "COP", "due_date": "2026-12-01", "pay_link": "https://p"}}"#
            .write(toFile: blockedJob, atomically: true, encoding: .utf8)
        let blocked = try run(["rules", "check", blockedJob, "--config", config])
        #expect(blocked.output.contains("hold      +573005550000 blocked by wrong_number, escalation E-"), "\(blocked.output)")
        #expect(blocked.output.contains("sms       unreachable: +573005550000 blocked by wrong_number"), "\(blocked.output)")
        #expect(blocked.output.contains("decision  send now on email"), "\(blocked.output)")
        // A job claiming to be the gateway's own answer to a reply, which no reply asked for, is refused as the worker refuses it.
        let fakeAnswer = harness.directory.appendingPathComponent("answer.json").path
        try job.replacingOccurrences(of: #""debt_id""#, with: #""category": "reply", "debt_id""#).write(toFile: fakeAnswer, atomically: true, encoding: .utf8)
        let answer = try run(["rules", "check", fakeAnswer, "--config", config])
        #expect(answer.output.contains("decision  suppress (not_an_answer): category reply is for the gateway's own answers"), "\(answer.output)")

        let resolved = try run(["escalations", "resolve", disputeID, "--by", "agent:maria", "--note", "debt verified, letter sent", "--lift", "--config", config])
        #expect(resolved.status == 0, "\(resolved.output)")
        let after = try run(["rules", "check", paused, "--config", config])
        #expect(!after.output.contains("hold ") && after.output.contains("decision  send now on sms"), "\(after.output)")
    }
}
