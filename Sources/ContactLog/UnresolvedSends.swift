import Foundation
import GatewayCore

/// A send the gateway cannot say reached the customer or not: a claim (`dispatching`) whose worker
/// died before the provider's answer was recorded (ended `unknown interrupted`, or still without a
/// result), or a request that went out whole before its connection failed (`unknown
/// possibly_delivered`). Logs written before `unknown` existed have `failed` with those reasons:
/// read the same. `gateway reconcile` lists these and can ask the providers; a send a provider
/// said it has (`reconciled` found) is resolved and no longer listed.
public struct UnresolvedSend: Sendable, Equatable {
    public enum State: String, Sendable, Equatable {
        /// Ended `unknown` with reason `interrupted`: the worker stopped mid-send; never sent again.
        case interrupted
        /// Ended `unknown` with reason `possibly_delivered`: the provider may have taken it.
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
    /// The exact text the claim was sending, and for e-mail its subject (from the claim's data).
    public var body: String?
    public var subject: String?
    /// When a provider was asked and had no such message (`reconciled` not_found), and what it
    /// said: the send stays unresolved, and is not asked about again.
    public var notFoundAt: Date?
    public var notFoundDetail: String?
    /// The job's debt and segment, as its claim carried them (every event of a job carries them).
    public var debtID: String?
    public var segment: String?

    public init(state: State, jobID: String, contactID: String?, attempt: Int, channel: Channel?, provider: String?, address: String?,
                template: String?, claimedAt: Date, endedAt: Date?, body: String? = nil, subject: String? = nil,
                notFoundAt: Date? = nil, notFoundDetail: String? = nil) {
        self.state = state
        self.jobID = jobID
        self.contactID = contactID
        self.attempt = attempt
        self.channel = channel
        self.provider = provider
        self.address = address
        self.template = template
        self.claimedAt = claimedAt
        self.endedAt = endedAt
        self.body = body
        self.subject = subject
        self.notFoundAt = notFoundAt
        self.notFoundDetail = notFoundDetail
    }

    /// Its claim's debt and segment.
    public func with(debtID: String?, segment: String?) -> UnresolvedSend {
        var copy = self
        copy.debtID = debtID
        copy.segment = segment
        return copy
    }

    /// Whether a provider was already asked about it (and had no such message).
    public var alreadyAsked: Bool { notFoundAt != nil }
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
                let subject = claim.rawData.flatMap { try? JSONParser.parse($0) }.flatMap { value -> String? in
                    if case .object(let facts) = value, case .string(let subject)? = facts["subject"] { return subject }
                    return nil
                }
                var unresolved = UnresolvedSend(state: .noResult, jobID: jobID, contactID: claim.contactID, attempt: claim.attempt,
                                                channel: claim.channel, provider: claim.provider, address: claim.address,
                                                template: claim.template, claimedAt: claim.at, endedAt: nil, body: claim.body, subject: subject)
                    .with(debtID: claim.debtID, segment: claim.segment)
                if !state.lastDispatchResolved, state.terminal == nil {
                    guard now.timeIntervalSince(claim.at) >= liveWindow else { continue }
                    found.append(unresolved)
                    continue
                }
                guard state.terminal == .unknown || state.terminal == .failed else { continue }
                // The outcome says which: only the two reasons that leave the send in doubt (an old
                // log has them under `failed`), and whether a provider was asked already.
                let later = try await events(EventFilter(jobID: jobID, kinds: [.unknown, .failed, .reconciled], limit: 10)).map(\.event)
                let outcome = later.last { $0.kind.isTerminal }
                switch outcome?.reason {
                case Reason.interrupted.rawValue?: unresolved.state = .interrupted
                case Reason.possiblyDelivered.rawValue?: unresolved.state = .possiblyDelivered
                default: continue
                }
                if let answer = later.first(where: { $0.kind == .reconciled }) {
                    // Found: resolved (the job shows sent). Not found: still unresolved, asked once.
                    guard answer.reason == Reason.notFound.rawValue else { continue }
                    unresolved.notFoundAt = answer.at
                    unresolved.notFoundDetail = answer.detail
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
