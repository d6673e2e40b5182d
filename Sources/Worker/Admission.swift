import GatewayCore
import ContactLog
import Foundation

/// Whether an entry for a job id may go on to be sent, given what the contact log knows. Pure.
enum Admission: Equatable {
    case proceed
    /// Already handled (or this attempt already made): record `duplicate`, ack.
    case duplicate(reason: Reason, detail: String)
    /// A send of this attempt started long ago and has no result: its worker died mid-send.
    case interrupted(attempt: Int, since: Date?)
    /// Another worker is sending this attempt right now: leave the entry pending.
    case inProgressElsewhere
    /// `_attempt` does not follow the log (attempts are counted by the gateway alone): refuse.
    case badAttempt(detail: String)

    /// - Parameter inProgressWindow: a claim younger than this belongs to a live worker.
    static func decide(attempt: Int, state: JobState?, now: Date, inProgressWindow: TimeInterval) -> Admission {
        guard let state else {
            return attempt == 1 ? .proceed
                : .badAttempt(detail: "_attempt \(attempt) is set by the gateway for its own retries, but the contact log has no earlier attempt of this job")
        }
        if let terminal = state.terminal {
            return .duplicate(reason: .alreadyEnded(terminal), detail: "job id already ended \(terminal.rawValue); not sent again")
        }
        guard let last = state.lastDispatchAttempt else {
            return attempt == 1 ? .proceed
                : .badAttempt(detail: "_attempt \(attempt) is set by the gateway for its own retries, but the contact log has no earlier attempt of this job")
        }
        let claimIsLive = state.lastDispatchAt.map { now.timeIntervalSince($0) < inProgressWindow } ?? false
        if attempt < last || (attempt == last && state.lastDispatchResolved) {
            return .duplicate(reason: .attemptAlreadyMade, detail: "attempt \(attempt) of this job was already made; not sent again")
        }
        if attempt == last {
            return claimIsLive ? .inProgressElsewhere : .interrupted(attempt: last, since: state.lastDispatchAt)
        }
        guard attempt == last + 1 else {
            return .badAttempt(detail: "_attempt \(attempt) does not follow attempt \(last), the last one in the contact log")
        }
        // The previous attempt either asked for this retry, or its worker died after scheduling it.
        return !state.lastDispatchResolved && claimIsLive ? .inProgressElsewhere : .proceed
    }
}
