import Foundation
import GatewayCore

/// What the log knows about a job id, enough for the worker to decide whether it may be sent.
public struct JobState: Sendable, Equatable {
    /// The terminal outcome, if the job has one.
    public var terminal: EventKind?
    /// The highest attempt that has a `dispatching` event.
    public var lastDispatchAttempt: Int?
    /// Whether that attempt has a result (`sent`, `failed`, `retry_scheduled`...).
    public var lastDispatchResolved: Bool
    /// When that attempt's `dispatching` event was written.
    public var lastDispatchAt: Date?

    public init(terminal: EventKind? = nil, lastDispatchAttempt: Int? = nil, lastDispatchResolved: Bool = true, lastDispatchAt: Date? = nil) {
        self.terminal = terminal
        self.lastDispatchAttempt = lastDispatchAttempt
        self.lastDispatchResolved = lastDispatchResolved
        self.lastDispatchAt = lastDispatchAt
    }
}

/// A stored event with its position in the log.
public struct StoredEvent: Sendable, Equatable {
    public var sequence: Int64
    public var event: ContactEvent
}

/// The contact log. Append-only: there is no update and no delete.
public protocol ContactLogStore: Sendable {
    /// Appends the events in one transaction, in order. An event that would give a job a second
    /// terminal outcome, or a second `dispatching` for the same attempt, is not written; the
    /// result says, per event, whether it was written.
    func append(_ events: [ContactEvent]) async throws -> [Bool]

    /// The state of each job id that has any event.
    func jobStates(_ jobIDs: [String]) async throws -> [String: JobState]

    /// Events matching the filter, oldest first.
    func events(_ filter: EventFilter) async throws -> [StoredEvent]

    /// The opt-out and do-not-contact marks in force for each contact that has any.
    func optOuts(_ contactIDs: [String]) async throws -> [String: [OptOut]]

    /// Sets (or replaces) a mark for the contact and channel (nil: all channels), and records it in the log.
    func setOptOut(_ mark: OptOut) async throws

    /// Appends a provider's delivery report to the message it is about (by provider and message id).
    /// Idempotent; a report older in the delivery order than the current status is kept as late.
    func appendReceipt(_ receipt: Receipt) async throws -> ReceiptResult

    /// The current delivery status of a job: the furthest status any receipt reported.
    func deliveryStatus(jobID: String) async throws -> DeliveryStatus?

    /// Records that a provider declared a push token dead; it is never used again.
    func dropPushToken(_ token: String, contactID: String, provider: String, reason: String, at: Date) async throws

    /// Which of these push tokens were dropped.
    func droppedPushTokens(_ tokens: [String]) async throws -> Set<String>

    /// Takes a mark back, recording who did it and why; false when there was none.
    func removeOptOut(contactID: String, channel: Channel?, by: String, reason: String?, at: Date) async throws -> Bool
}

public struct EventFilter: Sendable {
    public var contactID: String?
    public var jobID: String?
    public var kinds: [EventKind]?
    public var limit: Int

    public init(contactID: String? = nil, jobID: String? = nil, kinds: [EventKind]? = nil, limit: Int = 1000) {
        self.contactID = contactID
        self.jobID = jobID
        self.kinds = kinds
        self.limit = limit
    }
}
