import ContactLog
import Conversations
import Foundation
import GatewayCore
import Logging
import Replies
import Testing
import TestSupport
@testable import RedisQueue
@testable import Worker

/// Replies acted on, end to end: a running gateway (sandbox provider, real Redis, SQLite log) and
/// the reply desk the webhooks use, sharing its stream and log.
@Suite struct ReplyActionsEndToEndTests {
    static let lexicons: RepliesStore? = try? RepliesStore(directory: repositoryRoot.appendingPathComponent("config/replies").path)

    func desk(_ harness: Harness, escalations: String) async throws -> ReplyDesk {
        ReplyDesk(store: try await harness.log(), lexicons: Self.lexicons, policy: .standard,
                  intake: JobIntake(client: harness.redis, stream: harness.configuration.stream, prefix: TestRedis.unique("accepted") + ":"),
                  escalations: StreamOnce(client: harness.redis, stream: escalations, prefix: escalations + ":published:"),
                  timeZone: TimeZone(identifier: "America/Costa_Rica")!, logger: Harness.logger)
    }

    func reply(_ id: String, from: String, _ body: String, at: Date = Date(), channel: Channel = .sms) -> InboundMessage {
        InboundMessage(provider: "twilio", messageID: id, from: from, to: "+15005550006", body: body, at: at, raw: "{}", channel: channel)
    }

    func smsTo(_ harness: Harness, _ phone: String) -> [String] {
        harness.outbox().filter { ($0["to"] as? String) == phone }.compactMap { $0["body"] as? String }
    }

    @Test func anOptOutReplyStopsTheNextJobAtOnceWithOneConfirmationEvenWhenTheWebhookComesTwice() async throws {
        let harness = try Harness { $0.concurrency = 3 }
        let phone = "+50688881111"
        try await harness.running { _ in
            try await harness.enqueue(job("OPT-1", phone: phone))
            #expect(try await harness.waitForOutcome(job: "OPT-1").kind == .sent)
            let desk = try await desk(harness, escalations: TestRedis.unique("escalations"))
            let stop = reply("SM-opt-1", from: phone, "ya no me manden mensajes por favor")
            let first = try await desk.handle(stop)
            let again = try await desk.handle(stop)   // the provider delivers the webhook twice
            #expect(first.recorded && !again.recorded)
            #expect(first.reading.intents.contains("opt_out"))
            #expect(first.answers.count == 1 && again.answers == first.answers)
            let confirmation = try #require(first.answers.first)
            #expect(try await harness.waitForOutcome(job: confirmation).kind == .sent)
            // The next collection job, picked up by any of the three lanes, is held back by the opt-out.
            try await harness.enqueue(job("OPT-2", phone: phone).replacingOccurrences(of: "C-OPT-2", with: "C-OPT-1"))
            let next = try await harness.waitForOutcome(job: "OPT-2")
            #expect(next.kind == .suppressed && next.reason == "opted_out")
            // A job that only claims to be an answer does not get past the opt-out.
            try await harness.enqueue(#"""
                {"id": "FORGED-1", "template": "opt-out-confirmation", "channels": ["sms"], "category": "reply",
                 "contact": {"id": "C-OPT-1", "phone": "\#(phone)", "locale": "es"}}
                """#)
            let forged = try await harness.waitForOutcome(job: "FORGED-1")
            #expect(forged.kind == .suppressed && forged.reason == "not_an_answer")
        }
        let texts = smsTo(harness, phone)
        #expect(texts.count == 2, "the reminder and one confirmation: \(texts)")
        #expect(texts.last?.hasPrefix("Confirmado") == true)
        #expect(try await harness.log().optOuts(["C-OPT-1"])["C-OPT-1"]?.map(\.channel) == [.sms])
    }

    /// TCPA consent is the number's: after a STOP from it, a contact id the gateway has never written
    /// to at that number gets nothing either, until an opt-in comes from the number.
    @Test func anOptOutHoldsTheNumberForContactsToComeUntilAnOptInFromIt() async throws {
        let harness = try Harness()
        let phone = "+50688885555"
        try await harness.running { _ in
            try await harness.enqueue(job("NUM-1", phone: phone))
            #expect(try await harness.waitForOutcome(job: "NUM-1").kind == .sent)
            let desk = try await desk(harness, escalations: TestRedis.unique("escalations"))
            let stop = try await desk.handle(reply("SM-num-1", from: phone, "STOP"))
            #expect(stop.reading.intents == ["opt_out"])
            try await harness.enqueue(job("NUM-2", phone: phone))   // contact C-NUM-2, never texted
            let held = try await harness.waitForOutcome(job: "NUM-2")
            #expect(held.kind == .suppressed && held.reason == "opted_out")
            #expect(held.detail?.contains("\(phone) replied \"STOP\"") == true && held.detail?.contains("for every contact at it") == true)
            let back = try await desk.handle(reply("SM-num-2", from: phone, "UNSTOP"))
            #expect(back.reading.intents == ["opt_in"])
            try await harness.enqueue(job("NUM-3", phone: phone))
            #expect(try await harness.waitForOutcome(job: "NUM-3").kind == .sent)
            try await harness.enqueue(job("NUM-4", phone: phone).replacingOccurrences(of: "C-NUM-4", with: "C-NUM-1"))
            #expect(try await harness.waitForOutcome(job: "NUM-4").kind == .sent, "the contact's own opt-out, set by the STOP, is taken back too")
            // Another opt-out, and the customer consents again on a call: a person lifts the number's hold, saying who and why.
            _ = try await desk.handle(reply("SM-num-3", from: phone, "ya no me escriban"))
            let people = AddressOptOuts(store: try await harness.log())
            #expect(try await people.inForce(phone, at: Date()).count == 1)
            await #expect(throws: AddressOptOuts.Failure.self) { try await people.lift(phone, by: "compliance:ana", note: " ", at: Date()) }
            // A mark a person set on a contact texted at the number stays when the reply's are lifted.
            try await harness.log().setOptOut(OptOut(contactID: "C-NUM-3", channel: .email, kind: .optOut, setBy: "compliance:bo", setAt: Date(), reason: "asked on a call"))
            let lifted = try await people.lift(phone, by: "compliance:ana", note: "misread: about the fee", at: Date())
            #expect(lifted.holds.map(\.liftedBy) == ["compliance:ana"])
            // The same reply opted out the contacts it answered (C-NUM-1 and C-NUM-3 were texted at the number): lifted with it.
            #expect(lifted.marks.map { "\($0.contactID)/\($0.channel?.rawValue ?? "*")" } == ["C-NUM-1/sms", "C-NUM-3/sms"])
            #expect(try await people.inForce(phone, at: Date()).isEmpty)
            #expect(try await harness.log().optOuts(["C-NUM-1", "C-NUM-3"]).mapValues { $0.map(\.setBy) } == ["C-NUM-3": ["compliance:bo"]])
            await #expect(throws: AddressOptOuts.Failure.self) { try await people.lift(phone, by: "compliance:ana", note: "again", at: Date()) }
            try await harness.enqueue(job("NUM-5", phone: phone))
            #expect(try await harness.waitForOutcome(job: "NUM-5").kind == .sent)
            try await harness.enqueue(job("NUM-6", phone: phone).replacingOccurrences(of: "C-NUM-6", with: "C-NUM-1"))
            #expect(try await harness.waitForOutcome(job: "NUM-6").kind == .sent, "the contact's own opt-out from the same reply is lifted with the number's")
        }
        let changes = try await harness.log().events(EventFilter(kinds: [.holdChanged])).map(\.event)
        #expect(changes.contains { $0.reason == "lifted" && $0.address == phone })
        let removed = try await harness.log().events(EventFilter(kinds: [.optIn])).map(\.event).filter { $0.detail?.contains("taken back by compliance:ana") == true }
        #expect(removed.compactMap(\.contactID).sorted() == ["C-NUM-1", "C-NUM-3"], "each contact mark taken back is recorded, with who: \(removed)")
    }

    /// A job's e-mail in capitals and the customer's reply from the same mailbox in lower case are one
    /// address: the opt-out reaches the contact.
    @Test func anEMailOptOutReachesAContactWhoseJobWroteTheAddressInCapitals() async throws {
        let harness = try Harness()
        let email = #"""
            {"id": "EML-1", "template": "payment-reminder", "channels": ["email"],
             "contact": {"id": "C-EML-1", "name": "Ana Mora", "email": "Ana.Mora@Example.COM", "locale": "es-CR"},
             "debt_id": "LN-77", "data": {"amount_due": "125.50", "currency": "USD", "due_date": "2026-12-01", "pay_link": "https://pay.example/x"}}
            """#
        try await harness.running { _ in
            try await harness.enqueue(email)
            let sent = try await harness.waitForOutcome(job: "EML-1")
            #expect(sent.kind == .sent && sent.address == "ana.mora@example.com")
            let desk = try await desk(harness, escalations: TestRedis.unique("escalations"))
            let stop = try await desk.handle(reply("SG-eml-1", from: "ana.mora@example.com", "please stop emailing me", channel: .email))
            #expect(stop.reading.intents.contains("opt_out"))
            #expect(stop.answers.count == 1, "matched to C-EML-1, so one confirmation")
            try await harness.enqueue(email.replacingOccurrences(of: #""id": "EML-1""#, with: #""id": "EML-2""#))
            let held = try await harness.waitForOutcome(job: "EML-2")
            #expect(held.kind == .suppressed && held.reason == "opted_out")
        }
        #expect(try await harness.log().optOuts(["C-EML-1"])["C-EML-1"]?.map(\.channel) == [.email])
    }

    @Test func aDisputePausesCollectionNotTransactionalUntilAPersonResolvesIt() async throws {
        let harness = try Harness()
        let phone = "+50688882222"
        let escalations = TestRedis.unique("escalations")
        try await harness.running { _ in
            try await harness.enqueue(job("DSP-1", phone: phone))
            #expect(try await harness.waitForOutcome(job: "DSP-1").kind == .sent)
            let desk = try await desk(harness, escalations: escalations)
            let dispute = reply("SM-dsp-1", from: phone, "Esa deuda no es mía, yo nunca saqué esa tarjeta")
            let outcome = try await desk.handle(dispute)
            _ = try await desk.handle(dispute)
            #expect(outcome.reading.intents.contains("dispute"))
            let escalation = try #require(outcome.escalations.first)
            // Published once on the escalation stream, with the contract's fields.
            let entries = try await harness.redis.command(["XRANGE", escalations, "-", "+"])
            let published = try StreamConsumer.entries(entries.array ?? []).map { $0.fields.mapValues { String(decoding: $0, as: UTF8.self) } }
            #expect(published.count == 1)
            #expect(published.first?["id"] == escalation && published.first?["contact"] == "C-DSP-1" && published.first?["debt"] == "LN-77")
            #expect(published.first?["priority"] == "high" && published.first?["intents"]?.contains("dispute") == true)

            let debt = job("DSP-2", phone: phone).replacingOccurrences(of: "C-DSP-2", with: "C-DSP-1")
            try await harness.enqueue(debt)
            let paused = try await harness.waitForOutcome(job: "DSP-2")
            #expect(paused.kind == .suppressed && paused.reason == "paused")
            #expect(paused.detail?.contains("paused by dispute (debt LN-77), escalation \(escalation)") == true)
            try await harness.enqueue(#"""
                {"id": "DSP-PAID", "template": "payment-received", "channels": ["sms"], "category": "transactional", "debt_id": "LN-77",
                 "contact": {"id": "C-DSP-1", "name": "Ana Mora", "phone": "\#(phone)", "locale": "es-CR"},
                 "data": {"amount_paid": "125.50", "currency": "USD", "payment_date": "2026-11-24", "reference": "PAY-1"}}
                """#)
            #expect(try await harness.waitForOutcome(job: "DSP-PAID").kind == .sent)

            let people = EscalationDesk(store: try await harness.log())
            #expect(try await people.list(status: .open).map(\.id) == [escalation])
            let resolved = try await people.resolve(escalation, by: "agent.ana", note: "debt verified, validation letter sent", lift: true, at: Date())
            #expect(resolved.lifted.map(\.intent) == ["dispute"])
            await #expect(throws: EscalationDesk.Failure.self) {
                _ = try await people.resolve(escalation, by: "agent.bo", note: "again", lift: true, at: Date())
            }
            try await harness.enqueue(job("DSP-3", phone: phone).replacingOccurrences(of: "C-DSP-3", with: "C-DSP-1"))
            #expect(try await harness.waitForOutcome(job: "DSP-3").kind == .sent)
        }
        let resolvedEvents = try await harness.log().events(EventFilter(kinds: [.escalationResolved, .holdChanged])).map(\.event)
        #expect(resolvedEvents.map(\.kind) == [.escalationResolved, .holdChanged])
        #expect(resolvedEvents.first?.detail?.contains("resolved by agent.ana: debt verified") == true)
    }

    /// config/reply-actions.yml edited while the gateway runs: the next reply is acted on by the edit.
    @Test func anEditedReplyActionsFileIsActedOnWithoutARestart() async throws {
        let harness = try Harness()
        let phone = "+50688887770"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("reply-actions-\(UUID().uuidString).yml").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "intents: {dispute: {pause: none, escalate: true}}\n".write(toFile: file, atomically: true, encoding: .utf8)
        // Looked at on every reply (interval 0): the desk's own look takes the edit.
        let source = try ReplyPolicySource(path: file, interval: 0)
        try await harness.running { _ in
            try await harness.enqueue(job("RA-1", phone: phone))
            #expect(try await harness.waitForOutcome(job: "RA-1").kind == .sent)
            var desk = try await desk(harness, escalations: TestRedis.unique("escalations"))
            desk.policySource = source
            let first = try await desk.handle(reply("SM-ra-1", from: phone, "Esa deuda no es mía, yo nunca saqué esa tarjeta"))
            #expect(first.reading.intents.contains("dispute") && first.escalations.count == 1)
            try await harness.enqueue(job("RA-2", phone: phone).replacingOccurrences(of: "C-RA-2", with: "C-RA-1"))
            #expect(try await harness.waitForOutcome(job: "RA-2").kind == .sent)

            try "intents: {dispute: {pause: debt, escalate: true}}\n".write(toFile: file, atomically: true, encoding: .utf8)
            let second = try await desk.handle(reply("SM-ra-2", from: phone, "Les repito que esa deuda no es mía, nunca saqué esa tarjeta"))
            #expect(second.reading.intents.contains("dispute"))
            try await harness.enqueue(job("RA-3", phone: phone).replacingOccurrences(of: "C-RA-3", with: "C-RA-1"))
            let paused = try await harness.waitForOutcome(job: "RA-3")
            #expect(paused.kind == .suppressed && paused.reason == "paused")
        }
    }

    @Test func aPromisePauseLiftsAtItsDatePlusGrace() async throws {
        let harness = try Harness()
        let phone = "+50688883333"
        let monday = at("2026-12-07T15:00:00Z")   // 09:00 in Costa Rica
        let clock = TestClock(monday)
        try await harness.running(clock: { clock.now }) { _ in
            try await harness.enqueue(job("PRM-1", phone: phone))
            #expect(try await harness.waitForOutcome(job: "PRM-1").kind == .sent)
            let desk = try await desk(harness, escalations: TestRedis.unique("escalations"))
            let promise = try await desk.handle(reply("SM-prm-1", from: phone, "el viernes le pago los 50 mil", at: monday))
            #expect(promise.reading.intents.contains("promise_to_pay"))
            // Friday 2026-12-11 in Costa Rica, plus the standard 3 days of grace: Monday 2026-12-14 00:00 local.
            #expect(promise.reading.promiseDate == at("2026-12-11T06:00:00Z"))
            clock.set(at("2026-12-14T05:59:00Z"))
            try await harness.enqueue(job("PRM-2", phone: phone).replacingOccurrences(of: "C-PRM-2", with: "C-PRM-1"))
            let paused = try await harness.waitForOutcome(job: "PRM-2")
            #expect(paused.kind == .suppressed && paused.reason == "paused")
            #expect(paused.detail?.contains("until 2026-12-14T06:00:00") == true)
            clock.set(at("2026-12-14T06:00:00Z"))
            try await harness.enqueue(job("PRM-3", phone: phone).replacingOccurrences(of: "C-PRM-3", with: "C-PRM-1"))
            #expect(try await harness.waitForOutcome(job: "PRM-3").kind == .sent)
        }
    }

    /// "El viernes" is Friday where the customer is: the zone of the number that texted, not the
    /// rules' default zone; in a country with several, the one where that Friday ends last.
    @Test func aPromisedDayIsReadInTheSendersZone() async throws {
        let costaRica = TimeZone(identifier: "America/Costa_Rica")!
        let monday = at("2026-12-07T15:00:00Z")
        func zone(_ from: String, _ channel: Channel = .sms) -> String {
            ReplyDesk.promiseZone(for: reply("SM-zone", from: from, "el viernes le pago", at: monday, channel: channel), default: costaRica).identifier
        }
        #expect(zone("+50688883333") == "America/Costa_Rica")
        #expect(zone("+573001234567") == "America/Bogota")
        #expect(zone("+51912345678") == "America/Lima")
        #expect(zone("+5215512345678") == "America/Tijuana")
        #expect(zone("+14155550100") == "Pacific/Honolulu")
        #expect(zone("ana@example.com", .email) == "America/Costa_Rica")
        #expect(zone("not a number") == "America/Costa_Rica")

        let harness = try Harness()
        let desk = try await desk(harness, escalations: TestRedis.unique("escalations"))
        // Friday 2026-12-11 begins at 05:00 UTC in Bogotá (06:00 in Costa Rica).
        #expect(desk.read(reply("SM-co", from: "+573001234567", "el viernes le pago los 50 mil", at: monday)).promiseDate == at("2026-12-11T05:00:00Z"))
        #expect(desk.read(reply("SM-cr", from: "+50688883333", "el viernes le pago los 50 mil", at: monday)).promiseDate == at("2026-12-11T06:00:00Z"))
    }

    @Test func aPromiseKeptByAPaymentReceivedJobDoesNotLiftByItself() async throws {
        let harness = try Harness()
        let phone = "+50688883334"
        let monday = at("2026-12-07T15:00:00Z")
        let clock = TestClock(monday)
        try await harness.running(clock: { clock.now }) { _ in
            try await harness.enqueue(job("KPT-1", phone: phone))
            #expect(try await harness.waitForOutcome(job: "KPT-1").kind == .sent)
            let desk = try await desk(harness, escalations: TestRedis.unique("escalations"))
            let promise = try await desk.handle(reply("SM-kpt-1", from: phone, "el viernes le pago los 50 mil", at: monday))
            #expect(promise.reading.promiseDate != nil)
            try await harness.enqueue(#"""
                {"id": "KPT-PAID", "template": "payment-received", "channels": ["sms"], "category": "transactional", "debt_id": "LN-77",
                 "contact": {"id": "C-KPT-1", "name": "Ana Mora", "phone": "\#(phone)", "locale": "es-CR"},
                 "data": {"amount_paid": "50000", "currency": "CRC", "payment_date": "2026-12-11", "reference": "PAY-9"}}
                """#)
            #expect(try await harness.waitForOutcome(job: "KPT-PAID").kind == .sent)
            // Long after the promised day plus grace, collection of the debt stays paused: the promise was kept.
            clock.set(at("2026-12-20T15:00:00Z"))
            try await harness.enqueue(job("KPT-2", phone: phone).replacingOccurrences(of: "C-KPT-2", with: "C-KPT-1"))
            let paused = try await harness.waitForOutcome(job: "KPT-2")
            #expect(paused.kind == .suppressed && paused.reason == "paused")
            #expect(paused.detail?.contains("promise kept (job KPT-PAID (payment-received))") == true, "\(paused.detail ?? "")")
        }
        let kept = try await harness.log().events(EventFilter(kinds: [.holdChanged])).map(\.event)
        #expect(kept.map(\.reason) == ["promise_kept"])
    }

    @Test func payingOffTheDebtIsNoOptOutButAPersonChecksTheStopWord() async throws {
        let harness = try Harness()
        let phone = "+50688883335"
        try await harness.running { _ in
            try await harness.enqueue(job("CNL-1", phone: phone))
            #expect(try await harness.waitForOutcome(job: "CNL-1").kind == .sent)
            let desk = try await desk(harness, escalations: TestRedis.unique("escalations"))
            let payoff = try await desk.handle(reply("SM-cnl-1", from: phone, "Voy a cancelar el saldo total el viernes"))
            #expect(!payoff.reading.intents.contains("opt_out"))
            #expect(payoff.reading.reviews == ["possible_opt_out"] && payoff.escalations.count == 1)
            try await harness.enqueue(job("CNL-2", phone: phone).replacingOccurrences(of: "C-CNL-2", with: "C-CNL-1"))
            let next = try await harness.waitForOutcome(job: "CNL-2")
            #expect(next.kind == .sent || next.reason == "paused", "not opted out: \(next.reason ?? "")")
        }
        #expect(try await harness.log().optOuts(["C-CNL-1"]).isEmpty)
    }

    @Test func aWrongNumberBlocksThatNumberForEveryContactUntilCleared() async throws {
        let harness = try Harness()
        let phone = "+50688884444"
        try await harness.running { _ in
            try await harness.enqueue(job("WRN-1", phone: phone))
            #expect(try await harness.waitForOutcome(job: "WRN-1").kind == .sent)
            let desk = try await desk(harness, escalations: TestRedis.unique("escalations"))
            let wrong = try await desk.handle(reply("SM-wrn-1", from: phone, "Número equivocado, no conozco a esa persona"))
            #expect(wrong.reading.intents.contains("wrong_number"))
            // Another contact (never texted) at the same number: blocked too, transactional included.
            try await harness.enqueue(job("WRN-2", phone: phone))
            let blocked = try await harness.waitForOutcome(job: "WRN-2")
            #expect(blocked.kind == .suppressed && blocked.reason == "no_reachable_channel")
            #expect(blocked.detail?.contains("\(phone) blocked by wrong_number") == true)
            let escalation = try #require(wrong.escalations.first)
            _ = try await EscalationDesk(store: try await harness.log()).resolve(escalation, by: "agent.ana", note: "number confirmed with the customer", lift: true, at: Date())
            try await harness.enqueue(job("WRN-3", phone: phone))
            #expect(try await harness.waitForOutcome(job: "WRN-3").kind == .sent)
        }
    }

    @Test func aFreshReplyMoodChoosesTheToneAndTheLogSaysWhichSourceDid() async throws {
        let harness = try Harness()
        let phone = "+50688885555"
        let label = try await harness.running { _ in
            let calm = job("MOOD-1", phone: phone).replacingOccurrences(of: #"{"label": "upset", "score": -0.7}"#, with: #"{"label": "neutral", "score": 0.1}"#)
            try await harness.enqueue(calm)
            #expect(try await harness.waitForOutcome(job: "MOOD-1").kind == .sent)
            let desk = try await desk(harness, escalations: TestRedis.unique("escalations"))
            let worried = try await desk.handle(reply("SM-mood-1", from: phone, "perdí mi trabajo y no sé cómo voy a pagar, estoy muy preocupada"))
            #expect(worried.reading.intents.contains("hardship"))
            try await harness.enqueue(calm.replacingOccurrences(of: "MOOD-1", with: "MOOD-2").replacingOccurrences(of: "C-MOOD-2", with: "C-MOOD-1"))
            #expect(try await harness.waitForOutcome(job: "MOOD-2").kind == .sent)
            return worried.reading.label
        }
        let dispatching = try #require(try await harness.events(job: "MOOD-2").first { $0.kind == .dispatching })
        #expect(dispatching.data?.contains(#""tone_source":"reply""#) == true)
        #expect(dispatching.detail?.contains("tone empathetic (rule hardship-reply); sentiment \(label) from the contact's latest reply") == true)
        let first = try #require(try await harness.events(job: "MOOD-1").first { $0.kind == .dispatching })
        #expect(first.data?.contains(#""tone_source":"job""#) == true)
    }
}
