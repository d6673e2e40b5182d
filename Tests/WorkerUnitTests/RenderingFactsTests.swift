import Foundation
import GatewayCore
import Testing
@testable import Templates
@testable import Worker

/// The facts a `dispatching` event keeps in `data` are written without building a dictionary;
/// they must be the very bytes the dictionary serialized to, whatever parts a message has.
@Suite struct RenderingFactsTests {
    @Test func theFactsAreTheBytesAnObjectSerializesTo() {
        for mask in 0..<32 {
            let has = { (bit: Int) in mask & (1 << bit) != 0 }
            let rendered = RenderedMessage(body: "Hola", subject: has(0) ? "Su pago \"vence\" hoy" : nil, html: has(1) ? "<p>Hola\n</p>" : nil,
                                           variant: "payment-reminder/sms.es.mustache", tone: "firm", locale: "es-CR",
                                           sms: has(2) ? SMSEncoding.analyze("Hola Ñandú") : nil)
            var tone = ToneFacts(sentimentLabel: has(3) ? "upset" : nil, sentimentScore: has(4) ? -0.75 : nil)
            tone.sentimentSource = "reply"
            var reference: [String: JSONValue] = ["tone_rule": .string("late-stage"), "category": .string("collection"), "tone_source": .string("reply")]
            if let label = tone.sentimentLabel { reference["sentiment_label"] = .string(label) }
            if let score = tone.sentimentScore { reference["sentiment_score"] = .number(score) }
            if let subject = rendered.subject { reference["subject"] = .string(subject) }
            if let html = rendered.html { reference["html"] = .string(html) }
            if let sms = rendered.sms {
                reference["sms_encoding"] = .string(sms.encoding.rawValue)
                reference["sms_segments"] = .number(Double(sms.segments))
            }
            #expect(BatchProcessor.renderingFacts(rendered, toneRule: "late-stage", category: .collection, toneFacts: tone)
                    == JSONValue.object(reference).serialized, "parts \(mask)")
        }
    }
}
