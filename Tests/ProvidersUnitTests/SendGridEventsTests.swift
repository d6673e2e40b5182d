import Crypto
import Foundation
import GatewayCore
import Testing
@testable import Providers

@Suite struct SendGridEventsTests {
    let key = P256.Signing.PrivateKey()

    func signed(_ body: String, timestamp: String = "1796000000") throws -> (String, String) {
        let signature = try key.signature(for: Data(timestamp.utf8) + Data(body.utf8))
        return (signature.derRepresentation.base64EncodedString(), timestamp)
    }

    @Test func verifiesSendGridSignatures() throws {
        let verifier = try SendGridEvents(provider: "sendgrid", publicKey: key.publicKey.derRepresentation.base64EncodedString())
        let body = #"[{"email":"ana@example.com","event":"delivered","sg_message_id":"abc123.filter0001.1.0","timestamp":1796000000}]"#
        let (signature, timestamp) = try signed(body)
        #expect(verifier.isValid(signature: signature, timestamp: timestamp, body: Array(body.utf8)))
        #expect(!verifier.isValid(signature: signature, timestamp: "1796000001", body: Array(body.utf8)))
        #expect(!verifier.isValid(signature: signature, timestamp: timestamp, body: Array(body.replacingOccurrences(of: "delivered", with: "bounce").utf8)))
        #expect(!verifier.isValid(signature: nil, timestamp: nil, body: Array(body.utf8)))
        #expect(!verifier.isValid(signature: "bm90IGEgc2lnbmF0dXJl", timestamp: timestamp, body: Array(body.utf8)))
        let pem = try SendGridEvents(provider: "sendgrid", publicKey: key.publicKey.pemRepresentation)
        #expect(pem.isValid(signature: signature, timestamp: timestamp, body: Array(body.utf8)))
        #expect(throws: ReceiptRejection.self) { try SendGridEvents(provider: "sendgrid", publicKey: "%%%") }
    }

    @Test func mapsABatchOfEvents() throws {
        let verifier = try SendGridEvents(provider: "sendgrid", publicKey: nil)
        let body = #"[{"event":"processed","sg_message_id":"m1.f.0"},{"event":"deferred","sg_message_id":"m1.f.0"},{"event":"bounce","sg_message_id":"m2.f.0","reason":"550 no such user"},{"event":"unsubscribe","sg_message_id":"m3.f.0"},{"event":"spamreport","sg_message_id":"m4.f.0"},{"event":"open","sg_message_id":"m5.f.0"}]"#
        let receipts = try verifier.receipts(body: Array(body.utf8)).get()
        #expect(receipts.map(\.messageID) == ["m1", "m2", "m3", "m4", "m5"])
        #expect(receipts.map(\.status) == [.queued, .bounced, .unsubscribed, .spamReport, .opened])
        #expect(receipts[1].errorCode == "550 no such user")
        #expect(throws: ReceiptRejection.self) { try verifier.receipts(body: Array("{}".utf8)).get() }
        // A key given twice (bounced or delivered?) is refused, not guessed.
        let twice = #"[{"event":"delivered","sg_message_id":"m1.f.0","event":"bounce"}]"#
        #expect(throws: ReceiptRejection.self) { try verifier.receipts(body: Array(twice.utf8)).get() }
    }
}
