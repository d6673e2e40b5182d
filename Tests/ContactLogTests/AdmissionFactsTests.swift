@testable import ContactLog
import Foundation
import GatewayCore
import Testing
import TestSupport

/// The one read a batch makes before deciding (the same facts as the separate reads, from one
/// transaction on SQLite or one connection on PostgreSQL), and the one append of its outcomes.
@Suite struct AdmissionFactsTests {
    @Test(arguments: StoreKind.available) func oneReadAnswersWhatTheSeparateReadsAnswer(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        let log = store.log
        let now = Date(timeIntervalSince1970: 1_796_000_000)
        _ = try await log.append([event("J1", .received), event("J1", .dispatching), event("J1", .sent), event("J2", .received)])
        try await log.setOptOut(OptOut(contactID: "C-1", channel: .sms, kind: .optOut, setBy: "reply", setAt: now, reason: "STOP"))
        try await log.dropPushToken("tok-dead", contactID: "C-1", provider: "fcm", reason: "fcm_UNREGISTERED", at: now)
        let pause = Hold(id: "H-1", kind: .pause, scope: .debt, intent: "dispute", contactID: "C-1", debtID: "LN-1", address: nil,
                         since: now, until: nil, escalationID: "E-1", replyText: "no es mía", source: "twilio:SM-1")
        #expect(try await log.writeStates([StateWrite(.hold(pause, at: now), expect: .absent)], events: []))
        let query = StateQuery(kinds: [.hold, .mood, .answer], contactIDs: ["C-1", "C-2"], debtIDs: ["LN-1"], addresses: [], activeOnly: true)

        let facts = try await log.admissionFacts(AdmissionRequest(jobIDs: ["J1", "J2", "J3"], contactIDs: ["C-1", "C-2"], states: query,
                                                                  pushTokens: ["tok-dead", "tok-live"]))
        #expect(facts.jobStates == (try await log.jobStates(["J1", "J2", "J3"])))
        #expect(facts.jobStates["J1"]?.terminal == .sent && facts.jobStates["J3"] == nil)
        #expect(facts.optOuts == (try await log.optOuts(["C-1", "C-2"])))
        #expect(facts.optOuts["C-1"]?.map(\.channel) == [.sms])
        #expect(facts.states == (try await log.states(query)))
        #expect(facts.states.map(\.key).count == 1)
        #expect(facts.droppedTokens == ["tok-dead"])

        let nothing = try await log.admissionFacts(AdmissionRequest(jobIDs: [], contactIDs: [], states: nil, pushTokens: []))
        #expect(nothing.jobStates.isEmpty && nothing.optOuts.isEmpty && nothing.states.isEmpty && nothing.droppedTokens.isEmpty)
    }

    /// Lifting a reply's address opt-out takes back the contacts' marks that reply set on that
    /// channel, in the same transaction: all of it, or nothing when the hold changed meanwhile.
    @Test(arguments: StoreKind.available) func aStateWriteTakesBackTheMarksOneReplySet(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        let log = store.log
        let now = Date(timeIntervalSince1970: 1_796_000_000)
        // SM-1 opted out C-1 and C-5 (texts) and C-2 (texts and e-mail); SM-2 and a person set the others.
        for (contact, channel, setBy) in [("C-1", Channel.sms, "reply:twilio:SM-1"), ("C-2", .sms, "reply:twilio:SM-1"), ("C-2", .email, "reply:twilio:SM-1"),
                                          ("C-3", .sms, "reply:twilio:SM-2"), ("C-4", .sms, "compliance:bo"), ("C-5", .sms, "reply:twilio:SM-1")] {
            try await log.setOptOut(OptOut(contactID: contact, channel: channel, kind: .optOut, setBy: setBy, setAt: now, reason: "r"))
        }
        let hold = Hold(id: "O-1", kind: .optOut, scope: .address, intent: "opt_out", contactID: nil, debtID: nil, address: "+15551234567",
                        since: now, until: nil, escalationID: nil, replyText: "STOP", source: "twilio:SM-1")
        #expect(try await log.writeStates([StateWrite(.hold(hold, at: now), expect: .absent)], events: []))
        let lift = hold.lifted(at: now, by: "compliance:ana", note: "misread", version: 1, detail: "lifted")
        let marks = MarkRemoval(setBy: ["reply:twilio:SM-1"], channels: [.sms], by: "compliance:ana", reason: "address opt-out lifted: misread", at: now)
        // A write at a stale version changes nothing, marks included.
        let stale = hold.lifted(at: now, by: "compliance:ana", note: "misread", version: 7, detail: "lifted")
        #expect(try await log.writeStates([stale.write], events: [stale.event], removing: marks) == nil)
        #expect(try await log.optOuts(["C-1", "C-2", "C-3", "C-4", "C-5"]).values.map(\.count).reduce(0, +) == 6)
        let before = try await log.lastSequence()
        let removed = try #require(try await log.writeStates([lift.write], events: [lift.event], removing: marks))
        #expect(removed.map { "\($0.contactID)/\($0.channel?.rawValue ?? "*")" } == ["C-1/sms", "C-2/sms", "C-5/sms"])
        let left = try await log.optOuts(["C-1", "C-2", "C-3", "C-4", "C-5"]).mapValues { $0.map { "\($0.channel?.rawValue ?? "*") by \($0.setBy)" } }
        #expect(left == ["C-2": ["email by reply:twilio:SM-1"], "C-3": ["sms by reply:twilio:SM-2"], "C-4": ["sms by compliance:bo"]],
                "the e-mail refusal, another reply's and a person's marks stay")
        let events = try await log.events(EventFilter(afterSeq: before)).map(\.event)
        #expect(events.map(\.kind) == [.holdChanged, .optIn, .optIn, .optIn])
        #expect(events.dropFirst().allSatisfy { $0.detail?.contains("taken back by compliance:ana") == true })
        #expect(try await log.verifyChain().problem == nil)
    }

    /// A mark replaced after the reply set it (by a person, by a provider) is not the reply's to take back.
    @Test(arguments: StoreKind.available) func aMarkReplacedMeanwhileIsNotRemoved(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        let log = store.log
        let now = Date(timeIntervalSince1970: 1_796_000_000)
        let replaced = OptOut(contactID: "C-1", channel: .sms, kind: .optOut, setBy: "provider:twilio", setAt: now, reason: "twilio_21610")
        try await log.setOptOut(replaced)
        let event = ContactEvent.optOutRemoved(contactID: "C-1", channel: .sms, by: "compliance:ana", reason: "lifted", at: now)
        let writer = try #require(log as? any LogWriting)
        let result = try await writer.write([LogWrites.removeOptOut(contactID: "C-1", channel: .sms, setBy: "reply:twilio:SM-1", event: event)])
        #expect(result.changed == [false])
        #expect(try await log.optOuts(["C-1"])["C-1"]?.map(\.setBy) == ["provider:twilio"])
    }

    @Test(arguments: StoreKind.available) func outcomesOptOutsAndDeadTokensGoInOneAppend(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        let log = store.log
        let now = Date(timeIntervalSince1970: 1_796_000_000)
        _ = try await log.append([event("J1", .received), event("J1", .dispatching), event("J1", .sent), event("J2", .received), event("J2", .dispatching)])
        let unsubscribed = OptOut(contactID: "C-1", channel: .sms, kind: .optOut, setBy: "provider:twilio", setAt: now, reason: "twilio_21610: unsubscribed")
        let dead = DroppedToken(token: "tok-dead", contactID: "C-1", provider: "fcm", reason: "fcm_UNREGISTERED", at: now)
        let before = try await log.lastSequence()
        // J1 already has its outcome: that event is refused, the rest is written.
        let written = try await log.appendOutcomes([event("J1", .failed), event("J2", .failed)], optOuts: [unsubscribed], droppedTokens: [dead, dead])
        #expect(written == [false, true])
        let kinds = try await log.events(EventFilter(afterSeq: before)).map(\.event.kind)
        #expect(kinds == [.failed, .optOut, .tokenDropped], "one token_dropped for a token given twice")
        #expect(try await log.optOuts(["C-1"])["C-1"]?.first?.setBy == "provider:twilio")
        #expect(try await log.droppedPushTokens(["tok-dead"]) == ["tok-dead"])
        #expect(try await log.verifyChain().problem == nil)
    }
}
