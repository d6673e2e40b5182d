import ContactLog
import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import RedisQueue
@testable import Worker

/// What the worker does with two provider answers that are easy to get wrong: a connection that
/// died after the request went out (possibly delivered: never sent again), and a Retry-After
/// (honored even when a later provider fails differently, and shared by the workers).
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
        #expect(events.map(\.kind) == [.dispatching, .unknown])
        let outcome = try #require(events.last)
        #expect(outcome.reason == "possibly_delivered" && outcome.provider == "twilio-a")
        #expect(outcome.detail?.contains("check with twilio-a whether it went out") == true, "\(outcome.detail ?? "")")
        #expect(try await harness.redis.command(["ZCARD", harness.configuration.scheduledKey]) == .integer(0))
    }

    @Test func aRetryAfterOutlivesTheNextProvidersFailureAndHoldsTheProviderBack() async throws {
        let first = FakeTwilio()
        first.enqueue(.rateLimited(retryAfter: 1))
        let second = FakeTwilio()
        second.enqueue(.serverError)
        let harness = try Harness()  // retry_base_seconds 0.05: the backoff alone would retry at once
        let t0 = Date(timeIntervalSince1970: 1_796_000_000)
        let clock = TestClock(t0)
        try await first.serve { firstURL in
            try await second.serve { secondURL in
                try writeTwilio(harness, "twilio-a", priority: 1, sid: first.accountSID, token: first.authToken, base: firstURL)
                try writeTwilio(harness, "twilio-b", priority: 2, sid: second.accountSID, token: second.authToken, base: secondURL)
                try await harness.running(clock: { clock.now }) { _ in
                    try await harness.enqueue(job("RA-1"))
                    #expect(try await eventually { try await harness.events(job: "RA-1").contains { $0.kind == .retryScheduled } })
                    // twilio-a asked for 1 s, twilio-b gave none: the retry waits for twilio-a's second.
                    let scheduled = try await harness.redis.command(["ZRANGE", harness.configuration.scheduledKey, "0", "-1", "WITHSCORES"])
                    #expect(scheduled.array?.count == 2)
                    #expect(scheduled.array?.last?.string == "1796000001000", "\(scheduled)")

                    // Half a second on, another job: twilio-a is still held back, so twilio-b takes it.
                    clock.set(t0.addingTimeInterval(0.5))
                    try await harness.enqueue(job("RA-2"))
                    let other = try await harness.waitForOutcome(job: "RA-2")
                    #expect(other.kind == .sent && other.provider == "twilio-b")
                    #expect(first.requests.count == 1)
                    // A whole promotion pass at t0 + 0.5 s leaves RA-1 waiting.
                    try await clock.set(t0.addingTimeInterval(0.5), thenWaitForReads: 2)
                    #expect(try await harness.redis.command(["ZCARD", harness.configuration.scheduledKey]) == .integer(1))
                    #expect(first.requests.count == 1)

                    clock.set(t0.addingTimeInterval(1))
                    let outcome = try await harness.waitForOutcome(job: "RA-1")
                    #expect(outcome.kind == .sent && outcome.provider == "twilio-a" && outcome.attempt == 2)
                }
            }
        }
        let events = try await harness.events(job: "RA-1")
        #expect(events.map(\.kind) == [.dispatching, .providerFailed, .retryScheduled, .dispatching, .sent])
        #expect(events[1].provider == "twilio-a" && events[1].reason == "http_429")
        #expect(events[2].provider == "twilio-b" && events[2].reason == "http_500")
        #expect(events[2].detail?.contains("twilio-a may not be called before") == true, "\(events[2].detail ?? "")")
        // twilio-a was called again only once its second was up.
        #expect(first.requests.count == 2)
        #expect(events[3].at >= t0.addingTimeInterval(1))
        #expect(second.requests.count == 2)
    }

    @Test func aRetryAfterAnotherWorkerGotIsHonored() async throws {
        let first = FakeTwilio()
        let second = FakeTwilio()
        let harness = try Harness()
        // Another worker was told by twilio-a to wait ten minutes.
        let until = Int64((Date().timeIntervalSince1970 + 600) * 1000)
        try await harness.redis.command(["SET", harness.configuration.breakerPrefix + "twilio-a:retry_after", String(until), "PX", "600000"])
        try await first.serve { firstURL in
            try await second.serve { secondURL in
                try writeTwilio(harness, "twilio-a", priority: 1, sid: first.accountSID, token: first.authToken, base: firstURL)
                try writeTwilio(harness, "twilio-b", priority: 2, sid: second.accountSID, token: second.authToken, base: secondURL)
                try await harness.running { _ in
                    try await harness.enqueue(job("RS-1"))
                    _ = try await harness.waitForOutcome(job: "RS-1")
                }
            }
        }
        let outcome = try await harness.outcome(job: "RS-1")
        #expect(outcome?.kind == .sent && outcome?.provider == "twilio-b")
        #expect(first.requests.isEmpty)
        #expect(try await harness.events(job: "RS-1").map(\.kind) == [.dispatching, .sent])
    }
}
