import Foundation
import Testing
@testable import GatewayHTTP

/// GET /ready's checks without a server: a check that never answers fails at its timeout, and a
/// hung one is not asked again until it answers. (ReadyTests in WorkerTests runs them against a
/// real gateway, Redis and contact log.)
@Suite struct ReadinessTests {
    @Test func aCheckThatNeverAnswersCountsAsFailingAfterItsTimeout() async {
        let readiness = Readiness(checks: [
            .init(name: "hangs") {
                await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }   // never resumed
                return nil
            },
            .init(name: "fine") { nil },
        ], timeout: .milliseconds(50))
        let report = await readiness.evaluate()
        #expect(report == Readiness.Report(ready: false, checks: ["hangs": "no answer within 50 ms", "fine": "ok"]))
    }

    /// A dependency that hangs gets one question at a time: later probes fail at once instead of
    /// queueing more calls behind the one still waiting.
    @Test func aHungCheckIsNotAskedAgainUntilItAnswers() async {
        let release = AsyncStream.makeStream(of: Void.self)
        let calls = Counter()
        let check = Readiness.Check.oneAtATime(name: "db") {
            calls.increment()
            for await _ in release.stream {}   // until finished
            return nil
        }
        let readiness = Readiness(checks: [check], timeout: .milliseconds(50))
        let first = await readiness.evaluate()
        #expect(first.checks["db"] == "no answer within 50 ms")
        let second = await readiness.evaluate()
        #expect(second.ready == false && second.checks["db"]?.hasPrefix("the previous check has not been answered yet") == true, "\(second)")
        #expect(calls.value == 1, "asked once while it hangs")
        release.continuation.finish()
        // Once the first call has answered, the next probe asks again (and gets its answer).
        var third = await readiness.evaluate()
        while third.checks["db"]?.hasPrefix("the previous check") == true {
            try? await Task.sleep(for: .milliseconds(10))
            third = await readiness.evaluate()
        }
        #expect(third == Readiness.Report(ready: true, checks: ["db": "ok"]))
        #expect(calls.value == 2)
    }
}

final class Counter: @unchecked Sendable {
    // @unchecked: `count` is behind `lock`.
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
