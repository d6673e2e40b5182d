import Foundation
import GatewayCore

/// A send the gateway cannot say reached the customer or not: a claim (`dispatching`) whose worker
/// died before the provider's answer was recorded (ended `failed interrupted`, or still without a
/// result), or a request that went out whole before its connection failed (`failed
/// possibly_delivered`). Compliance checks these with the provider (`gateway reconcile`).
public struct UnresolvedSend: Sendable, Equatable {
    public enum State: String, Sendable, Equatable {
        /// Ended `failed` with reason `interrupted`: the worker stopped mid-send; never sent again.
        case interrupted
        /// Ended `failed` with reason `possibly_delivered`: the provider may have taken it.
        case possiblyDelivered = "possibly_delivered"
        /// A claim with no result yet, older than a live worker's send could be: its worker died and
        /// the entry has not been taken over yet (it will end `interrupted`).
        case noResult = "no_result"
    }

    public var state: State
    public var jobID: String
    public var contactID: String?
    public var attempt: Int
    /// From the claim: where and how it was being sent.
    public var channel: Channel?
    public var provider: String?
    public var address: String?
    public var template: String?
    /// When the send was claimed (started).
    public var claimedAt: Date
    /// When the job ended (nil while it has no result).
    public var endedAt: Date?
}

extension LogReader {
    /// The sends claimed in [from, to) the log cannot resolve, oldest claim first. Read a page at a
    /// time: a long period never sits in memory whole, only what it finds.
    /// - Parameter liveWindow: a claim younger than this (at `now`) belongs to a worker that may
    ///   still be sending (half of `claim_idle_ms`), so it is not reported.
    public func unresolvedSends(from: Date?, to: Date?, now: Date, liveWindow: TimeInterval) async throws -> [UnresolvedSend] {
        var found: [UnresolvedSend] = []
        var page: [StoredEvent] = []
        func settle() async throws {
            guard !page.isEmpty else { return }
            let states = try await jobStates(Array(Set(page.compactMap(\.event.jobID))))
            for stored in page {
                let claim = stored.event
                guard let jobID = claim.jobID, let state = states[jobID], state.lastDispatchAttempt == claim.attempt else { continue }
                var unresolved = UnresolvedSend(state: .noResult, jobID: jobID, contactID: claim.contactID, attempt: claim.attempt,
                                                channel: claim.channel, provider: claim.provider, address: claim.address,
                                                template: claim.template, claimedAt: claim.at, endedAt: nil)
                if !state.lastDispatchResolved, state.terminal == nil {
                    guard now.timeIntervalSince(claim.at) >= liveWindow else { continue }
                    found.append(unresolved)
                    continue
                }
                guard state.terminal == .failed else { continue }
                // The outcome says which: only the two reasons that leave the send in doubt.
                let outcome = try await events(EventFilter(jobID: jobID, kinds: [.failed], limit: 10)).last?.event
                switch outcome?.reason {
                case Reason.interrupted.rawValue?: unresolved.state = .interrupted
                case Reason.possiblyDelivered.rawValue?: unresolved.state = .possiblyDelivered
                default: continue
                }
                unresolved.endedAt = outcome?.at
                found.append(unresolved)
            }
            page.removeAll(keepingCapacity: true)
        }
        try await forEachEvent(EventFilter(kinds: [.dispatching], from: from, to: to)) { stored in
            page.append(stored)
            if page.count >= 500 { try await settle() }
            return true
        }
        try await settle()
        return found
    }
}
