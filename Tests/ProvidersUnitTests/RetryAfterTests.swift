import Foundation
import GatewayCore
import Testing
@testable import Providers

/// Retry-After as RFC 9110 writes it: whole seconds or an HTTP date; anything else is no answer.
@Suite struct RetryAfterTests {
    func response(_ headers: [(String, String)]) -> HTTPResponse {
        HTTPResponse(status: 429, headers: headers, body: [])
    }

    @Test func wholeSecondsAndNothingElse() {
        #expect(response([("retry-after", "120")]).retryAfter == 120)
        #expect(response([("retry-after", " 0 ")]).retryAfter == 0)
        #expect(response([]).retryAfter == nil)
        // Double(_:) took these; none is a delay in seconds.
        for bad in ["inf", "nan", "-5", "1.5", "1e3", "0x10", "", "soon"] {
            #expect(response([("retry-after", bad)]).retryAfter == nil, "\(bad)")
        }
    }

    @Test func anHTTPDateCountsFromTheAnswersOwnDate() {
        let date = "Sun, 06 Nov 1994 08:49:37 GMT"
        #expect(response([("date", date), ("retry-after", "Sun, 06 Nov 1994 08:50:07 GMT")]).retryAfter == 30)
        // The two obsolete forms a recipient must still read.
        #expect(response([("date", date), ("retry-after", "Sunday, 06-Nov-94 08:49:47 GMT")]).retryAfter == 10)
        #expect(response([("date", date), ("retry-after", "Sun Nov  6 08:49:57 1994")]).retryAfter == 20)
        // A date already past: no wait. A malformed date: no answer.
        #expect(response([("date", date), ("retry-after", "Sun, 06 Nov 1994 08:00:00 GMT")]).retryAfter == 0)
        #expect(response([("date", date), ("retry-after", "Sun, 06 Nov 1994 25:00:00 GMT")]).retryAfter == nil)
        // Without a Date header, from now.
        let later = response([("retry-after", "Fri, 01 Jan 2100 00:00:00 GMT")]).retryAfter
        #expect(later.map { $0 > 365 * 86_400 } == true)
    }

    @Test func twilioPassesItOn() {
        let answer = TwilioProvider.classify(HTTPResponse(status: 429, headers: [("retry-after", "inf")], body: Array(#"{"code":20429,"message":"Too Many Requests"}"#.utf8)))
        guard case .retryableFailure(code: Reason(stored: "http_429"), _, retryAfter: nil) = answer else {
            Issue.record("expected a 429 without a usable Retry-After, got \(answer)")
            return
        }
    }
}
