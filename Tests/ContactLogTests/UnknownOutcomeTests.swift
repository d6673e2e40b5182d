@testable import ContactLog
import Foundation
import GatewayCore
import GRDB
import Testing
import TestSupport

/// `unknown`: a send whose fate the gateway does not know is neither `sent` nor `failed` (not
/// delivered) in the view, the reports and the receipts; an old log's `failed interrupted` reads
/// the same; a provider's answer (`reconciled`) is the only thing that changes what a job shows.
@Suite struct UnknownOutcomeTests {
    static let t0 = Date(timeIntervalSince1970: 1_796_000_000)   // 2026-11-29

    static func at(_ job: String, _ kind: EventKind, _ seconds: Double = 0, reason: String? = nil, provider: String? = "twilio",
                   messageID: String? = nil) -> ContactEvent {
        ContactEvent(jobID: job, contactID: "C-\(job)", kind: kind, at: t0.addingTimeInterval(seconds), channel: .sms, template: "payment-reminder",
                     provider: provider, providerMessageID: messageID, reason: reason, body: "Hola", address: "+50688880000")
    }

    /// Fails (the CHECK refuses the row) unless `count` rows of `job_outcomes` match `condition`:
    /// the view is plain SQL in both stores, read here as compliance would read it.
    static func expectView(_ store: TestStore, _ condition: String, count: Int = 1) async throws {
        let table = "view_check_\(UUID().uuidString.prefix(8).lowercased())"
        try await store.execute("""
            CREATE TABLE \(table) (n INTEGER CHECK (n = \(count)));
            INSERT INTO \(table) SELECT COUNT(*) FROM job_outcomes WHERE \(condition)
            """)
    }

    @Test(arguments: StoreKind.available) func unknownIsTerminalAndReconcilingIsTheOnlyWayItsOutcomeChanges(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        let log = store.log
        #expect(try await log.append([
            Self.at("SENT", .dispatching), Self.at("SENT", .sent, 1, messageID: "SM-sent"),
            Self.at("UNK", .dispatching), Self.at("UNK", .unknown, 5, reason: "interrupted"),
            // An old log's outcome for the same case, written before `unknown` existed.
            Self.at("OLD", .dispatching), Self.at("OLD", .failed, 5, reason: "interrupted"),
            Self.at("REFUSED", .dispatching), Self.at("REFUSED", .failed, 5, reason: "twilio_21211"),
            Self.at("REC", .dispatching), Self.at("REC", .unknown, 5, reason: "possibly_delivered"),
        ]) == Array(repeating: true, count: 10))
        // One terminal outcome per job holds for unknown: a later `sent` is refused.
        #expect(try await log.append([Self.at("UNK", .sent, 10, messageID: "SM-late")]) == [false])
        #expect(try await log.jobStates(["UNK"])["UNK"]?.terminal == .unknown)

        // A provider said it has REC's message: one `reconciled` event, a second one refused.
        let found = Self.at("REC", .reconciled, 100, reason: Reason.found.rawValue, messageID: "SM-rec")
        #expect(try await log.append([found]) == [true])
        #expect(try await log.append([Self.at("REC", .reconciled, 200, reason: Reason.notFound.rawValue)]) == [false])
        // The unknown event stays in the chain, and the chain verifies.
        #expect(try await log.events(EventFilter(jobID: "REC")).map(\.event.kind) == [.dispatching, .unknown, .reconciled])
        #expect(try await log.verifyChain().problem == nil)

        // The view: REC shows sent (reconciled) with the provider's id; UNK and the old OLD show unknown.
        try await Self.expectView(store, "job_id = 'REC' AND outcome = 'sent' AND reason = 'reconciled' AND provider_message_id = 'SM-rec' AND reconciled_at IS NOT NULL")
        try await Self.expectView(store, "job_id = 'UNK' AND outcome = 'unknown' AND reason = 'interrupted' AND reconciled_at IS NULL")
        try await Self.expectView(store, "job_id = 'OLD' AND outcome = 'unknown' AND reason = 'interrupted'")
        try await Self.expectView(store, "job_id = 'REFUSED' AND outcome = 'failed'")
        try await Self.expectView(store, "outcome = 'failed'", count: 1)

        // Receipts for the reconciled message id reach the job; a report for no known id is kept apart.
        #expect(try await log.appendReceipt(Receipt(provider: "twilio", messageID: "SM-rec", status: .delivered, providerStatus: "delivered",
                                                    at: Self.t0.addingTimeInterval(300), raw: "{}")) == .recorded(jobID: "REC"))
        #expect(try await log.deliveryStatus(jobID: "REC") == .delivered)
        #expect(try await log.appendReceipt(Receipt(provider: "twilio", messageID: "SM-sent", status: .delivered, providerStatus: "delivered",
                                                    at: Self.t0.addingTimeInterval(300), raw: "{}")) == .recorded(jobID: "SENT"))

        // Reports: unknown is its own outcome (never counted as failed, never as sent); the
        // reconciled send counts as sent by its provider, and its receipt as delivered.
        let summary = try await log.summary(from: Self.t0.addingTimeInterval(-86_400), to: Self.t0.addingTimeInterval(86_400))
        let counts = Dictionary(summary.rows.map { ("\($0.outcome) \($0.reason ?? "-")", $0.count) }, uniquingKeysWith: +)
        #expect(counts == ["sent -": 1, "sent reconciled": 1, "unknown interrupted": 2, "failed twilio_21211": 1], "\(counts)")
        #expect(summary.providers == [LogSummary.Provider(provider: "twilio", sent: 2, delivered: 2)])
    }

    @Test(arguments: StoreKind.available) func aSendNotFoundStaysUnknownAndListedButIsNotAskedAgain(_ kind: StoreKind) async throws {
        let log = try await TestStore.make(kind).log
        _ = try await log.append([
            Self.at("NF", .dispatching), Self.at("NF", .unknown, 5, reason: "interrupted"),
            Self.at("F", .dispatching, 1), Self.at("F", .unknown, 5, reason: "possibly_delivered"),
            Self.at("NF", .reconciled, 50, reason: Reason.notFound.rawValue, provider: "twilio"),
            Self.at("F", .reconciled, 50, reason: Reason.found.rawValue, messageID: "SM-f"),
        ])
        let found = try await log.unresolvedSends(from: nil, to: nil, now: Self.t0.addingTimeInterval(600), liveWindow: 60)
        #expect(found.map(\.jobID) == ["NF"], "a send the provider has is resolved")
        #expect(found.first?.alreadyAsked == true && found.first?.notFoundAt == Self.t0.addingTimeInterval(50))
        #expect(found.first?.body == "Hola")
        #expect(try await log.jobStates(["NF"])["NF"]?.terminal == .unknown)
    }

    /// An event linked as a version before the `job` column wrote it (its columns only).
    static func insertAsBefore(_ event: ContactEvent, _ db: Database) throws {
        let head = try String.fetchOne(db, sql: "SELECT hash FROM events ORDER BY seq DESC LIMIT 1") ?? EventChain.genesis
        let values = Array(EventChain.values(event).prefix(EventChain.firstColumns.count))
        let hash = EventChain.hash(previous: head, values: values)
        let columns = EventChain.firstColumns.joined(separator: ", ")
        let placeholders = Array(repeating: "?", count: values.count + 2).joined(separator: ", ")
        let texts: [String?] = values.map { $0.map { String(decoding: $0.bytes, as: UTF8.self) } } + [head, hash]
        try db.execute(sql: "INSERT INTO events (\(columns), prev_hash, hash) VALUES (\(placeholders))", arguments: StatementArguments(texts))
    }

    /// A log written by the version before `unknown` (schema up to v7, `failed interrupted`) is
    /// migrated when this version opens it: nothing stored changes (the chain still verifies), the
    /// old outcome reads as unknown, and unknown is guarded as one outcome per job from then on.
    @Test func aLogWrittenBeforeUnknownIsMigratedWithoutRewritingIt() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("old-\(UUID().uuidString)/contact-log.sqlite").path
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        do {
            let old = try DatabaseQueue(path: path)
            try SQLiteContactLog.migrator.migrate(old, upTo: "v7-contact-state")
            try await old.write { db in
                // The index and view as the previous version wrote them (its v6 and v1 read its own kinds).
                try db.execute(sql: """
                    DROP INDEX events_one_terminal;
                    CREATE UNIQUE INDEX events_one_terminal ON events(job_id) WHERE job_id IS NOT NULL AND (kind = 'sent' OR kind = 'suppressed' OR kind = 'failed' OR kind = 'expired' OR kind = 'invalid');
                    DROP VIEW job_outcomes;
                    CREATE VIEW job_outcomes AS SELECT t.job_id, t.kind AS outcome, t.reason FROM events t WHERE t.job_id IS NOT NULL AND t.kind IN ('sent','suppressed','failed','expired','invalid');
                    """)
                for event in [Self.at("OLD", .dispatching), Self.at("OLD", .failed, 5, reason: "interrupted")] { try Self.insertAsBefore(event, db) }
            }
        }
        let log = try SQLiteContactLog(path: path)
        #expect(try await log.verifyChain().problem == nil)
        #expect(try await log.events(EventFilter(jobID: "OLD")).map(\.event.kind) == [.dispatching, .failed], "stored events are not rewritten")
        let unresolved = try await log.unresolvedSends(from: nil, to: nil, now: Self.t0.addingTimeInterval(600), liveWindow: 60)
        #expect(unresolved.map { "\($0.jobID) \($0.state.rawValue)" } == ["OLD interrupted"])
        let summary = try await log.summary(from: Self.t0.addingTimeInterval(-86_400), to: Self.t0.addingTimeInterval(86_400))
        #expect(summary.rows.map { "\($0.outcome) \($0.reason ?? "-")" } == ["unknown interrupted"])
        #expect(try await log.append([Self.at("NEW", .unknown, 6, reason: "interrupted"), Self.at("NEW", .sent, 7)]) == [true, false])
        #expect(try await log.verifyChain().problem == nil)
        let store = TestStore(log: log, execute: { sql in try DatabaseQueue(path: path).write { try $0.execute(sql: sql) } }, tamper: { _ in })
        try await Self.expectView(store, "job_id = 'OLD' AND outcome = 'unknown' AND reason = 'interrupted' AND reconciled_at IS NULL")
    }
}
