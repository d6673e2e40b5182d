import Foundation
import Testing
@testable import GatewayCore

/// What one reply changes, decided without I/O: one line per case.
@Suite struct ReplyPlannerTests {
    static let at = Date(timeIntervalSince1970: 1_796_000_000)
    static let phone = "+50688887777"

    func message(_ body: String, channel: Channel = .sms, id: String = "SM-1") -> InboundMessage {
        InboundMessage(provider: "twilio", messageID: id, from: channel == .sms ? Self.phone : "ana@example.com", to: "+15005550006",
                       body: body, at: Self.at, raw: "{}", channel: channel)
    }

    func reading(_ intents: [String], label: String = "neutral", promise: Date? = nil) -> ReplyReading {
        var reading = ReplyReading(language: "es", label: label, score: 0, intents: intents, promiseDate: promise)
        reading.helpKeyword = intents.contains("help")
        return reading
    }

    @Test func theHelpTextAnswersOnlyAHelpKeyword() {
        var question = reading(["help"])
        question.helpKeyword = false   // "¿me pueden ayudar con una duda?" read as help, not the keyword
        let plan = ReplyPlanner.plan(message: message("¿me pueden ayudar con una duda?"), reading: question, match: ReplyMatch(contacts: [ana]), policy: .standard)
        #expect(plan.answers.isEmpty)
        #expect(self.plan(["help"]).answers.map(\.template) == ["reply-help"])
    }

    let ana = ReplyMatch.Contact(id: "C-1", debtID: "LN-1")

    func plan(_ intents: [String], match: ReplyMatch? = nil, promise: Date? = nil, channel: Channel = .sms, providerConfirms: Bool = false) -> ReplyPlan {
        ReplyPlanner.plan(message: message("texto", channel: channel), reading: reading(intents, promise: promise),
                          match: match ?? ReplyMatch(contacts: [ana]), policy: .standard, providerConfirms: providerConfirms)
    }

    func holds(_ plan: ReplyPlan) -> [Hold] { plan.writes.compactMap(\.record.hold) }

    @Test func anOptOutStopsTheReplysChannelForEveryContactAtTheAddressWithOneConfirmation() {
        let both = ReplyMatch(contacts: [ana, .init(id: "C-2", debtID: nil)])
        let result = plan(["opt_out"], match: both)
        #expect(result.setOptOuts.map(\.contactID) == ["C-1", "C-2"])
        #expect(result.setOptOuts.allSatisfy { $0.channel == .sms && $0.setBy == "reply:twilio:SM-1" })
        #expect(result.answers.map(\.template) == ["opt-out-confirmation"])
        #expect(result.writes.compactMap(\.record.answer).map(\.jobID) == result.answers.map(\.jobID))
        #expect(plan(["opt_out"], channel: .email).setOptOuts.map(\.channel) == [.email])
    }

    /// An opt-out is for the channel it came by and the channels it names, less those it says are
    /// welcome; texts said welcome spare the texts only when another channel is named.
    @Test(arguments: [
        // (arrived by, named, kept, opted out)
        (Channel.email, ["sms"], ["email"], [Channel.sms]),          // "stop texting me, email is fine", by e-mail
        (.email, [], ["email"], [.sms]),                               // "escríbanme solo al correo", by e-mail
        (.email, ["sms"], [], [.email, .sms]),                         // "please stop texting me", by e-mail
        (.sms, ["email"], ["sms"], [.email]),                          // "no me escriban al correo, por mensaje sí"
        (.sms, [], ["sms"], [.sms]),                                   // "ya no más mensajes, ok?": a weak welcome spares nothing
        (.sms, ["sms"], ["email"], [.sms]),                            // "STOP texting, email only"
        (.sms, [], [], [.sms]),                                        // "STOP"
        (.email, [], ["sms", "email"], [.sms]),                        // both said welcome: the texts' weak welcome spares nothing
    ] as [(Channel, [String], [String], [Channel])])
    func anOptOutIsForTheChannelsItNamesLessThoseItKeeps(arrived: Channel, named: [String], kept: [String], expected: [Channel]) {
        var optOut = reading(["opt_out"])
        optOut.optOutChannels = named
        optOut.keptChannels = kept
        #expect(ReplyPlanner.optOutChannels(optOut, arrivedBy: arrived) == expected)
        let result = ReplyPlanner.plan(message: message("texto", channel: arrived), reading: optOut, match: ReplyMatch(contacts: [ana]), policy: .standard)
        #expect(result.setOptOuts.map(\.channel) == expected)
        #expect(result.answers.map(\.channel) == [arrived], "one confirmation, by the channel the reply came by")
        // Already out of one of them: the other is still set, and one confirmation goes.
        let first = expected[0]
        let already = ReplyMatch(contacts: [ana], optOuts: ["C-1": [OptOut(contactID: "C-1", channel: first, kind: .optOut, setBy: "reply:twilio:SM-0", setAt: Self.at)]])
        let again = ReplyPlanner.plan(message: message("texto", channel: arrived), reading: optOut, match: already, policy: .standard)
        #expect(again.setOptOuts.map(\.channel) == Array(expected.dropFirst()))
        #expect(again.answers.count == (expected.count > 1 ? 1 : 0))
    }

    @Test func noSecondConfirmationWhenAlreadyOptedOutOrWhenTheProviderConfirmsItself() {
        let already = ReplyMatch(contacts: [ana], optOuts: ["C-1": [OptOut(contactID: "C-1", channel: .sms, kind: .optOut, setBy: "reply:twilio:SM-0", setAt: Self.at)]])
        #expect(plan(["opt_out"], match: already).answers.isEmpty)
        #expect(plan(["opt_out"], match: already).setOptOuts.isEmpty)
        let confirmed = plan(["opt_out"], providerConfirms: true)
        #expect(confirmed.answers.isEmpty && confirmed.setOptOuts.count == 1)
        #expect(confirmed.events[0].detail?.contains("confirms STOP keywords itself") == true)
    }

    @Test func anOptInLiftsOnlyAnOptOutAReplySet() {
        let marks = ["C-1": [OptOut(contactID: "C-1", channel: .sms, kind: .optOut, setBy: "reply:twilio:SM-0", setAt: Self.at),
                             OptOut(contactID: "C-1", channel: .email, kind: .optOut, setBy: "compliance:ana", setAt: Self.at)]]
        let result = plan(["opt_in"], match: ReplyMatch(contacts: [ana], optOuts: marks))
        #expect(result.liftOptOuts.map { "\($0.contactID) \($0.channel)" } == ["C-1 sms"])
        let byCompliance = ["C-1": [OptOut(contactID: "C-1", channel: .sms, kind: .optOut, setBy: "compliance:ana", setAt: Self.at)]]
        #expect(plan(["opt_in"], match: ReplyMatch(contacts: [ana], optOuts: byCompliance)).liftOptOuts.isEmpty)
    }

    @Test(arguments: [
        ("dispute", Hold.Scope.debt, "high", nil as TimeInterval?),
        ("lawyer", .contact, "high", nil),
        ("bankruptcy", .contact, "high", nil),
        ("cease_contact", .contact, "high", nil),
        ("paid", .debt, "normal", 7 * 86_400),
    ])
    func legalIntentsPauseAndEscalate(intent: String, scope: Hold.Scope, priority: String, lasts: TimeInterval?) throws {
        let result = plan([intent])
        let hold = try #require(holds(result).first)
        #expect(hold.kind == .pause && hold.scope == scope && hold.intent == intent)
        #expect(hold.until == lasts.map { Self.at.addingTimeInterval($0) })
        let escalation = try #require(result.escalations.first)
        #expect(escalation.priority == priority && escalation.intents == [intent] && escalation.holds == [hold.id])
        #expect(hold.escalationID == escalation.id)
        #expect(result.events.map(\.kind) == [.inbound, .escalation])
    }

    @Test func aDebtPauseForAContactWithoutDebtsPausesTheContact() {
        let result = plan(["dispute"], match: ReplyMatch(contacts: [.init(id: "C-9", debtID: nil)]))
        #expect(holds(result).map(\.scope) == [.contact])
    }

    @Test func aPromisePausesTheDebtUntilItsDatePlusGraceWithoutEscalating() {
        let friday = Self.at.addingTimeInterval(4 * 86_400)
        let result = plan(["promise_to_pay"], promise: friday)
        #expect(holds(result).map(\.until) == [friday.addingTimeInterval(3 * 86_400)])
        #expect(result.escalations.isEmpty)
        #expect(holds(plan(["promise_to_pay"])).isEmpty, "no date: nothing to pause until")
    }

    /// TCPA consent is the number's: an opt-out also holds the address, for contacts the gateway
    /// has not written to there yet, and for a sender it never wrote to.
    @Test func anOptOutHoldsTheAddressForEveryContactToComeOnceAndAnOptInFromItLiftsIt() throws {
        let result = plan(["opt_out"])
        let hold = try #require(holds(result).first)
        #expect(holds(result).count == 1)
        #expect(hold.kind == .optOut && hold.scope == .address && hold.address == Self.phone && hold.until == nil && hold.source == "twilio:SM-1")
        #expect(result.events[0].detail?.contains("\(Self.phone) opted out of sms for every contact at it") == true)
        // Nobody was ever texted at the number: the address is held all the same, without a confirmation.
        let stranger = plan(["opt_out"], match: ReplyMatch(contacts: []))
        #expect(holds(stranger).map(\.address) == [Self.phone] && stranger.answers.isEmpty && stranger.setOptOuts.isEmpty)
        // Already held: not again.
        #expect(holds(plan(["opt_out"], match: ReplyMatch(contacts: [ana], holds: [hold]))).isEmpty)
        // "escríbanme solo al correo" by e-mail: the e-mail stays welcome, so the mailbox is not held.
        var onlyEmail = reading(["opt_out"])
        onlyEmail.keptChannels = ["email"]
        let kept = ReplyPlanner.plan(message: message("escríbanme solo al correo", channel: .email), reading: onlyEmail, match: ReplyMatch(contacts: [ana]), policy: .standard)
        #expect(holds(kept).isEmpty && kept.setOptOuts.map(\.channel) == [.sms])
        // An opt-in from the address lifts it, at the version read; from elsewhere, or without the version, nothing.
        let optIn = plan(["opt_in"], match: ReplyMatch(contacts: [ana], holds: [hold], holdVersions: [hold.id: 3]))
        let lift = try #require(optIn.writes.first { $0.record.key == "hold:\(hold.id)" })
        #expect(lift.expect == .version(3) && lift.record.active == false && lift.record.hold?.liftedBy == "reply:twilio:SM-1")
        #expect(optIn.events.map(\.kind) == [.inbound, .holdChanged])
        var elsewhere = hold
        elsewhere.address = "+50688880000"
        #expect(plan(["opt_in"], match: ReplyMatch(contacts: [ana], holds: [elsewhere], holdVersions: [hold.id: 3])).writes.allSatisfy { $0.record.kind != .hold })
    }

    @Test func aWrongNumberBlocksTheAddressOnceForEveryContact() {
        let result = plan(["wrong_number"], match: ReplyMatch(contacts: [ana, .init(id: "C-2", debtID: nil)]))
        let blocks = holds(result).filter { $0.kind == .block }
        #expect(blocks.count == 1 && blocks[0].address == Self.phone && blocks[0].scope == .address)
        #expect(result.escalations.count == 2)
    }

    @Test func aPauseAlreadyInForceIsNotSetAgainAndAnUnknownSenderIsEscalatedWithoutAContact() {
        let existing = Hold(id: "H-old", kind: .pause, scope: .debt, intent: "dispute", contactID: "C-1", debtID: "LN-1", address: nil,
                            since: Self.at.addingTimeInterval(-60), until: nil, escalationID: "E-old", replyText: "no es mía", source: "twilio:SM-0")
        #expect(holds(plan(["dispute"], match: ReplyMatch(contacts: [ana], holds: [existing]))).isEmpty)
        let stranger = plan(["lawyer"], match: ReplyMatch(contacts: []))
        #expect(stranger.escalations.map(\.contactID) == [nil])
        #expect(holds(stranger).isEmpty)
        #expect(stranger.events.first?.detail?.contains("kept for review") == true)
    }

    @Test func hardshipEscalatesAndEveryReplyKeepsTheMood() {
        let result = plan(["hardship"])
        #expect(result.escalations.first?.priority == "normal")
        #expect(result.writes.compactMap(\.record.mood).map(\.intents) == [["hardship"]])
        #expect(plan([]).escalations.isEmpty && plan([]).writes.compactMap(\.record.mood).count == 1)
    }

    @Test func holdsApplyToTheirScopeUntilTheirDateOrALift() {
        var pause = Hold(id: "H-1", kind: .pause, scope: .debt, intent: "promise_to_pay", contactID: "C-1", debtID: "LN-1", address: nil,
                         since: Self.at, until: Self.at.addingTimeInterval(3600), escalationID: nil, replyText: "el viernes", source: "twilio:SM-1")
        let state = ContactStateSnapshot(holds: [pause])
        #expect(state.pause(contactID: "C-2", debtID: "LN-1", at: Self.at)?.id == "H-1")
        #expect(state.pause(contactID: "C-1", debtID: "LN-2", at: Self.at) == nil)
        #expect(state.pause(contactID: "C-1", debtID: "LN-1", at: Self.at.addingTimeInterval(3600)) == nil)
        pause.keptBy = "job PAID-1 (payment-received)"
        #expect(ContactStateSnapshot(holds: [pause]).pause(contactID: "C-1", debtID: "LN-1", at: Self.at.addingTimeInterval(7200)) != nil)
        pause.liftedAt = Self.at
        #expect(ContactStateSnapshot(holds: [pause]).pause(contactID: "C-1", debtID: "LN-1", at: Self.at) == nil)
    }

    @Test func stateWritesNeedTheVersionTheyRead() {
        let record = StateRecord(key: "k", kind: .mood, contactID: nil, debtID: nil, address: nil, source: nil, active: true, value: "{}", updatedAt: Self.at)
        #expect(StateWrite(record, expect: .absent).newVersion(current: nil) == 1)
        #expect(StateWrite(record, expect: .absent).newVersion(current: 1) == nil)
        #expect(StateWrite(record, expect: .version(3)).newVersion(current: 3) == 4)
        #expect(StateWrite(record, expect: .version(3)).newVersion(current: 4) == nil)
        #expect(StateWrite(record, expect: .any).newVersion(current: 7) == 8)
    }

    @Test func stateRowsRoundTripThroughTheirJSON() throws {
        let result = plan(["dispute"])
        for write in result.writes {
            switch write.record.kind {
            case .hold: #expect(write.record.hold != nil)
            case .escalation: #expect(try #require(write.record.escalation).id.hasPrefix("E-"))
            case .mood: #expect(write.record.mood?.label == "neutral")
            case .answer: #expect(write.record.answer != nil)
            }
        }
        let answer = ReplyAnswer(jobID: "answer-1", intent: "opt_out", template: "opt-out-confirmation", channel: .sms, address: Self.phone,
                                 contactID: "C-1", locale: "es", source: "twilio:SM-1", at: Self.at)
        let job = try JobDecoder(maxJobBytes: 65_536).decode(Array(answer.jobJSON.utf8)).get()
        #expect(job.category == .reply && job.contact.phone == Self.phone && job.channels == [.sms] && job.template == "opt-out-confirmation")
        #expect(job.expiresAt == Self.at.addingTimeInterval(3600))
    }
}

@Suite struct StateQueryTests {
    @Test func aLargeBatchIsReadInChunksThatCoverEveryValueOnce() {
        let query = StateQuery(kinds: [.hold, .mood], contactIDs: (0..<1200).map { "C-\($0)" }, debtIDs: (0..<700).map { "D-\($0)" },
                               addresses: ["+1"], activeOnly: true)
        let parts = query.chunked(500)
        #expect(parts.count == 3 + 2 + 1)
        #expect(parts.allSatisfy { $0.kinds == [.hold, .mood] && $0.activeOnly && $0.sqlConditions().arguments.count <= 500 })
        #expect(parts.flatMap { $0.contactIDs ?? [] } == query.contactIDs)
        #expect(parts.flatMap { $0.debtIDs ?? [] } == query.debtIDs)
        #expect(StateQuery(kinds: [.hold], contactIDs: ["C-1"]).chunked(500) == [StateQuery(kinds: [.hold], contactIDs: ["C-1"])])
        #expect(StateQuery(kinds: [.hold], contactIDs: []).sqlConditions().clause.contains("0 = 1"), "an empty list matches nothing, not everything")
    }
}

@Suite struct PossibleOptOutTests {
    @Test func aStopWordNotReadAsAnOptOutGoesToAPersonWithinHoursAndStopsNothing() throws {
        let at = Date(timeIntervalSince1970: 1_796_000_000)
        let message = InboundMessage(provider: "twilio", messageID: "SM-9", from: "+50688887777", to: "+15005550006",
                                     body: "quiero cancelar la deuda hoy", at: at, raw: "{}")
        var reading = ReplyReading(language: "es", label: "willing", score: 0.3, intents: [])
        reading.reviews = ["possible_opt_out"]
        let plan = ReplyPlanner.plan(message: message, reading: reading, match: ReplyMatch(contacts: [.init(id: "C-1", debtID: "LN-1")]), policy: .standard)
        let escalation = try #require(plan.escalations.first)
        #expect(escalation.intents == ["possible_opt_out"] && escalation.priority == "high" && escalation.dueBy == at.addingTimeInterval(4 * 3600))
        #expect(plan.setOptOuts.isEmpty && plan.answers.isEmpty && plan.writes.compactMap(\.record.hold).isEmpty)
        #expect(plan.events.first?.reason == "message", "the reply's intents stay what was read")
    }
}
