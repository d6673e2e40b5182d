import ContactLog
import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import RedisQueue
@testable import Worker

/// What the worker does with a provider answer that is easy to get wrong: a connection that died
/// after the request went out (possibly delivered: never sent again).
@Suite struct ProviderAnswerTests {
    func writeTwilio(_ harness: Harness, _ name: String, priority: Int, sid: String, token: String, base: String) throws {
        try harness.writeProvider(name, "type: twilio\npriority: \(priority)\naccount_sid: \(sid)\nauth_token: \(harness.secret(name.uppercased().replacingOccurrences(of: "-", with: "_") + "_TOKEN", token))\nfrom: \"+15005550006\"\nbase_url: \(base)\n")
    }

    @Test func aConnectionThatDiesAfterTheRequestWentOutIsNotSentAgainAnywhere() async throws {
        let dropping = try DroppingProvider()
        defer { dropping.stop() }
        let backup = FakeTwilio()
        let harness = try Harness()
        try await backup.serve { backupURL in
            try writeTwilio(harness, "twilio-a", priority: 1, sid: "AC" + String(repeating: "a1", count: 16), token: "a-token", base: dropping.baseURL)
            try writeTwilio(harness, "twilio-b", priority: 2, sid: backup.accountSID, token: backup.authToken, base: backupURL)
            try await harness.running { _ in
                // A first job is answered, so the worker's client keeps that connection alive.
                try await harness.enqueue(job("PD-0"))
                #expect(try await harness.waitForOutcome(job: "PD-0").kind == .sent)
                // Then twilio-a reads each request whole and closes the connection without answering.
                dropping.dropAfterReading()
                try await harness.enqueue(job("PD-1"))
                _ = try await harness.waitForOutcome(job: "PD-1")
            }
        }
        let sent = dropping.requests.filter { $0.body.contains("Body=") }
        #expect(sent.count == 2, "twilio-a got \(sent.count) requests for 2 jobs")
        #expect(backup.requests.isEmpty, "the possibly delivered message was handed to twilio-b")
        let events = try await harness.events(job: "PD-1")
        #expect(events.map(\.kind) == [.received, .dispatching, .failed])
        let outcome = try #require(events.last)
        #expect(outcome.reason == "possibly_delivered" && outcome.provider == "twilio-a")
        #expect(outcome.detail?.contains("check with twilio-a whether it went out") == true, "\(outcome.detail ?? "")")
        #expect(try await harness.redis.command(["ZCARD", harness.configuration.scheduledKey]) == .integer(0))
    }
}
