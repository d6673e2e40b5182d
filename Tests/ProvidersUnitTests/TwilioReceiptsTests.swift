import Foundation
import GatewayCore
import Testing
@testable import Providers

@Suite struct TwilioReceiptsTests {
    /// Twilio's published example (api-snippets, security/signature_validation).
    let documented: [(String, String)] = [
        ("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675310"), ("Digits", "1234"), ("From", "+14158675310"), ("To", "+18005551212"),
    ]

    @Test func matchesTwilioDocumentedSignature() {
        #expect(TwilioReceipts.signature(url: "https://mycompany.com/myapp.php?foo=1&bar=2", parameters: documented, authToken: "12345")
                == "GvWf1cFY/Q7PnoempGyD5oXAezc=")
        // Parameter order in the body does not matter: Twilio sorts by name.
        #expect(TwilioReceipts.signature(url: "https://mycompany.com/myapp.php?foo=1&bar=2", parameters: documented.reversed(), authToken: "12345")
                == "GvWf1cFY/Q7PnoempGyD5oXAezc=")
    }

    @Test func refusesTamperedMissingOrWronglyKeyedSignatures() {
        let verifier = TwilioReceipts(provider: "twilio", authToken: "12345", callbackURL: "https://mycompany.com/myapp.php?foo=1&bar=2")
        #expect(verifier.isValid(signature: "GvWf1cFY/Q7PnoempGyD5oXAezc=", parameters: documented))
        var tampered = documented
        tampered[2] = ("Digits", "1235")
        #expect(!verifier.isValid(signature: "GvWf1cFY/Q7PnoempGyD5oXAezc=", parameters: tampered))
        #expect(!verifier.isValid(signature: nil, parameters: documented))
        #expect(!verifier.isValid(signature: "", parameters: documented))
        let otherURL = TwilioReceipts(provider: "twilio", authToken: "12345", callbackURL: "https://mycompany.com/myapp.php")
        #expect(!otherURL.isValid(signature: "GvWf1cFY/Q7PnoempGyD5oXAezc=", parameters: documented))
        let bench = TwilioReceipts(provider: "twilio", authToken: "x", callbackURL: "http://127.0.0.1/", acceptUnsigned: true)
        #expect(bench.isValid(signature: nil, parameters: documented))
        #expect(!bench.isValid(signature: "forged", parameters: documented))
    }

    @Test func mapsStatusesAndReadsTheCallback() throws {
        #expect(["queued", "accepted", "sending", "sent", "delivered", "undelivered", "failed", "read", "canceled"].map(TwilioReceipts.status)
                == [.queued, .queued, .sent, .sent, .delivered, .undelivered, .failed, .opened, .failed])
        #expect(TwilioReceipts.status("receiving") == nil)
        let verifier = TwilioReceipts(provider: "tw", authToken: "t", callbackURL: "https://x/")
        let receipt = try verifier.receipt(parameters: [("MessageSid", "SM1"), ("MessageStatus", "undelivered"), ("ErrorCode", "30003")], at: Date(timeIntervalSince1970: 0)).get()
        #expect(receipt.status == .undelivered && receipt.errorCode == "30003" && receipt.messageID == "SM1" && receipt.provider == "tw")
        #expect(throws: ReceiptRejection.self) { try verifier.receipt(parameters: [("MessageStatus", "sent")], at: Date()).get() }
        #expect(throws: ReceiptRejection.self) { try verifier.receipt(parameters: [("MessageSid", "SM1"), ("MessageStatus", "exploded")], at: Date()).get() }
    }
}
