import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import Providers

@Suite struct InfobipTests {
    func sms(_ n: Int, to: String = "+573001234567") -> OutboundMessage {
        OutboundMessage(jobID: "J\(n)", contactID: "C\(n)", attempt: 1, channel: .sms, to: to, body: "Hola \(n), pague hoy. Responda STOP")
    }

    @Test func sendsTheWholeBatchInOneDocumentedRequest() async throws {
        let fake = FakeInfobip()
        let results = try await fake.serve { base in
            let provider = InfobipProvider(name: "infobip", configuration: .init(apiKey: fake.apiKey, baseURL: base, from: "BANCO",
                                                                                   notifyURL: "https://gw.example/webhooks/infobip/reports?token=t", timeout: 120), client: CurlHTTPClient())
            return await provider.send([sms(1), sms(2, to: "+9990001"), sms(3)])
        }
        #expect(fake.bodies.count == 1)
        let messages = fake.bodies[0]["messages"] as? [[String: Any]] ?? []
        #expect(messages.count == 3)
        #expect((messages[0]["destinations"] as? [[String: String]]) == [["to": "573001234567"]])
        #expect(messages[0]["from"] as? String == "BANCO" && messages[0]["callbackData"] as? String == "J1/1")
        #expect(messages[0]["notifyUrl"] as? String == "https://gw.example/webhooks/infobip/reports?token=t")
        guard case .accepted(let id, "PENDING_ACCEPTED") = results[0] else {
            Issue.record("\(results[0])")
            return
        }
        #expect(id.hasPrefix("ib-"))
        #expect(results[1] == .permanentFailure(code: Reason(stored: "infobip_REJECTED_DESTINATION"), message: "Infobip rejected the message: REJECTED_DESTINATION: Invalid destination address"))
        if case .accepted = results[2] {} else { Issue.record("third not accepted") }
    }

    @Test func classifiesErrors() async throws {
        let fake = FakeInfobip()
        let results = try await fake.serve { base in
            let good = InfobipProvider(name: "infobip", configuration: .init(apiKey: fake.apiKey, baseURL: base, from: "BANCO", timeout: 120), client: CurlHTTPClient())
            let bad = InfobipProvider(name: "infobip", configuration: .init(apiKey: "wrong", baseURL: base, from: "BANCO", timeout: 120), client: CurlHTTPClient())
            fake.fail(with: 503)
            return await good.send([sms(1)]) + bad.send([sms(2)])
        }
        #expect(results[0] == .retryableFailure(code: Reason(stored: "http_503"), message: "Infobip answered 503", retryAfter: nil))
        #expect(results[1] == .permanentFailure(code: Reason(stored: "infobip_401"), message: "Infobip answered 401: UNAUTHORIZED: Invalid login details"))
    }
}
