import ContactLog
import Foundation
import GatewayCore
@testable import GatewayMetrics
import Providers
import Testing
import TestSupport

/// What the metrics registry and the metered provider count, read back through the exposition;
/// and the exposition parser the tests read it with. (MetricsTests in WorkerTests scrapes a
/// running gateway.)
@Suite struct MetricsTests {
    /// A provider whose every property differs from the protocol's defaults.
    struct Unusual: MessageProvider {
        var name = "unusual"
        var channels: Set<Channel> = [.push]
        var requestTimeout = 7.5
        var unsubscribedCodes: Set<Reason> = [.twilioUnsubscribed]
        var deadTokenCodes: Set<Reason> = [.fcmUnregistered]
        var pushPlatform: PushPlatform? = .fcm
        var sendsInBulk = true
        func send(_ messages: [OutboundMessage]) async -> [DispatchResult] {
            messages.map { _ in .retryableFailure(code: .timeout, message: "slow", retryAfter: nil) }
        }
    }

    @Test func theMeteredProviderAnswersWhatItsProviderAnswers() async throws {
        let inner = Unusual()
        let metrics = GatewayMetrics()
        let metered = MeteredProvider(inner, metrics: metrics)
        #expect(metered.name == inner.name && metered.channels == inner.channels && metered.requestTimeout == inner.requestTimeout)
        #expect(metered.unsubscribedCodes == inner.unsubscribedCodes && metered.deadTokenCodes == inner.deadTokenCodes)
        #expect(metered.pushPlatform == inner.pushPlatform && metered.sendsInBulk == inner.sendsInBulk)
        let message = OutboundMessage(jobID: "J", contactID: "C", channel: .push, to: "token", body: "hola")
        #expect(await metered.send([message, message]) == [.retryableFailure(code: .timeout, message: "slow", retryAfter: nil),
                                                            .retryableFailure(code: .timeout, message: "slow", retryAfter: nil)])
        let exposition = try Exposition.parse(String(decoding: metrics.exposition(), as: UTF8.self))
        #expect(exposition.value("gateway_provider_answers_total", ["provider": "unusual", "channel": "push", "class": "retryable"]) == 2)
        #expect(exposition.value("gateway_provider_answers_total", ["provider": "unusual", "channel": "push", "class": "accepted"]) == 0)
        #expect(exposition.value("gateway_provider_request_duration_seconds_count", ["provider": "unusual"]) == 1)
    }

    @Test func aLabelTakesABoundedNumberOfValues() throws {
        let metrics = GatewayMetrics(maxValuesPerLabel: 2)
        let at = Date(timeIntervalSince1970: 1_796_000_500)
        // Each value again after its first time (a counter made once serves the later ones): still
        // counted where its first time was, a refused value still as "other".
        for reason in ["twilio_1", "twilio_2", "twilio_3", "twilio_1", String(repeating: "x", count: 101), "twilio_3", "twilio_2"] {
            metrics.recorded(ContactEvent(jobID: "J", contactID: "C", kind: .failed, at: at, channel: .sms, reason: reason))
        }
        let exposition = try Exposition.parse(String(decoding: metrics.exposition(), as: UTF8.self))
        let reasons = Dictionary(exposition.samples("gateway_jobs_total").map { ($0.labels["reason"] ?? "?", $0.value) }, uniquingKeysWith: +)
        #expect(reasons == ["twilio_1": 2, "twilio_2": 2, "other": 3])
    }

    @Test func theParserReadsEscapesAndRefusesWhatPrometheusWould() throws {
        let good = """
            # HELP a_total Things, with a \\\\ backslash.
            # TYPE a_total counter
            a_total{l="x\\"y\\\\z\\nw",m=""} 2
            a_total{l="plain"} 1.5e3
            # TYPE h histogram
            h_bucket{le="0.5"} 1
            h_bucket{le="+Inf"} 2
            h_sum 0.75
            h_count 2
            # TYPE g gauge
            g NaN

            """
        let parsed = try Exposition.parse(good)
        #expect(parsed.families["a_total"]?.help == #"Things, with a \ backslash."#)
        #expect(parsed.value("a_total", ["l": "x\"y\\z\nw", "m": ""]) == 2)
        #expect(parsed.value("a_total", ["l": "plain"]) == 1500)
        #expect(parsed.value("h_count", [:]) == 2)
        #expect(parsed.value("g", [:])?.isNaN == true)
        try parsed.checkHistogram("h", [:])
        for bad in [
            "a_total 1\n",                                         // no TYPE before the sample
            "# TYPE a counter\na{l=\"x\"y\"} 1\n",                 // an unescaped quote
            "# TYPE a counter\na{l=\"x\\q\"} 1\n",                 // an escape the format does not have
            "# TYPE a counter\na{l=\"x\"} one\n",                  // not a number
            "# TYPE a counter\na{l=\"x\"} 1\na{l=\"x\"} 2\n",      // the same series twice
            "# TYPE a counter\n# TYPE a counter\na 1\n",           // two TYPE lines
            "# TYPE a summary-ish\na 1\n",                         // an unknown type
            "# TYPE 1a counter\n1a 1\n",                           // a bad metric name
            "# TYPE a counter\na{1l=\"x\"} 1\n",                   // a bad label name
        ] {
            #expect(throws: Exposition.Failure.self, "\(bad)") { try Exposition.parse(bad) }
        }
    }
}
