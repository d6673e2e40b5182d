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
}
