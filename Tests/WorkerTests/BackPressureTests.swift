import ContactLog
import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import Worker

/// Back-pressure: when every provider is failing, the worker leaves new work on the stream (rather
/// than turning it into retries), says so through WorkerHealth, and takes work again by itself once
/// a provider may be called.
@Suite struct BackPressureTests {
    @Test func withEveryProviderDownWorkStaysOnTheStreamUntilOneIsBack() async throws {
        let twilio = FakeTwilio()
        twilio.enqueue(.serverError)
        // One lane: once it reports the providers down it is in its wait, not in a read, so BP-2 stays unread.
        let harness = try Harness { $0.concurrency = 1 }
        let start = Date()
        let clock = TestClock(start)
        try await twilio.serve { base in
            try harness.writeProvider("twilio", """
                type: twilio
                account_sid: \(twilio.accountSID)
                auth_token: \(harness.secret("TWILIO_AUTH_TOKEN", twilio.authToken))
                from: "+15005550006"
                base_url: \(base)
                breaker_min_requests: 1
                breaker_window: 1
                breaker_open_seconds: 600
                """)
            try await harness.running(clock: { clock.now }) { gateway in
                try await harness.enqueue(job("BP-1"))
                // Its attempt fails and opens the only provider's breaker for 600 s (by the gateway's clock).
                #expect(try await eventually { try await harness.events(job: "BP-1").contains { $0.kind == .retryScheduled } })
                #expect(try await eventually { gateway.worker.health.current[.providers] != nil })
                #expect(gateway.worker.health.current[.providers]?.message.contains("twilio until") == true)
                try await harness.enqueue(job("BP-2"))
                // The lanes go round (each looks at the clock) and leave BP-2 unread.
                try await clock.set(start, thenWaitForReads: 20)
                #expect(try await harness.events(job: "BP-2").isEmpty)
                #expect(twilio.requests.count == 1)
                // Past the breaker's 600 s (then time runs on, a second every 20 ms, so retries come due):
                // work is taken again, and both jobs go out.
                clock.set(start.addingTimeInterval(700))
                let ticking = Task {
                    var at = start.addingTimeInterval(700)
                    while !Task.isCancelled {
                        try await Task.sleep(for: .milliseconds(20))
                        at.addTimeInterval(1)
                        clock.set(at)
                    }
                }
                defer { ticking.cancel() }
                #expect(try await harness.waitForOutcome(job: "BP-2").kind == .sent)
                #expect(try await harness.waitForOutcome(job: "BP-1").kind == .sent)
                #expect(gateway.worker.health.current[.providers] == nil)
            }
        }
    }
}
