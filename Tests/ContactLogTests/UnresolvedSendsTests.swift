@testable import ContactLog
import Foundation
import GatewayCore
import Testing
import TestSupport

/// `gateway reconcile`'s reading of the log: the sends it cannot resolve, and nothing else.
@Suite struct UnresolvedSendsTests {
    static let t0 = Date(timeIntervalSince1970: 1_796_000_000)

    static func at(_ job: String, _ kind: EventKind, _ seconds: Double, attempt: Int = 1, reason: String? = nil) -> ContactEvent {
        ContactEvent(jobID: job, contactID: "C-\(job)", kind: kind, at: t0.addingTimeInterval(seconds), attempt: attempt,
                     channel: .sms, template: "payment-reminder", provider: "twilio", reason: reason, address: "+50688880000")
    }

    @Test(arguments: StoreKind.available) func onlyTheSendsTheLogCannotResolve(_ kind: StoreKind) async throws {
        let log = try await TestStore.make(kind).log
        _ = try await log.append([
            // Sent: resolved.
            Self.at("SENT", .dispatching, 0), Self.at("SENT", .sent, 1),
            // The worker died mid-send; a later batch ended it unknown (interrupted).
            Self.at("INT", .dispatching, 10), Self.at("INT", .unknown, 400, reason: "interrupted"),
            // The connection failed after the request went out: as an old log recorded it, under `failed`.
            Self.at("POSS", .dispatching, 20), Self.at("POSS", .failed, 21, reason: "possibly_delivered"),
            // A plain refusal: resolved (the provider said no).
            Self.at("REFUSED", .dispatching, 30), Self.at("REFUSED", .failed, 31, reason: "twilio_21211"),
            // Attempt 1 failed and was retried; attempt 2 was sent: resolved.
            Self.at("RETRIED", .dispatching, 40), Self.at("RETRIED", .retryScheduled, 41, reason: "http_500"),
            Self.at("RETRIED", .dispatching, 100, attempt: 2), Self.at("RETRIED", .sent, 101, attempt: 2),
            // A claim with no result, old enough for its worker to be dead.
            Self.at("DEAD", .dispatching, 50),
            // A claim with no result, young: a live worker may be sending it now.
            Self.at("LIVE", .dispatching, 590),
        ])
        let found = try await log.unresolvedSends(from: nil, to: nil, now: Self.t0.addingTimeInterval(600), liveWindow: 60)
        #expect(found.map { "\($0.jobID):\($0.state.rawValue)" } == ["INT:interrupted", "POSS:possibly_delivered", "DEAD:no_result"])
        let interrupted = try #require(found.first)
        #expect(interrupted.provider == "twilio" && interrupted.address == "+50688880000" && interrupted.channel == .sms)
        #expect(interrupted.claimedAt == Self.t0.addingTimeInterval(10) && interrupted.endedAt == Self.t0.addingTimeInterval(400))
        #expect(found.last?.endedAt == nil)
        // The period is the claim's: a claim before `from` is not listed even if it ended inside it.
        let later = try await log.unresolvedSends(from: Self.t0.addingTimeInterval(15), to: nil, now: Self.t0.addingTimeInterval(600), liveWindow: 60)
        #expect(later.map(\.jobID) == ["POSS", "DEAD"])
    }
}
