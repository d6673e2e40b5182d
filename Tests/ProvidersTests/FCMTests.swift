import _CryptoExtras
import Crypto
import Foundation
import GatewayCore
import Hummingbird
import NIOCore
import Testing
import TestSupport
@testable import Providers

@Suite struct FCMTests {
    func push(_ n: Int, token: String = "fcm-token") -> OutboundMessage {
        OutboundMessage(jobID: "P\(n)", contactID: "C\(n)", channel: .push, to: token, subject: "Pago pendiente", body: "Toque para pagar")
    }

    @Test func signsTheAssertionCachesTheTokenAndSends() async throws {
        let google = FakeGoogle()
        let clock = MovableClock()
        let results = try await LoopbackServer.serve(google.router()) { base in
            // A long time limit: a busy CI machine can stall the fake Google for seconds (a timeout there is
            // a second exchange, which is not what this test is about).
            let fcm = try FCMProvider(name: "fcm", account: google.account(base), baseURL: base, timeout: 120, client: CurlHTTPClient(), clock: { clock.current })
            var all = await fcm.send((0..<10).map { push($0) })          // ten at once: one exchange
            all += await fcm.send([push(10), push(11, token: "dead-token")])
            clock.advance(3600)                                             // the token has expired: a new exchange
            all += await fcm.send([push(12)])
            return all
        }
        #expect(google.exchangeCount == 2)
        #expect(results.prefix(11).allSatisfy { if case .accepted = $0 { true } else { false } })
        #expect(results[11] == .permanentFailure(code: Reason(stored: "fcm_UNREGISTERED"), message: "FCM answered 404 UNREGISTERED: Requested entity was not found."))
        let first = try #require(google.sent.first?["message"] as? [String: Any])
        #expect((first["notification"] as? [String: String]) == ["title": "Pago pendiente", "body": "Toque para pagar"])
    }

    @Test func aBadKeyIsRefusedAtStartUpAndABadExchangeIsRetryable() async throws {
        let google = FakeGoogle()
        var account = google.account("http://127.0.0.1:1")
        account.private_key = "not a key"
        #expect(throws: (any Error).self) { try FCMProvider(name: "fcm", account: account, client: CurlHTTPClient()) }
        // A key Google does not know: the exchange fails, the push is retried later.
        let other = FakeGoogle()
        let results = try await LoopbackServer.serve(google.router()) { base in
            var stranger = google.account(base)
            stranger.private_key = Secret(other.key.pkcs8PEMRepresentation)
            return await (try FCMProvider(name: "fcm", account: stranger, baseURL: base, timeout: 120, client: CurlHTTPClient())).send([push(1)])
        }
        guard case .retryableFailure(code: Reason(stored: "fcm_auth"), let message, _) = results[0] else {
            Issue.record("\(results[0])")
            return
        }
        #expect(message.contains("Invalid JWT Signature"))
    }
}
