import Foundation
import GatewayCore
import GRDB
import Testing
@testable import ContactLog

/// An SQLite contact log and a way around the gateway to it, as someone with the file would have.
struct TamperableSQLite {
    let log: SQLiteContactLog

    init() throws { log = try temporaryLog() }

    /// Runs SQL with the append-only triggers lifted, as an attacker with write access could.
    func tamper(_ sql: String) throws {
        let queue = try DatabaseQueue(path: log.path)
        try queue.write { db in
            try db.execute(sql: "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;")
            try db.execute(sql: sql)
            try db.execute(sql: SQLiteContactLog.noUpdateTrigger)
            try db.execute(sql: SQLiteContactLog.noDeleteTrigger)
        }
    }

    func execute(_ sql: String) throws {
        try DatabaseQueue(path: log.path).write { try $0.execute(sql: sql) }
    }
}

@Suite struct ChainTests {
    /// Ten events of several kinds, through every path that writes one. Returns their seqs
    /// (a refused append may leave a gap).
    @discardableResult
    func fill(_ log: SQLiteContactLog) async throws -> [Int64] {
        _ = try await log.append([event("J1", .received), event("J1", .dispatching), event("J1", .sent)])
        try await log.setOptOut(OptOut(contactID: "C-1", channel: .sms, kind: .optOut, setBy: "agent:maria", setAt: Date(timeIntervalSince1970: 1_796_000_100)))
        _ = try await log.append([event("J2", .received), event("J2", .invalid), event("J2", .failed)])   // the last is refused: no link made
        try await log.dropPushToken("tok", contactID: "C-1", provider: "fcm", reason: "fcm_UNREGISTERED", at: Date(timeIntervalSince1970: 1_796_000_200))
        _ = try await log.removeOptOut(contactID: "C-1", channel: .sms, by: "agent:maria", reason: "asked again", at: Date(timeIntervalSince1970: 1_796_000_300))
        _ = try await log.append([event("J3", .received), event("J3", .suppressed)])
        return try await log.events(EventFilter()).map(\.sequence)
    }

    @Test func anUntouchedLogVerifies() async throws {
        let store = try TamperableSQLite()
        try await fill(store.log)
        let report = try await store.log.verifyChain()
        #expect(report.problem == nil)
        #expect(report.checked == 10)
        #expect(report.anchor == EventChain.genesis)
        let last = try await store.log.events(EventFilter()).last
        #expect(report.head.count == 64 && last != nil)
    }

    @Test func anAlteredEventIsNamed() async throws {
        let store = try TamperableSQLite()
        let seqs = try await fill(store.log)
        try store.tamper("UPDATE events SET body = 'Hola Ana, nada pendiente' WHERE seq = \(seqs[2])")
        let problem = try #require(try await store.log.verifyChain().problem)
        #expect(problem.seq == seqs[2] && problem.kind == .altered)
        #expect(problem.message == "event \(seqs[2]) was altered: its contents no longer match its hash")
    }

    @Test func aDeletedEventIsNamedByTheOneAfterIt() async throws {
        let store = try TamperableSQLite()
        let seqs = try await fill(store.log)
        try store.tamper("DELETE FROM events WHERE seq = \(seqs[3])")
        let problem = try #require(try await store.log.verifyChain().problem)
        #expect(problem.seq == seqs[4] && problem.kind == .brokenLink)
    }

    @Test func reorderedEventsAreCaught() async throws {
        let store = try TamperableSQLite()
        let seqs = try await fill(store.log)
        let (a, b) = (seqs[5], seqs[6])
        // Swap two whole rows, hashes and all.
        try store.tamper("UPDATE events SET seq = -1 WHERE seq = \(a); UPDATE events SET seq = \(a) WHERE seq = \(b); UPDATE events SET seq = \(b) WHERE seq = -1;")
        let problem = try #require(try await store.log.verifyChain().problem)
        #expect(problem.seq == a && problem.kind == .brokenLink)
    }

    @Test func anEventWrittenAroundTheGatewayIsCaught() async throws {
        let store = try TamperableSQLite()
        try await fill(store.log)
        try store.execute("INSERT INTO events (job_id, contact_id, kind, at) VALUES ('J9', 'C-1', 'sent', '2026-11-30T00:00:00.000Z')")
        let forged = try #require(try await store.log.events(EventFilter(jobID: "J9")).first?.sequence)
        let problem = try #require(try await store.log.verifyChain().problem)
        #expect(problem.kind == .unhashed && problem.seq == forged)
        // And the gateway keeps appending after it, so the forgery stays visible.
        _ = try await store.log.append([event("J10", .received)])
        #expect(try await store.log.verifyChain().problem?.seq == forged)
    }

    @Test func theDatabaseRefusesUpdatesAndDeletes() async throws {
        let store = try TamperableSQLite()
        try await fill(store.log)
        #expect(throws: (any Error).self) { try store.execute("UPDATE events SET body = 'x' WHERE seq = 1") }
        #expect(throws: (any Error).self) { try store.execute("DELETE FROM events WHERE seq = 1") }
        #expect(try await store.log.verifyChain().problem == nil)
    }

    @Test func pruneRemovesOnlyAPrefixAndLeavesAVerifiableChain() async throws {
        let store = try TamperableSQLite()
        let day: TimeInterval = 86_400
        let start = parseTimestamp("2024-01-10T12:00:00Z")!
        var events: [ContactEvent] = []
        for n in 0..<6 {   // January to June 2024, one job a month
            var received = event("M\(n)", .received)
            received.at = start.addingTimeInterval(Double(n) * 31 * day)
            var sent = event("M\(n)", .sent)
            sent.at = received.at.addingTimeInterval(60)
            events += [received, sent]
        }
        _ = try await store.log.append(events)
        let cutoff = parseTimestamp("2024-04-01T00:00:00Z")!
        let report = try await store.log.prune(before: cutoff, at: parseTimestamp("2026-05-01T00:00:00Z")!, by: "gateway audit prune")
        #expect(report.removed == 6)        // January, February, March
        #expect(report.throughSeq == 6)
        let left = try await store.log.events(EventFilter())
        #expect(left.first?.event.jobID == "M3")
        #expect(left.last?.event.kind == .pruned)
        let verified = try await store.log.verifyChain()
        #expect(verified.problem == nil)
        #expect(verified.checked == 7)
        #expect(verified.anchor != EventChain.genesis)
        #expect(throws: (any Error).self) { try store.execute("DELETE FROM chain_anchors") }
        #expect(throws: (any Error).self) { try store.execute("UPDATE chain_anchors SET hash = 'x'") }
        // Pruning again removes nothing more; removing a kept event by hand is still caught.
        #expect(try await store.log.prune(before: cutoff, at: Date(), by: "again").removed == 0)
        try store.tamper("DELETE FROM events WHERE seq = \(left[0].sequence)")
        #expect(try await store.log.verifyChain().problem?.seq == left[1].sequence)
    }

    @Test func aLogFromBeforeTheChainIsHashedWhenItIsOpened() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("old-\(UUID().uuidString).sqlite").path
        let queue = try DatabaseQueue(path: path)
        try SQLiteContactLog.migrator.migrate(queue, upTo: "v3-dropped-push-tokens")
        try await queue.write { db in
            try db.execute(sql: """
                INSERT INTO events (job_id, contact_id, kind, at, attempt, body) VALUES ('OLD-1', 'C-1', 'received', '2026-01-01T00:00:00.000Z', 1, NULL);
                INSERT INTO events (job_id, contact_id, kind, at, attempt, body) VALUES ('OLD-1', 'C-1', 'sent', '2026-01-01T00:00:01.000Z', 1, 'Hola');
                """)
        }
        try queue.close()
        let log = try SQLiteContactLog(path: path)
        _ = try await log.append([event("NEW-1", .received)])
        let report = try await log.verifyChain()
        #expect(report.problem == nil && report.checked == 3)
    }

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
}
