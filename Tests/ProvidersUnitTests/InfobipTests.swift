import Foundation
import GatewayCore
import Testing
@testable import Providers

@Suite struct InfobipTests {
    @Test func reportsNeedTheTokenAndMapToCommonStatuses() throws {
        let check = InfobipReports(provider: "infobip", token: "0123456789abcdef")
        #expect(check.isValid(token: "0123456789abcdef"))
        #expect(!check.isValid(token: "0123456789abcdeX") && !check.isValid(token: nil))
        let body = #"{"results":[{"messageId":"m1","status":{"groupName":"DELIVERED","name":"DELIVERED_TO_HANDSET"},"error":{"name":"NO_ERROR"}},{"messageId":"m2","status":{"groupName":"UNDELIVERABLE","name":"UNDELIVERABLE_NOT_DELIVERED"},"error":{"name":"EC_ABSENT_SUBSCRIBER"}}]}"#
        let receipts = try check.receipts(body: Array(body.utf8)).get()
        #expect(receipts.map(\.status) == [.delivered, .undelivered])
        #expect(receipts.map(\.errorCode) == [nil, "EC_ABSENT_SUBSCRIBER"])
        #expect(throws: ReceiptRejection.self) { try check.receipts(body: Array("[]".utf8)).get() }
    }

    /// Read by the strict parser: a key given twice is refused with where, never one of the two guessed.
    @Test func aKeyGivenTwiceIsRefusedNotGuessed() throws {
        let check = InfobipReports(provider: "infobip", token: "0123456789abcdef")
        let inbound = #"{"results":[{"messageId":"mo-1","from":"50688887777","to":"50640001234","text":"BAJA","from":"50688880000"}]}"#
        #expect(throws: ReceiptRejection.self) { try check.inbound(body: Array(inbound.utf8), at: Date()).get() }
        if case .failure(let rejection) = check.inbound(body: Array(inbound.utf8), at: Date()) {
            #expect(rejection.message.contains("\"from\"") && rejection.message.contains("at byte"), "\(rejection.message)")
        }
        let single = try check.inbound(body: Array(inbound.replacingOccurrences(of: #","from":"50688880000""#, with: "").utf8), at: Date()).get()
        #expect(single.map(\.from) == ["+50688887777"] && single.map(\.body) == ["BAJA"])
        let report = #"{"results":[{"messageId":"m1","status":{"groupName":"DELIVERED","groupName":"REJECTED"}}]}"#
        #expect(throws: ReceiptRejection.self) { try check.receipts(body: Array(report.utf8)).get() }
        #expect(throws: ReceiptRejection.self) { try check.inbound(body: Array(#"{"results":["mo-1"]}"#.utf8), at: Date()).get() }
    }
}
