import Foundation
import GatewayCore
import Testing
@testable import Worker

/// A number impossible for its country never reaches a provider: it is refused when the job is read
/// (+5068888 went to Twilio and came back 21211 before), and the worker goes on.
@Suite struct PhoneValidationEndToEndTests {
    @Test func aNumberTooShortForItsCountryIsRefusedBeforeAnyProvider() async throws {
        let harness = try Harness()
        let outcome = try await harness.running { _ in
            try await harness.enqueue(job("SHORT-phone", phone: "+5068888"))
            try await harness.enqueue(job("LANDLINE-phone", phone: "+50622223333"))
            try await harness.enqueue(job("GOOD-phone"))
            return try await harness.waitForOutcome(job: "GOOD-phone")
        }
        #expect(outcome.kind == .sent)
        let dead = Dictionary(try await harness.deadLetters().map { ($0["job"] ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        let short = dead[job("SHORT-phone", phone: "+5068888")]
        #expect(short?["error_code"] == "invalid_phone")
        #expect(short?["error"] == "contact.phone +5068888: Costa Rica mobile numbers have 8 digits after +506; this one has 4")
        let landline = dead[job("LANDLINE-phone", phone: "+50622223333")]
        #expect(landline?["error_code"] == "invalid_phone")
        #expect(landline?["error"]?.contains("is a fixed line") == true)
        #expect(try await harness.outcome(job: "SHORT-phone")?.reason == "invalid_phone")
        #expect(try await harness.outcome(job: "LANDLINE-phone")?.reason == "invalid_phone")
        // Only the good job was handed to a provider.
        #expect(harness.outbox().count == 1)
        #expect(try await harness.pendingCount() == 0)
    }

    /// A job naming sms then email, for a contact whose phone is a Costa Rican fixed line.
    func landlineJob(_ id: String) -> String {
        job(id, phone: "+50622223333").replacingOccurrences(of: #""channels": ["sms"]"#, with: #""channels": ["sms", "email"]"#)
            .replacingOccurrences(of: #""locale": "es-CR""#, with: #""locale": "es-CR", "email": "ana@example.com""#)
    }

    /// Channels are an order of preference: a fixed line cannot take the SMS, so the e-mail goes, and the
    /// log says why sms was passed over.
    @Test func aLandlineWithEmailToFallBackOnIsSentByEmail() async throws {
        let harness = try Harness()
        let outcome = try await harness.running { _ in
            try await harness.enqueue(landlineJob("LANDLINE-email"))
            return try await harness.waitForOutcome(job: "LANDLINE-email")
        }
        #expect(outcome.kind == .sent)
        #expect(outcome.channel == .email)
        let reason = "sms not used: contact.phone +50622223333 is a fixed line (Costa Rica numbers starting 22 after +506 are landlines); SMS needs a mobile"
        let dispatching = try #require(try await harness.events(job: "LANDLINE-email").first { $0.kind == .dispatching })
        #expect(dispatching.channel == .email)
        #expect(dispatching.detail?.hasSuffix(reason) == true, "\(dispatching.detail ?? "")")
        #expect(harness.outbox().map { $0["channel"] as? String } == ["email"])
        #expect(try await harness.deadLetters().isEmpty)
        #expect(try await harness.pendingCount() == 0)
    }

    /// With no other channel usable either, the job is suppressed and the log names both reasons.
    @Test func aLandlineWithNoOtherUsableChannelIsSuppressedSayingWhy() async throws {
        let harness = try Harness()
        // Only an SMS provider (never called): e-mail cannot go out.
        try harness.writeProvider("twilio", "type: twilio\naccount_sid: AC\(String(repeating: "0", count: 32))\nauth_token: \(harness.secret("TWILIO_AUTH_TOKEN", "t"))\nfrom: \"+15005550006\"\nbase_url: http://127.0.0.1:1\n")
        let outcome = try await harness.running { _ in
            try await harness.enqueue(landlineJob("LANDLINE-none"))
            return try await harness.waitForOutcome(job: "LANDLINE-none")
        }
        #expect(outcome.kind == .suppressed)
        #expect(outcome.reason == "no_reachable_channel")
        #expect(outcome.detail == "no requested channel can be used: sms: contact.phone +50622223333 is a fixed line (Costa Rica numbers starting 22 after +506 are landlines); SMS needs a mobile; email: no provider is configured for email [rule reachability]")
        #expect(harness.outbox().isEmpty)
        #expect(try await harness.deadLetters().isEmpty)
    }
}
