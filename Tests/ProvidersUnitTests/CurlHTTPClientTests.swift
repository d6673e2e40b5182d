import Foundation
import Testing
@testable import Providers

/// What the libcurl client decides before or without a server: the origin a request counts
/// against, whether libcurl may send a request again, which protocols it may use at all.
@Suite struct CurlHTTPClientTests {
    @Test func requestsAreCountedByOrigin() {
        #expect(CurlHTTPClient.origin(of: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json") == "https://api.twilio.com")
        #expect(CurlHTTPClient.origin(of: "http://127.0.0.1:8080?x=1") == "http://127.0.0.1:8080")
        #expect(CurlHTTPClient.origin(of: "https://api.push.apple.com:443#frag") == "https://api.push.apple.com:443")
        #expect(CurlHTTPClient.origin(of: "smtp://mail.example:587") == "smtp://mail.example:587")
        #expect(CurlHTTPClient.origin(of: "not a url") == "not a url")
    }

    /// libcurl sends a request again by itself for three reasons (see `ResendPolicy`); only an
    /// HTTP/2 stream the server refused, which RFC 9113 §8.7 says it did not process, may go again.
    /// (A loopback HTTP/2 server that refuses a stream needs HTTP/2 framing over TLS the test fakes
    /// do not expose, so the decision is tested here; the HTTP/1.1 cases end to end in ProvidersTests' CurlResendTests.)
    @Test func onlyARefusedHTTP2StreamMayBeSentAgain() {
        // (bytes already sent, origin answers over HTTP/2, libcurl recorded an error, may resend)
        let cases: [(Int, Bool, Bool, Bool)] = [
            (0, false, false, true),    // the first sending, or one that never left
            (0, true, true, true),
            (312, false, false, false), // HTTP/1.1: a pooled connection closed as the request went out
            (312, false, true, false),  // HTTP/1.1: reset after the request went out
            (312, true, true, false),   // HTTP/2: the connection failed ("Recv failure"): maybe processed
            (312, true, false, true),   // HTTP/2: REFUSED_STREAM, or above a GOAWAY's last-stream-id
        ]
        for (sent, multiplexed, error, allowed) in cases {
            #expect(ResendPolicy.mayResend(requestBytesSent: sent, multiplexedOrigin: multiplexed, errorRecorded: error) == allowed,
                    "sent \(sent), HTTP/2 \(multiplexed), error \(error)")
        }
    }

    @Test func refusesProtocolsOtherThanHTTP() async {
        let client = CurlHTTPClient()
        await #expect(throws: HTTPClientError.self) { try await client.send(HTTPRequest(url: "file:///etc/passwd")) }
    }
}
