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
