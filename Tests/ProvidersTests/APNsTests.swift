import Crypto
import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import Providers

@Suite struct APNsTests {
    static let token = String(repeating: "ab12", count: 16)

    func push(_ n: Int, token: String = APNsTests.token) -> OutboundMessage {
        OutboundMessage(jobID: "P\(n)", contactID: "C\(n)", channel: .push, to: token, subject: "Pago pendiente", body: "Toque para pagar")
    }

    @Test func sendsOverHTTP2WithOneProviderTokenReusedForFiftyMinutes() async throws {
        let clock = MovableClock()
        let apns = try FakeAPNs(clock: clock)
        let (results, probe) = try await apns.serve { base in
            let client = CurlHTTPClient()
            let provider = try APNsProvider(name: "apns", configuration: apns.configuration(base), client: client, clock: { clock.current })
            var all = await provider.send((0..<10).map { push($0) })       // ten at once
            clock.advance(49 * 60)
            all += await provider.send([push(10)])                           // same provider token
            clock.advance(2 * 60)
            all += await provider.send([push(11)])                           // 51 minutes: a new one
            // The same client, the same server: HTTP/2, one kept connection.
            let probe = try await client.send(HTTPRequest(method: "POST", url: base + "/3/device/x", timeout: 120, caFile: apns.certificate.cert))
            return (all, probe)
        }
        #expect(results.count == 12)
        for (n, result) in results.enumerated() {
            #expect(result == .accepted(messageID: APNsProvider.notificationID(push(n)), status: nil))
        }
        #expect(probe.httpVersion == "2")
        #expect(probe.newConnections == 0)
        let requests = apns.requests
        #expect(requests.count == 12)
        #expect(Set(requests.prefix(11).map(\.providerToken)).count == 1)
        #expect(requests[11].providerToken != requests[0].providerToken)
        let first = try #require(requests.first { $0.headers["apns-collapse-id"] == "P0" })
        #expect(first.token == Self.token)
        #expect(first.headers["apns-topic"] == "com.bank.app")
        #expect(first.headers["apns-push-type"] == "alert")
        #expect(first.headers["apns-priority"] == "10")
        #expect(first.headers["apns-expiration"] == "\(Int(MovableClock().current.timeIntervalSince1970) + 600)")
        let aps = try #require(first.payload["aps"] as? [String: Any])
        #expect((aps["alert"] as? [String: String]) == ["title": "Pago pendiente", "body": "Toque para pagar"])
        #expect(first.payload["job_id"] as? String == "P0")
    }

    @Test func answersAreClassifiedAsAppleDocumentsThem() async throws {
        let clock = MovableClock()
        let apns = try FakeAPNs(clock: clock)
        let results = try await apns.serve { base in
            let provider = try APNsProvider(name: "apns", configuration: apns.configuration(base), client: CurlHTTPClient(), clock: { clock.current })
            return await provider.send([
                push(1, token: "dead" + String(repeating: "0", count: 60)),
                push(2, token: "5003" + String(repeating: "0", count: 60)),
                push(3, token: "../../admin"),
                push(4),
            ])
        }
        #expect(results[0] == .permanentFailure(code: Reason(stored: "apns_Unregistered"), message: "APNs answered 410 Unregistered"))
        #expect(results[1] == .retryableFailure(code: Reason(stored: "apns_ServiceUnavailable"), message: "APNs answered 503 ServiceUnavailable", retryAfter: nil))
        guard case .permanentFailure(code: Reason(stored: "apns_BadDeviceToken"), _) = results[2] else {
            Issue.record("a token that is not hexadecimal must be refused before it reaches a URL: \(results[2])")
            return
        }
        #expect(apns.requests.count == 3)    // the bad token never left the gateway
        #expect(results[3] == .accepted(messageID: APNsProvider.notificationID(push(4)), status: nil))
        let provider = try APNsProvider(name: "apns", configuration: apns.configuration("https://x"), client: CurlHTTPClient())
        #expect(provider.deadTokenCodes.contains(Reason(stored: "apns_Unregistered")))
    }

    @Test func anExpiredProviderTokenIsReplacedAndAForeignKeyIsRefused() async throws {
        let clock = MovableClock()
        let apns = try FakeAPNs(clock: clock)
        let (first, second, stranger) = try await apns.serve { base in
            let provider = try APNsProvider(name: "apns", configuration: apns.configuration(base), client: CurlHTTPClient(), clock: { clock.current })
            _ = await provider.send([push(1)])
            apns.expire(apns.requests[0].providerToken)
            let first = await provider.send([push(2)])     // refused: retry later, with a new token
            let second = await provider.send([push(3)])
            var foreign = apns.configuration(base)
            foreign.privateKeyPEM = Secret(P256.Signing.PrivateKey().pemRepresentation)
            let stranger = await (try APNsProvider(name: "apns", configuration: foreign, client: CurlHTTPClient(), clock: { clock.current })).send([push(4)])
            return (first, second, stranger)
        }
        #expect(first == [.retryableFailure(code: Reason(stored: "apns_ExpiredProviderToken"), message: "APNs answered 403 ExpiredProviderToken", retryAfter: nil)])
        #expect(second == [.accepted(messageID: APNsProvider.notificationID(push(3)), status: nil)])
        #expect(apns.requests.count == 2)
        #expect(apns.requests[1].providerToken != apns.requests[0].providerToken)
        #expect(stranger == [.retryableFailure(code: Reason(stored: "apns_InvalidProviderToken"), message: "APNs answered 403 InvalidProviderToken", retryAfter: nil)])
        #expect(throws: (any Error).self) {
            try APNsProvider(name: "apns", configuration: .init(keyID: "K", teamID: "T", topic: "a.b", privateKeyPEM: "not a key"), client: CurlHTTPClient())
        }
    }
}
