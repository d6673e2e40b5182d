import Foundation
import GatewayCore
import Testing
@testable import ContactLog

func event(_ job: String?, _ kind: EventKind, attempt: Int = 1, contact: String = "C-1") -> ContactEvent {
    ContactEvent(jobID: job, contactID: contact, kind: kind, at: Date(timeIntervalSince1970: 1_796_000_000), attempt: attempt,
                 channel: .sms, template: "payment-reminder", tone: "neutral", provider: "sandbox", body: "Hola")
}

/// The bytes each event's hash covers and the hash itself, as every log already written has them.
/// (ChainTests in ContactLogTests checks the chain in SQLite and PostgreSQL.)
@Suite struct EventChainTests {
    @Test func canonicalBytesAreUnambiguous() {
        // A value that looks like the next field must not hash like two fields.
        var a = event("J", .sent)
        a.body = "x\nreason=2:ok"
        var b = event("J", .sent)
        b.body = "x"
        b.reason = "ok"
        #expect(EventChain.hash(previous: EventChain.genesis, values: EventChain.values(a))
                != EventChain.hash(previous: EventChain.genesis, values: EventChain.values(b)))
        var c = event("J", .sent)
        c.body = ""
        var d = event("J", .sent)
        d.body = nil
        #expect(EventChain.canonical(EventChain.values(c)) != EventChain.canonical(EventChain.values(d)))
    }

    @Test func hashIsPinnedToAnIndependentComputation() {
        // The format is a contract with every log already written: computed with Python's hashlib
        // over "0"*64 followed by name=<byte count>:<bytes> (or name=-) lines.
        let values: [String?] = ["J-1", "C-1", nil, nil, "sent", "2026-11-24T10:00:00.000Z", "1", "sms", "payment-reminder", "firm", nil,
                                 "twilio", "SM1", nil, "accepted by twilio as SM1", "Hola Ana, ₡12 500 vence hoy.", "+50688887777", "1-0", nil]
        #expect(EventChain.hash(previous: EventChain.genesis, values: values) == "5959ac35ac67f7ea9cd06b4d198a89798c3d0d0171403ace41b222cebd5ce695")
        #expect(String(decoding: EventChain.canonical(values), as: UTF8.self).hasPrefix("job_id=3:J-1\ncontact_id=3:C-1\ndebt_id=-\n"))
        // `job`, added later, is left out when NULL: every event written before it keeps its hash.
        #expect(EventChain.hash(previous: EventChain.genesis, values: values + [nil]) == "5959ac35ac67f7ea9cd06b4d198a89798c3d0d0171403ace41b222cebd5ce695")
    }

    @Test func theJobOnADispatchingEventIsCoveredByItsHash() {
        // Computed with Python's hashlib as above, with a `job=<byte count>:<bytes>` line last.
        let values: [String?] = ["J-1", "C-1", nil, nil, "dispatching", "2026-11-24T10:00:00.000Z", "1", "sms", "payment-reminder", "firm", nil,
                                 "twilio", nil, nil, "sending through twilio", "Hola Ana, ₡12 500 vence hoy.", "+50688887777", "1-0",
                                 #"{"tone_rule":"default"}"#, #"{"id": "J-1"}"#]
        #expect(EventChain.hash(previous: EventChain.genesis, values: values) == "9fe81390378357056b8e29231f1ca239b75aa23265ffcb4bffb6391072eff293")
        var dispatching = event("J-1", .dispatching)
        dispatching.job = Array(#"{"id": "J-1"}"#.utf8)
        var altered = dispatching
        altered.job = Array(#"{"id": "J-2"}"#.utf8)
        var without = dispatching
        without.job = nil
        let hashes = [dispatching, altered, without].map { EventChain.hash(previous: EventChain.genesis, values: EventChain.values($0)) }
        #expect(Set(hashes).count == 3)
        #expect(EventChain.values(dispatching).count == EventChain.columns.count)
    }
}
