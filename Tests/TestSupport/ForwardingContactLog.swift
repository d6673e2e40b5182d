import ContactLog
import Foundation
import GatewayCore

/// A contact log that hands every call to a real one (`inner`). Tests that need to watch or
/// interleave one call conform to it and write only that call; the rest is forwarded here.
public protocol ForwardingContactLog: ContactLogStore {
    var inner: any ContactLogStore { get }
}

extension ForwardingContactLog {
    public func append(_ events: [ContactEvent]) async throws -> [Bool] { try await inner.append(events) }
    public func jobStates(_ jobIDs: [String]) async throws -> [String: JobState] { try await inner.jobStates(jobIDs) }
    public func events(_ filter: EventFilter) async throws -> [StoredEvent] { try await inner.events(filter) }
    public func lastSequence() async throws -> Int64 { try await inner.lastSequence() }
    public func optOuts(_ contactIDs: [String]) async throws -> [String: [OptOut]] { try await inner.optOuts(contactIDs) }
    public func setOptOut(_ mark: OptOut) async throws { try await inner.setOptOut(mark) }
    public func appendReceipt(_ receipt: Receipt) async throws -> ReceiptResult { try await inner.appendReceipt(receipt) }
    public func deliveryStatus(jobID: String) async throws -> DeliveryStatus? { try await inner.deliveryStatus(jobID: jobID) }
    public func dropPushToken(_ token: String, contactID: String, provider: String, reason: String, at: Date) async throws {
        try await inner.dropPushToken(token, contactID: contactID, provider: provider, reason: reason, at: at)
    }
    public func droppedPushTokens(_ tokens: [String]) async throws -> Set<String> { try await inner.droppedPushTokens(tokens) }
    public func removeOptOut(contactID: String, channel: Channel?, by: String, reason: String?, at: Date) async throws -> Bool {
        try await inner.removeOptOut(contactID: contactID, channel: channel, by: by, reason: reason, at: at)
    }
    public func recordReply(_ message: InboundMessage, plan: @escaping @Sendable (ReplyMatch) -> ReplyPlan) async throws -> ReplyPlan? {
        try await inner.recordReply(message, plan: plan)
    }
    public func states(_ query: StateQuery) async throws -> [StateRecord] { try await inner.states(query) }
    public func admissionFacts(_ request: AdmissionRequest) async throws -> AdmissionFacts { try await inner.admissionFacts(request) }
    public func appendOutcomes(_ events: [ContactEvent], optOuts: [OptOut], droppedTokens: [DroppedToken]) async throws -> [Bool] {
        try await inner.appendOutcomes(events, optOuts: optOuts, droppedTokens: droppedTokens)
    }
    public func writeStates(_ writes: [StateWrite], events: [ContactEvent], removing marks: MarkRemoval?) async throws -> [OptOut]? {
        try await inner.writeStates(writes, events: events, removing: marks)
    }
    public func verifyChain() async throws -> ChainReport { try await inner.verifyChain() }
    public func prune(before cutoff: Date, at: Date, by: String) async throws -> PruneReport { try await inner.prune(before: cutoff, at: at, by: by) }
    public func summary(from: Date, to: Date) async throws -> LogSummary { try await inner.summary(from: from, to: to) }
}
