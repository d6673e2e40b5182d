import ContactLog
import Foundation
import GatewayCore

/// The contact log with metrics: every call goes to `inner` unchanged; the writes are timed
/// (`gateway_contact_log_append_duration_seconds{operation}`, failures in
/// `gateway_contact_log_append_errors_total`), and what they wrote is counted: each outcome event
/// the log accepted in `gateway_jobs_total` (an event the log refused, a second terminal outcome,
/// is not), each reply recorded for the first time with its intents and escalations. Counting what
/// the log wrote, not what the worker meant to write, keeps the metrics equal to the record.
public struct MeteredContactLog: ContactLogStore {
    public let inner: any ContactLogStore
    let metrics: GatewayMetrics

    public init(_ inner: any ContactLogStore, metrics: GatewayMetrics) {
        self.inner = inner
        self.metrics = metrics
    }

    /// The `operation` label of the timed writes.
    static let operations = ["append", "append_outcomes", "set_opt_out", "remove_opt_out", "append_receipt", "drop_push_token",
                             "record_reply", "write_states"]

    /// Times `body` as `operation`, counting a throw as an error.
    private func timed<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let result = try await body()
            metrics.append(operation, took: clock.now - start, failed: false)
            return result
        } catch {
            metrics.append(operation, took: clock.now - start, failed: true)
            throw error
        }
    }

    private func count(_ events: [ContactEvent], written: [Bool]) {
        for (event, wrote) in zip(events, written) where wrote { metrics.recorded(event) }
    }

    // MARK: LogAppender, timed and counted

    public func append(_ events: [ContactEvent]) async throws -> [Bool] {
        let written = try await timed("append") { try await inner.append(events) }
        count(events, written: written)
        return written
    }

    public func appendOutcomes(_ events: [ContactEvent], optOuts: [OptOut], droppedTokens: [DroppedToken]) async throws -> [Bool] {
        let written = try await timed("append_outcomes") { try await inner.appendOutcomes(events, optOuts: optOuts, droppedTokens: droppedTokens) }
        count(events, written: written)
        return written
    }

    public func setOptOut(_ mark: OptOut) async throws {
        try await timed("set_opt_out") { try await inner.setOptOut(mark) }
    }

    public func removeOptOut(contactID: String, channel: Channel?, by: String, reason: String?, at: Date) async throws -> Bool {
        try await timed("remove_opt_out") { try await inner.removeOptOut(contactID: contactID, channel: channel, by: by, reason: reason, at: at) }
    }

    public func appendReceipt(_ receipt: Receipt) async throws -> ReceiptResult {
        try await timed("append_receipt") { try await inner.appendReceipt(receipt) }
    }

    public func dropPushToken(_ token: String, contactID: String, provider: String, reason: String, at: Date) async throws {
        try await timed("drop_push_token") { try await inner.dropPushToken(token, contactID: contactID, provider: provider, reason: reason, at: at) }
    }

    public func recordReply(_ message: InboundMessage, plan: @escaping @Sendable (ReplyMatch) -> ReplyPlan) async throws -> ReplyPlan? {
        let recorded = try await timed("record_reply") { try await inner.recordReply(message, plan: plan) }
        if let recorded {
            metrics.reply(channel: message.channel, intents: Self.intents(of: recorded), escalations: recorded.escalations)
        }
        return recorded
    }

    /// The intents a reply was read as: the planner writes them in its `inbound` event's data.
    static func intents(of plan: ReplyPlan) -> [String] {
        guard let data = plan.events.first(where: { $0.kind == .inbound })?.rawData,
              case .object(let facts)? = try? JSONParser.parse(data),
              case .array(let intents)? = facts["intents"] else { return [] }
        return intents.compactMap { if case .string(let intent) = $0 { intent } else { nil } }
    }

    public func writeStates(_ writes: [StateWrite], events: [ContactEvent], removing marks: MarkRemoval?) async throws -> [OptOut]? {
        let removed = try await timed("write_states") { try await inner.writeStates(writes, events: events, removing: marks) }
        if removed != nil { count(events, written: events.map { _ in true }) }
        return removed
    }

    // MARK: LogReader and LogMaintenance, forwarded

    public func events(_ filter: EventFilter) async throws -> [StoredEvent] { try await inner.events(filter) }
    public func lastSequence() async throws -> Int64 { try await inner.lastSequence() }
    public func jobStates(_ jobIDs: [String]) async throws -> [String: JobState] { try await inner.jobStates(jobIDs) }
    public func optOuts(_ contactIDs: [String]) async throws -> [String: [OptOut]] { try await inner.optOuts(contactIDs) }
    public func deliveryStatus(jobID: String) async throws -> DeliveryStatus? { try await inner.deliveryStatus(jobID: jobID) }
    public func droppedPushTokens(_ tokens: [String]) async throws -> Set<String> { try await inner.droppedPushTokens(tokens) }
    public func states(_ query: StateQuery) async throws -> [StateRecord] { try await inner.states(query) }
    public func admissionFacts(_ request: AdmissionRequest) async throws -> AdmissionFacts { try await inner.admissionFacts(request) }
    public func summary(from: Date, to: Date) async throws -> LogSummary { try await inner.summary(from: from, to: to) }
    public func verifyChain() async throws -> ChainReport { try await inner.verifyChain() }
    public func prune(before cutoff: Date, at: Date, by: String) async throws -> PruneReport { try await inner.prune(before: cutoff, at: at, by: by) }
}
