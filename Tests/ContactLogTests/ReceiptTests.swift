import Foundation
import GatewayCore
import Testing
@testable import ContactLog

@Suite struct ReceiptTests {
    func sent(_ log: any ContactLogStore, job: String, messageID: String) async throws {
        var event = event(job, .sent)
        event.provider = "twilio"
        event.providerMessageID = messageID
        _ = try await log.append([event])
    }

    func receipt(_ id: String, _ status: DeliveryStatus) -> Receipt {
        Receipt(provider: "twilio", messageID: id, status: status, providerStatus: status.rawValue, at: Date(), raw: "{}")
    }

    @Test(arguments: StoreKind.available) func receiptsAreIdempotentAndNeverMoveAMessageBack(_ kind: StoreKind) async throws {
        let log = try await TestStore.make(kind).log
        try await sent(log, job: "J1", messageID: "SM1")
        #expect(try await log.appendReceipt(receipt("SM1", .sent)) == .recorded(jobID: "J1"))
        #expect(try await log.appendReceipt(receipt("SM1", .delivered)) == .recorded(jobID: "J1"))
        #expect(try await log.appendReceipt(receipt("SM1", .delivered)) == .duplicate)
        // A late `queued` is kept for the record but does not undo `delivered`.
        #expect(try await log.appendReceipt(receipt("SM1", .queued)) == .late(jobID: "J1", current: .delivered))
        #expect(try await log.deliveryStatus(jobID: "J1") == .delivered)
        let receipts = try await log.events(EventFilter(jobID: "J1", kinds: [.receipt])).map(\.event)
        #expect(receipts.map(\.reason) == ["sent", "delivered", "queued"])
        #expect(receipts.last?.detail?.contains("arrived after delivered") == true)
    }

    @Test(arguments: StoreKind.available) func aReceiptForAnUnknownMessageIsKeptForReviewOnce(_ kind: StoreKind) async throws {
        let log = try await TestStore.make(kind).log
        #expect(try await log.appendReceipt(receipt("SM-unknown", .delivered)) == .unmatched)
        #expect(try await log.appendReceipt(receipt("SM-unknown", .delivered)) == .unmatched)
        let kept = try await log.events(EventFilter(kinds: [.receipt])).map(\.event)
        #expect(kept.count == 1)
        #expect(kept.first?.jobID == nil && kept.first?.providerMessageID == "SM-unknown")
    }
}
