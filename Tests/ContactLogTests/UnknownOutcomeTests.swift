@testable import ContactLog
import Foundation
import GatewayCore
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
}
