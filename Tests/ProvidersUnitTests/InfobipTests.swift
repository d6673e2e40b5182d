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
}
