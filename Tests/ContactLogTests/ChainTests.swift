import Synchronization
import Foundation
import GatewayCore
import GRDB
import PostgresContactLog
import Testing
@testable import ContactLog

@Suite struct ChainTests {
    /// Ten events of several kinds, through every path that writes one. Returns their seqs
    /// (a refused append may leave a gap).
    @discardableResult
    func fill(_ log: any ContactLogStore) async throws -> [Int64] {
        _ = try await log.append([event("J1", .received), event("J1", .dispatching), event("J1", .sent)])
        try await log.setOptOut(OptOut(contactID: "C-1", channel: .sms, kind: .optOut, setBy: "agent:maria", setAt: Date(timeIntervalSince1970: 1_796_000_100)))
        _ = try await log.append([event("J2", .received), event("J2", .invalid), event("J2", .failed)])   // the last is refused: no link made
        try await log.dropPushToken("tok", contactID: "C-1", provider: "fcm", reason: "fcm_UNREGISTERED", at: Date(timeIntervalSince1970: 1_796_000_200))
        _ = try await log.removeOptOut(contactID: "C-1", channel: .sms, by: "agent:maria", reason: "asked again", at: Date(timeIntervalSince1970: 1_796_000_300))
        _ = try await log.append([event("J3", .received), event("J3", .suppressed)])
        return try await log.events(EventFilter()).map(\.sequence)
    }

    @Test(arguments: StoreKind.available) func anUntouchedLogVerifies(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        try await fill(store.log)
        let report = try await store.log.verifyChain()
        #expect(report.problem == nil)
        #expect(report.checked == 10)
        #expect(report.anchor == EventChain.genesis)
        let last = try await store.log.events(EventFilter()).last
        #expect(report.head.count == 64 && last != nil)
    }

    @Test(arguments: StoreKind.available) func anAlteredEventIsNamed(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        let seqs = try await fill(store.log)
        try await store.tamper("UPDATE events SET body = 'Hola Ana, nada pendiente' WHERE seq = \(seqs[2])")
        let problem = try #require(try await store.log.verifyChain().problem)
        #expect(problem.seq == seqs[2] && problem.kind == .altered)
        #expect(problem.message == "event \(seqs[2]) was altered: its contents no longer match its hash")
    }

    @Test(arguments: StoreKind.available) func aDeletedEventIsNamedByTheOneAfterIt(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        let seqs = try await fill(store.log)
        try await store.tamper("DELETE FROM events WHERE seq = \(seqs[3])")
        let problem = try #require(try await store.log.verifyChain().problem)
        #expect(problem.seq == seqs[4] && problem.kind == .brokenLink)
    }

    @Test(arguments: StoreKind.available) func reorderedEventsAreCaught(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        let seqs = try await fill(store.log)
        let (a, b) = (seqs[5], seqs[6])
        // Swap two whole rows, hashes and all.
        try await store.tamper("UPDATE events SET seq = -1 WHERE seq = \(a); UPDATE events SET seq = \(a) WHERE seq = \(b); UPDATE events SET seq = \(b) WHERE seq = -1;")
        let problem = try #require(try await store.log.verifyChain().problem)
        #expect(problem.seq == a && problem.kind == .brokenLink)
    }

    @Test(arguments: StoreKind.available) func anEventWrittenAroundTheGatewayIsCaught(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        try await fill(store.log)
        try await store.execute("INSERT INTO events (job_id, contact_id, kind, at) VALUES ('J9', 'C-1', 'sent', '2026-11-30T00:00:00.000Z')")
        let forged = try #require(try await store.log.events(EventFilter(jobID: "J9")).first?.sequence)
        let problem = try #require(try await store.log.verifyChain().problem)
        #expect(problem.kind == .unhashed && problem.seq == forged)
        // And the gateway keeps appending after it, so the forgery stays visible.
        _ = try await store.log.append([event("J10", .received)])
        #expect(try await store.log.verifyChain().problem?.seq == forged)
    }

    @Test(arguments: StoreKind.available) func aKindOrTimeTheGatewayNeverWritesIsAnErrorNotAGuess(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        try await fill(store.log)
        try await store.execute("INSERT INTO events (job_id, contact_id, kind, at) VALUES ('J9', 'C-1', 'mystery', '2026-11-30T00:00:00.000Z')")
        try await store.execute("INSERT INTO events (job_id, contact_id, kind, at) VALUES ('J10', 'C-1', 'sent', 'yesterday')")
        await #expect { try await store.log.events(EventFilter(jobID: "J9")) } throws: { error in
            "\(error)".contains("kind \"mystery\", which this gateway does not know")
        }
        await #expect { try await store.log.events(EventFilter(jobID: "J10")) } throws: { error in
            "\(error)".contains("at \"yesterday\", which is not a timestamp")
        }
        await #expect { try await store.log.jobStates(["J10"]) } throws: { error in
            "\(error)".contains("events of job J10: at \"yesterday\"")
        }
    }

    @Test(arguments: StoreKind.available) func theDatabaseRefusesUpdatesAndDeletes(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        try await fill(store.log)
        await #expect(throws: (any Error).self) { try await store.execute("UPDATE events SET body = 'x' WHERE seq = 1") }
        await #expect(throws: (any Error).self) { try await store.execute("DELETE FROM events WHERE seq = 1") }
        #expect(try await store.log.verifyChain().problem == nil)
    }

    @Test(arguments: StoreKind.available) func pruneRemovesOnlyAPrefixAndLeavesAVerifiableChain(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
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
        await #expect(throws: (any Error).self) { try await store.execute("DELETE FROM chain_anchors") }
        await #expect(throws: (any Error).self) { try await store.execute("UPDATE chain_anchors SET hash = 'x'") }
        // Pruning again removes nothing more; removing a kept event by hand is still caught.
        #expect(try await store.log.prune(before: cutoff, at: Date(), by: "again").removed == 0)
        try await store.tamper("DELETE FROM events WHERE seq = \(left[0].sequence)")
        #expect(try await store.log.verifyChain().problem?.seq == left[1].sequence)
    }

    /// Deleting the start of the log and adding a `chain_anchors` row for where it now starts: the
    /// anchor is not backed by a `pruned` event, and verify says so (it said ok, same head).
    @Test(arguments: StoreKind.available) func aForgedAnchorIsNotBackedByAPrunedEvent(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        let seqs = try await fill(store.log)
        let cut = seqs[3]
        let hash = try #require(try await Self.hash(of: cut, store))
        try await store.execute("INSERT INTO chain_anchors (through_seq, hash, cutoff, removed, pruned_at) VALUES (\(cut), '\(hash)', '2026-01-01T00:00:00.000Z', 4, '2026-11-30T00:00:00.000Z')")
        // Before the deletion, the log holds what the anchor says was pruned.
        var problem = try #require(try await store.log.verifyChain().problem)
        #expect(problem.kind == .unbackedAnchor && problem.seq == cut)
        try await store.tamper("DELETE FROM events WHERE seq <= \(cut)")
        let report = try await store.log.verifyChain()
        problem = try #require(report.problem)
        #expect(problem.kind == .unbackedAnchor && problem.seq == cut)
        #expect(problem.message.hasPrefix("anchor at seq \(cut) is not backed by a pruned event"))
    }

    /// A real prune's anchor is backed by its `pruned` event; deleting that event as well (it is
    /// the last one, so no link breaks) leaves the anchor unbacked, and verify says so.
    @Test(arguments: StoreKind.available) func deletingThePrunedEventUnbacksItsAnchor(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        var old = event("OLD", .received)
        old.at = parseTimestamp("2024-01-10T12:00:00Z")!
        _ = try await store.log.append([old, event("NEW", .received)])
        let report = try await store.log.prune(before: parseTimestamp("2024-02-01T00:00:00Z")!, at: Date(), by: "test")
        #expect(report.removed == 1)
        let pruned = try #require(try await store.log.events(EventFilter(kinds: [.pruned])).first?.sequence)
        let verified = try await store.log.verifyChain()
        #expect(verified.problem == nil && verified.anchorEvent == pruned)
        try await store.tamper("DELETE FROM events WHERE seq = \(pruned)")
        let problem = try #require(try await store.log.verifyChain().problem)
        #expect(problem.kind == .unbackedAnchor && problem.seq == report.throughSeq)
    }

    static func hash(of seq: Int64, _ store: TestStore) async throws -> String? {
        // The stored hash is not part of StoredEvent: recompute it from the verified chain instead,
        // event by event from genesis.
        var previous = EventChain.genesis
        for stored in try await store.log.events(EventFilter(throughSeq: seq)) {
            previous = EventChain.hash(previous: previous, values: EventChain.values(stored.event))
        }
        return previous
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
}

@Suite struct StoreQueryTests {
    @Test(arguments: StoreKind.available) func twoWorkersAppendingAtOnceKeepOneChain(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        // A second store object on the same database, as a second worker process would have.
        let other: any ContactLogStore
        switch kind {
        case .sqlite: other = try SQLiteContactLog(path: (store.log as! SQLiteContactLog).path)
        case .postgres: other = try await PostgresContactLog(url: (store.log as! PostgresContactLog).url)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (worker, log) in [store.log, other].enumerated() {
                group.addTask {
                    for batch in 0..<20 {
                        let id = "W\(worker)-\(batch)"
                        _ = try await log.append([event(id, .received), event(id, .dispatching), event(id, .sent)])
                        _ = try await log.appendReceipt(Receipt(provider: "sandbox", messageID: "none-\(id)", status: .delivered,
                                                                providerStatus: "delivered", at: Date(), raw: "{}"))
                    }
                }
            }
            try await group.waitForAll()
        }
        let report = try await store.log.verifyChain()
        #expect(report.problem == nil)
        #expect(report.checked == 2 * 20 * 4)
    }

    @Test(arguments: StoreKind.available) func filtersPagesAndSummaryAgreeAcrossStores(_ kind: StoreKind) async throws {
        let log = try await TestStore.make(kind).log
        let start = parseTimestamp("2026-11-01T12:00:00Z")!
        var events: [ContactEvent] = []
        for n in 0..<30 {
            let at = start.addingTimeInterval(Double(n) * 3600)
            var sent = ContactEvent(jobID: "J\(n)", contactID: "C-\(n % 3)", kind: n % 3 == 0 ? .suppressed : .sent, at: at,
                                    channel: n % 2 == 0 ? .sms : .email, template: n % 5 == 0 ? "due-today" : "payment-reminder",
                                    tone: "neutral", provider: "sandbox", reason: n % 3 == 0 ? "quiet_hours" : nil,
                                    debtID: "LN-\(n % 4)", segment: n < 15 ? "early" : "late")
            sent.providerMessageID = n % 3 == 0 ? nil : "M\(n)"
            events.append(sent)
        }
        _ = try await log.append(events)
        func jobs(_ filter: EventFilter) async throws -> [String] { try await log.events(filter).compactMap(\.event.jobID) }
        #expect(try await jobs(EventFilter(debtID: "LN-1")) == ["J1", "J5", "J9", "J13", "J17", "J21", "J25", "J29"])
        #expect(try await jobs(EventFilter(debtID: "LN-1", channel: .email, kinds: [.sent])) == ["J1", "J5", "J13", "J17", "J25", "J29"])
        #expect(try await jobs(EventFilter(template: "due-today", from: start.addingTimeInterval(3600), to: start.addingTimeInterval(20 * 3600))) == ["J5", "J10", "J15"])
        let first = try await log.events(EventFilter(limit: 7))
        #expect(try await jobs(EventFilter(afterSeq: first.last!.sequence, limit: 3)) == ["J7", "J8", "J9"])
        var all: [String] = []
        try await log.forEachEvent(EventFilter(kinds: [.sent]), pageSize: 4) { stored in all.append(stored.event.jobID ?? ""); return true }
        #expect(all.count == 20)
        _ = try await log.appendReceipt(Receipt(provider: "sandbox", messageID: "M1", status: .delivered, providerStatus: "delivered", at: Date(), raw: "{}"))
        let summary = try await log.summary(from: start, to: start.addingTimeInterval(86_400))
        #expect(summary.rows.reduce(0) { $0 + $1.count } == 24)
        #expect(summary.rows.first { $0.outcome == "suppressed" && $0.channel == "sms" && $0.segment == "early" } ==
                LogSummary.Row(day: "2026-11-01", channel: "sms", segment: "early", tone: "neutral", outcome: "suppressed", reason: "quiet_hours", count: 2))   // J0, J6 (J12 falls on the 2nd)
        #expect(summary.providers == [LogSummary.Provider(provider: "sandbox", sent: 16, delivered: 1)])
    }

    /// Reading a selection while events that match it are appended (here by the reader itself, as
    /// every API read appends a `log_read`) ends with what the log held when the reading began.
    @Test(arguments: StoreKind.available) func readingPageByPageEndsAtTheSnapshot(_ kind: StoreKind) async throws {
        let log = try await TestStore.make(kind).log
        _ = try await log.append((0..<6).map { event("S\($0)", .received) })
        let existing = try await log.events(EventFilter()).map(\.sequence)
        #expect(try await log.lastSequence() == existing.last)
        var read: [Int64] = []
        try await log.forEachEvent(EventFilter(contactID: "C-1"), pageSize: 2) { stored in
            read.append(stored.sequence)
            _ = try await log.append([event("LATER-\(read.count)", .received)])
            return read.count < 100
        }
        #expect(read == existing)
        #expect(try await log.events(EventFilter(afterSeq: existing[1], throughSeq: existing[3])).map(\.sequence) == [existing[2], existing[3]])
    }

    @Test(arguments: StoreKind.available) func aReplyIsRecordedOnceWithWhatItSetsAndStateWritesNeedTheVersionTheyRead(_ kind: StoreKind) async throws {
        let log = try await TestStore.make(kind).log
        var sent = event("J1", .sent, contact: "C-7")
        sent.address = "+50688887777"
        sent.debtID = "LN-1"
        var later = event("J2", .sent, contact: "C-7")
        later.address = "+50688887777"
        later.debtID = "LN-2"
        _ = try await log.append([sent, later])
        let at = Date(timeIntervalSince1970: 1_796_000_500)
        let reply = InboundMessage(provider: "twilio", messageID: "SM-in", from: "+50688887777", to: "+15005550006", body: "esa deuda no es mía, no me escriban más",
                                   at: at, raw: "{}")
        let reading = ReplyReading(language: "es", label: "upset", score: -0.5, intents: ["opt_out", "dispute"])
        let seen = Mutex<[ReplyMatch]>([])
        let plan = try await log.recordReply(reply) { match in
            seen.withLock { $0.append(match) }
            return ReplyPlanner.plan(message: reply, reading: reading, match: match, policy: .standard)
        }
        // The contact texted at that number, with the debt of the latest message.
        #expect(seen.withLock { $0 } == [ReplyMatch(contacts: [.init(id: "C-7", debtID: "LN-2")])])
        #expect(plan?.answers.count == 1)
        #expect(try await log.recordReply(reply) { _ in ReplyPlan() } == nil)
        #expect(try await log.optOuts(["C-7"])["C-7"]?.map(\.channel) == [.sms])
        let holds = try await log.states(StateQuery(kinds: [.hold], debtIDs: ["LN-2"], activeOnly: true))
        #expect(holds.compactMap(\.hold).map(\.intent) == ["dispute"])
        #expect(try await log.states(StateQuery(kinds: [.hold], debtIDs: ["LN-1"])).isEmpty)
        let bySource = try await log.states(StateQuery(kinds: [.answer, .escalation], sources: [reply.source]))
        #expect(Set(bySource.map(\.kind)) == [.answer, .escalation])
        // A write names the version it read: the second of two writers with the same version loses, writing nothing.
        let escalation = try #require(bySource.first { $0.kind == .escalation })
        var resolved = try #require(escalation.escalation)
        resolved.status = .resolved
        let note = ContactEvent(jobID: nil, contactID: "C-7", kind: .escalationResolved, at: at, reason: "resolved")
        #expect(try await log.writeStates([StateWrite(.escalation(resolved, at: at), expect: .version(escalation.version))], events: [note]))
        #expect(try await !log.writeStates([StateWrite(.escalation(resolved, at: at), expect: .version(escalation.version))], events: [note]))
        #expect(try await log.events(EventFilter(kinds: [.escalationResolved])).count == 1)
        #expect(try await log.states(StateQuery(kinds: [.escalation], activeOnly: true)).isEmpty)
        let stranger = InboundMessage(provider: "twilio", messageID: "SM-in-2", from: "+15550001111", to: "+15005550006", body: "STOP", at: at, raw: "{}")
        _ = try await log.recordReply(stranger) { match in
            ReplyPlanner.plan(message: stranger, reading: ReplyReading(language: "en", label: "neutral", score: 0, intents: ["opt_out"]), match: match, policy: .standard)
        }
        #expect(try await log.events(EventFilter(kinds: [.inbound])).map(\.event.contactID) == ["C-7", nil])
        #expect(try await log.verifyChain().problem == nil)
    }

    @Test(arguments: StoreKind.available) func stateForABatchOfThousandsOfContactsIsReadWhole(_ kind: StoreKind) async throws {
        let log = try await TestStore.make(kind).log
        let at = Date(timeIntervalSince1970: 1_796_000_500)
        let moods = ["C-3", "C-777", "C-1499"].map { StateWrite(.mood(ReplyMood(label: "worried", score: -0.3, at: at, intents: [], source: "t:\($0)"), contactID: $0), expect: .absent) }
        #expect(try await log.writeStates(moods, events: []))
        // A 10,000-job batch: 40,000 values, more than SQLite binds in one statement (32,766).
        let found = try await log.states(StateQuery(kinds: [.hold, .mood, .answer], contactIDs: (0..<10_000).map { "C-\($0)" },
                                                    debtIDs: (0..<10_000).map { "LN-\($0)" }, addresses: (0..<20_000).map { "+1555\($0)" }, activeOnly: true))
        #expect(found.map(\.contactID) == ["C-1499", "C-3", "C-777"])
    }
}
