import ContactLog
import Foundation
import GatewayCore
import Testing
@testable import Worker

@Suite struct AdmissionTests {
    static let now = Date(timeIntervalSince1970: 1_796_000_000)
    static let fresh = now.addingTimeInterval(-5)
    static let old = now.addingTimeInterval(-600)

    static func state(terminal: EventKind? = nil, last: Int? = nil, resolved: Bool = true, at: Date? = nil) -> JobState {
        JobState(terminal: terminal, lastDispatchAttempt: last, lastDispatchResolved: resolved, lastDispatchAt: at)
    }

    @Test(arguments: [
        // New job.
        (1, nil as JobState?, "proceed"),
        (2, nil, "bad_attempt"),
        // Already finished, whatever the attempt.
        (1, state(terminal: .sent, last: 1, at: old), "already_sent"),
        (3, state(terminal: .invalid), "already_invalid"),
        // Received before, never dispatched (e.g. a crash before the claim was written).
        (1, state(), "proceed"),
        (2, state(), "bad_attempt"),
        // Attempt 1 claimed and in flight on another worker.
        (1, state(last: 1, resolved: false, at: fresh), "in_progress"),
        (2, state(last: 1, resolved: false, at: fresh), "in_progress"),
        // Attempt 1 claimed long ago, no result: that worker died.
        (1, state(last: 1, resolved: false, at: old), "interrupted"),
        // ...but it had scheduled attempt 2 before dying: attempt 2 may go.
        (2, state(last: 1, resolved: false, at: old), "proceed"),
        // Attempt 1 failed and asked for a retry.
        (2, state(last: 1, resolved: true, at: fresh), "proceed"),
        (1, state(last: 1, resolved: true, at: fresh), "attempt_already_made"),
        (1, state(last: 2, resolved: false, at: fresh), "attempt_already_made"),
        (4, state(last: 1, resolved: true, at: old), "bad_attempt"),
    ])
    func decides(attempt: Int, state: JobState?, expected: String) {
        let admission = Admission.decide(attempt: attempt, state: state, now: Self.now, inProgressWindow: 60)
        let label = switch admission {
        case .proceed: "proceed"
        case .duplicate(let reason, _): reason.rawValue
        case .inProgressElsewhere: "in_progress"
        case .interrupted: "interrupted"
        case .badAttempt: "bad_attempt"
        }
        #expect(label == expected)
    }
}
