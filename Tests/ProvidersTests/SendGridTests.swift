import Crypto
import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import Providers

@Suite struct SendGridProviderTests {
    let client = CurlHTTPClient()

    func email(_ n: Int = 1, to: String = "ana@example.com") -> OutboundMessage {
        OutboundMessage(jobID: "J\(n)", contactID: "C\(n)", channel: .email, to: to, subject: "Su pago de $125,50",
                        body: "Hola Ana:\n\nSu pago vence hoy.", html: "<p>Hola Ana:</p><p>Su pago vence hoy.</p>")
    }

    func provider(_ fake: FakeSendGrid, _ base: String, key: String? = nil) -> SendGridProvider {
        SendGridProvider(name: "sendgrid", configuration: .init(apiKey: key ?? fake.apiKey, fromEmail: "cobros@banco.example", fromName: "Banco Ejemplo",
                                                                 listUnsubscribe: "<mailto:baja@banco.example>", baseURL: base, timeout: 120),
                         client: client)
    }

    @Test func sendsTheDocumentedRequest() async throws {
        let fake = FakeSendGrid()
        let results = try await fake.serve { base in await provider(fake, base).send([email()]) }
        guard case .accepted(let id, _) = results[0] else {
            Issue.record("not accepted: \(results[0])")
            return
        }
        #expect(id.hasPrefix("sg1-"))
        let body = try #require(fake.bodies.first)
        let personalization = (body["personalizations"] as? [[String: Any]])?.first
        #expect((personalization?["to"] as? [[String: Any]])?.first?["email"] as? String == "ana@example.com")
        #expect((personalization?["custom_args"] as? [String: String]) == ["job_id": "J1", "contact_id": "C1"])
        #expect((body["from"] as? [String: String]) == ["email": "cobros@banco.example", "name": "Banco Ejemplo"])
        #expect(body["subject"] as? String == "Su pago de $125,50")
        #expect((body["content"] as? [[String: String]]) == [["type": "text/plain", "value": "Hola Ana:\n\nSu pago vence hoy."],
                                                              ["type": "text/html", "value": "<p>Hola Ana:</p><p>Su pago vence hoy.</p>"]])
        #expect((body["headers"] as? [String: String])?["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click")
    }

    @Test func classifiesSendGridAnswers() async throws {
        let fake = FakeSendGrid()
        fake.enqueue(.error(status: 429, message: "too many requests", field: nil), .error(status: 503, message: "unavailable", field: nil))
        let results = try await fake.serve { base in
            var all: [DispatchResult] = []
            for n in 1...2 { all += await provider(fake, base).send([email(n)]) }
            all += await provider(fake, base).send([email(3, to: "not-an-address")])
            all += await provider(fake, base, key: "SG.wrong").send([email(4)])
            return all
        }
        #expect(results[0] == .retryableFailure(code: Reason(stored: "http_429"), message: "SendGrid answered 429: too many requests", retryAfter: nil))
        #expect(results[1] == .retryableFailure(code: Reason(stored: "http_503"), message: "SendGrid answered 503: unavailable", retryAfter: nil))
        #expect(results[2] == .permanentFailure(code: Reason(stored: "sendgrid_400"), message: "SendGrid answered 400: personalizations.0.to: The to array is required for all personalization objects, and must have at least one email object with a valid email address."))
        #expect(results[3] == .permanentFailure(code: Reason(stored: "sendgrid_401"), message: "SendGrid answered 401: The provided authorization grant is invalid, expired, or revoked"))
    }
}
