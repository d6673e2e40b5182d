import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import Providers

func message(_ n: Int = 1, to: String = "+50688887777", body: String = "Hola Ana, pague USD 125.50 en https://pay.example/x?a=1&b=2. Responda STOP. ñ€😀") -> OutboundMessage {
    OutboundMessage(jobID: "J\(n)", contactID: "C\(n)", channel: .sms, to: to, body: body)
}

@Suite struct TwilioProviderTests {
    let client = CurlHTTPClient()

    func provider(_ fake: FakeTwilio, _ baseURL: String, token: String? = nil, from: String? = "+15005550006",
                  service: String? = nil, timeout: Double = 120) -> TwilioProvider {
        TwilioProvider(name: "twilio", configuration: .init(
            accountSID: fake.accountSID, authToken: token ?? fake.authToken, from: from, messagingServiceSID: service,
            baseURL: baseURL + "/", statusCallback: "https://gw.example/webhooks/twilio/status", timeout: timeout), client: client)
    }

    @Test func sendsTheDocumentedRequest() async throws {
        let fake = FakeTwilio()
        let results = try await fake.serve { base in await provider(fake, base).send([message()]) }
        guard case .accepted(let sid, let status) = results[0] else {
            Issue.record("expected accepted, got \(results[0])")
            return
        }
        #expect(sid.hasPrefix("SM") && sid.count == 34)
        #expect(status == "queued")
        let request = try #require(fake.requests.first)
        #expect(request.path == "/2010-04-01/Accounts/\(fake.accountSID)/Messages.json")
        #expect(request.authorization == "Basic " + Data("\(fake.accountSID):\(fake.authToken)".utf8).base64EncodedString())
        #expect(request.contentType == "application/x-www-form-urlencoded")
        #expect(request.form == [
            "To": "+50688887777", "From": "+15005550006", "Body": message().body,
            "StatusCallback": "https://gw.example/webhooks/twilio/status",
        ])
    }

    @Test func usesAMessagingServiceInsteadOfFrom() async throws {
        let fake = FakeTwilio()
        let results = try await fake.serve { base in
            await provider(fake, base, from: nil, service: "MG" + String(repeating: "b2", count: 16)).send([message()])
        }
        #expect(fake.requests.first?.form["MessagingServiceSid"] == "MG" + String(repeating: "b2", count: 16))
        #expect(fake.requests.first?.form["From"] == nil)
        guard case .accepted(_, "accepted") = results[0] else {
            Issue.record("expected accepted, got \(results[0])")
            return
        }
    }

    @Test func classifiesTwilioAnswers() async throws {
        let fake = FakeTwilio()
        fake.enqueue(.error(status: 400, code: 21610, message: "Attempt to send to unsubscribed recipient"),
                     .rateLimited(retryAfter: 7), .serverError)
        let results = try await fake.serve { base in
            let twilio = provider(fake, base)
            var all: [DispatchResult] = []
            for n in 1...3 { all += await twilio.send([message(n)]) }
            all += await twilio.send([message(4, to: "+1abc")])
            all += await provider(fake, base, token: "wrong").send([message(5)])
            return all
        }
        #expect(results[0] == .permanentFailure(code: Reason(stored: "twilio_21610"), message: "Twilio answered 400: Attempt to send to unsubscribed recipient"))
        #expect(results[1] == .retryableFailure(code: Reason(stored: "http_429"), message: "Twilio answered 429: Too Many Requests", retryAfter: 7))
        #expect(results[2] == .retryableFailure(code: Reason(stored: "http_500"), message: "Twilio answered 500: Internal Server Error", retryAfter: nil))
        #expect(results[3] == .permanentFailure(code: Reason(stored: "twilio_21211"), message: "Twilio answered 400: The 'To' number +1abc is not a valid phone number."))
        #expect(results[4] == .permanentFailure(code: Reason(stored: "twilio_20003"), message: "Twilio answered 401: Authenticate"))
    }

    /// Twilio took the whole request and did not answer in time: it may be sending the SMS, so the
    /// message is not handed to another provider or retried (it was, and customers got it twice).
    @Test func aSlowAnswerAfterTheWholeRequestIsPossiblyDelivered() async throws {
        let fake = FakeTwilio()
        fake.enqueue(.slow(seconds: 2))
        let results = try await fake.serve { base in await provider(fake, base, timeout: 0.3).send([message()]) }
        // Never twice. (On a busy machine the fake may not have read the request before the client
        // gave up and closed the connection; the client's count of bytes sent decides the class.)
        #expect(fake.requests.count <= 1)
        guard case .possiblyDelivered(code: Reason(stored: "possibly_delivered"), let detail) = results[0] else {
            Issue.record("expected possibly_delivered, got \(results[0])")
            return
        }
        #expect(detail.contains("curl 28"), "\(detail)")
    }

    @Test func nobodyListeningIsARetryableConnectError() async throws {
        let results = await provider(FakeTwilio(), "http://127.0.0.1:1").send([message()])
        guard case .retryableFailure(code: Reason(stored: "connect_error"), _, _) = results[0] else {
            Issue.record("expected connect_error, got \(results[0])")
            return
        }
    }

    @Test func aBatchKeepsManyRequestsInFlightAndResultsInOrder() async throws {
        let fake = FakeTwilio()
        // The server holds every request until 16 are in its hands at once: a client sending them
        // one by one would get 503s. What is asserted is what the server saw, not how long it took.
        fake.setDefault(.gate(count: 16, limit: 120))
        let messages = (0..<100).map { message($0, to: "+5068888\(String(format: "%04d", $0))") }
        let results = try await fake.serve { base in await provider(fake, base, timeout: 300).send(messages) }
        #expect(results.allSatisfy { if case .accepted = $0 { true } else { false } }, "\(results.first { if case .accepted = $0 { false } else { true } }.map { "\($0)" } ?? "")")
        #expect(fake.peakInFlight >= 16, "at most \(fake.peakInFlight) requests were in flight at once")
        let byNumber = Dictionary(uniqueKeysWithValues: fake.requests.map { ($0.form["To"]!, $0) })
        #expect(byNumber.count == 100)
        // Results come back in the order of the messages, whatever order the server took them in:
        // the fake's sid is its request counter, so result i must name the request sent to message i's number.
        let requests = fake.requests
        for (index, result) in results.enumerated() {
            guard case .accepted(let sid, _) = result, let number = Int(sid.dropFirst(2), radix: 16), (1...requests.count).contains(number) else { continue }
            #expect(requests[number - 1].form["To"] == messages[index].to, "result \(index) is the answer to another message")
        }
    }
}

@Suite struct CurlHTTPClientTests {
    @Test func keepsConnectionsAlive() async throws {
        let client = CurlHTTPClient()
        let fake = FakeTwilio()
        let connections = try await fake.serve { base in
            var counts: [Int] = []
            for _ in 0..<3 {
                let response = try await client.send(HTTPRequest(method: "POST", url: base + "/anything", body: Array("x=1".utf8), timeout: 120))
                #expect(response.status == 404)
                #expect(response.header("Content-Type") == "application/json")
                counts.append(response.newConnections)
            }
            return counts
        }
        #expect(connections == [1, 0, 0])
    }
}
