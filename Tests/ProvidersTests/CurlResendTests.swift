import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import Providers

/// A request reaches a provider at most once per call: when a kept-alive connection dies after the
/// request went out, libcurl would send it again on another connection by itself (it did, up to
/// six times in all); the client refuses to let it go out again, and says the request may have
/// been received.
@Suite struct CurlResendTests {
    static func post(_ base: String, _ body: String) -> HTTPRequest {
        HTTPRequest(method: "POST", url: base + "/2010-04-01/Accounts/AC1/Messages.json",
                    headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array(body.utf8))
    }

    @Test func aRequestWhosePooledConnectionDiesAfterTheBodyIsNotSentAgain() async throws {
        let server = try DroppingProvider()
        defer { server.stop() }
        let client = CurlHTTPClient(maxConnectionsPerHost: 4)
        defer { client.shutdown() }
        // Warm the pool: several connections kept alive, answered.
        for round in 0..<3 {
            let warm = await client.sendAll((0..<4).map { Self.post(server.baseURL, "warm=\(round)-\($0)") })
            #expect(warm.allSatisfy { (try? $0.get().status) == 201 }, "\(warm)")
        }
        let pooled = server.connections
        #expect(pooled >= 1)

        server.dropAfterReading()
        let result = await client.sendAll([Self.post(server.baseURL, "job=DROP-1")])[0]
        let sent = server.requests.filter { $0.body == "job=DROP-1" }
        #expect(sent.count == 1, "the provider got the request \(sent.count) times, on connections \(sent.map(\.connection))")
        guard case .failure(let error) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.kind == .possiblyDelivered, "\(error)")
        // It went out on a reused connection, and libcurl wanted to send it again on another one.
        #expect(sent.first.map { $0.connection <= pooled } == true)
        #expect(error.curlCode == 42, "\(error)")  // CURLE_ABORTED_BY_CALLBACK: the second sending was refused

        // The dead connection is gone, the others still serve.
        server.dropAfterReading(false)
        let after = await client.sendAll([Self.post(server.baseURL, "job=AFTER-1")])[0]
        #expect((try? after.get().status) == 201, "\(after)")
    }

    @Test func aFreshConnectionClosedAfterTheBodyIsPossiblyDeliveredThroughTwilio() async throws {
        let server = try DroppingProvider()
        defer { server.stop() }
        server.dropAfterReading()
        let client = CurlHTTPClient(maxConnectionsPerHost: 4)
        defer { client.shutdown() }
        let twilio = TwilioProvider(name: "twilio", configuration: .init(
            accountSID: "AC" + String(repeating: "a1", count: 16), authToken: "token", from: "+15005550006",
            messagingServiceSID: nil, baseURL: server.baseURL + "/", statusCallback: nil, timeout: 5), client: client)
        let results = await twilio.send([message(1)])
        guard case .possiblyDelivered(code: "possibly_delivered", let detail) = results[0] else {
            Issue.record("expected possibly_delivered, got \(results[0])")
            return
        }
        #expect(detail.contains("may have taken the message"))
        #expect(server.requests.count == 1)
        #expect(server.requests.first?.body.contains("Body=") == true)
    }

    @Test func aRequestNeverSentStaysAConnectErrorForTheNextProvider() async throws {
        // Nobody listens: the body never went out, so the next provider may have it at once.
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let result = await client.sendAll([Self.post("http://127.0.0.1:1", "job=NEVER-1")])[0]
        guard case .failure(let error) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.kind == .connect)
        guard case .retryableFailure(code: "connect_error", _, _) = error.dispatchResult else {
            Issue.record("expected connect_error, got \(error.dispatchResult)")
            return
        }
    }
}
