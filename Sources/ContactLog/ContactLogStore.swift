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

extension JobState {
    /// Folds one admission event (read in log order) into the state: both stores read the same way.
    public mutating func apply(kind: EventKind, attempt: Int, at: Date?) {
        if kind.isTerminal { terminal = kind }
        if kind == .dispatching, attempt >= (lastDispatchAttempt ?? 0) {
            lastDispatchAttempt = attempt
            lastDispatchResolved = false
            lastDispatchAt = at
        } else if attempt == lastDispatchAttempt {
            lastDispatchResolved = true
        }
    }
}

/// SQL both stores share.
public enum LogSQL {
    public static let terminalKinds = EventKind.allCases.filter(\.isTerminal).map { "'\($0.rawValue)'" }.joined(separator: ",")
    /// The kinds that decide whether a job may be sent: its outcome, its sends, and their retries.
    /// Receipts, deferrals and the rest are not read on this hot path.
    public static let admissionKinds = terminalKinds + ",'\(EventKind.dispatching.rawValue)','\(EventKind.retryScheduled.rawValue)'"
    /// An outcome written before `unknown` existed: the same two reasons under `failed`. Read as
    /// `unknown` by the view and the reports; the stored event is not changed (the chain is over it).
    public static func legacyUnknown(_ t: String) -> String {
        "(\(t).kind = 'failed' AND \(t).reason IN ('\(Reason.interrupted.rawValue)','\(Reason.possiblyDelivered.rawValue)'))"
    }

    /// The `reconciled` event (reason `found`) of the job of the terminal event `t`, when `t` is
    /// an unknown outcome: joined as `r`.
    public static func foundJoin(_ t: String) -> String {
        "LEFT JOIN events r ON (\(t).kind = '\(EventKind.unknown.rawValue)' OR \(legacyUnknown(t))) AND r.job_id = \(t).job_id"
            + " AND r.kind = '\(EventKind.reconciled.rawValue)' AND r.reason = '\(Reason.found.rawValue)'"
    }

    /// The outcome a terminal event `t` shows: `sent` once a provider said it has an unknown
    /// send (`reconciled` found, joined as `r`), `unknown` for an old `failed interrupted`, else its kind.
    public static func shownOutcome(_ t: String) -> String {
        "CASE WHEN r.seq IS NOT NULL THEN 'sent' WHEN \(legacyUnknown(t)) THEN '\(EventKind.unknown.rawValue)' ELSE \(t).kind END"
    }

    /// A job's current outcome, derived from its events: its terminal event, shown as `sent`
    /// (reason `reconciled`, with the provider's message id) when a provider said it has an
    /// `unknown` send.
    public static let jobOutcomesView = """
        CREATE VIEW job_outcomes AS
            SELECT t.job_id, t.contact_id, \(shownOutcome("t")) AS outcome,
                   CASE WHEN r.seq IS NOT NULL THEN '\(Reason.reconciled.rawValue)' ELSE t.reason END AS reason,
                   COALESCE(r.detail, t.detail) AS detail, t.at AS decided_at,
                   t.attempt, t.channel, t.template, t.tone, t.variant, COALESCE(r.provider, t.provider) AS provider,
                   COALESCE(r.provider_message_id, t.provider_message_id) AS provider_message_id,
                   t.body, t.address,
                   (SELECT MIN(e.at) FROM events e WHERE e.job_id = t.job_id) AS first_seen_at,
                   r.at AS reconciled_at
            FROM events t \(foundJoin("t"))
            WHERE t.job_id IS NOT NULL AND t.kind IN (\(terminalKinds))
        """

    /// The statements that bring a log written before `unknown` and `reconciled` up to date: the
    /// one-outcome index over the terminal kinds of this version, at most one `reconciled` per
    /// job, and the view. `terminalIndex` is the store's own CREATE of events_one_terminal.
    public static func outcomeMigration(terminalIndex: String) -> [String] {
        [
            "DROP INDEX IF EXISTS events_one_terminal",
            terminalIndex,
            // One answer per job from the providers: a second `gateway reconcile` asks nothing.
            "CREATE UNIQUE INDEX IF NOT EXISTS events_one_reconciled ON events(job_id) WHERE kind = '\(EventKind.reconciled.rawValue)'",
            "DROP VIEW IF EXISTS job_outcomes",
            jobOutcomesView,
        ]
    }

    /// Outcome counts by day, channel, segment, tone, outcome and reason of the terminal events
    /// in [`from`, `to`) (placeholders): a reconciled unknown send counts as `sent`, reason `reconciled`.
    public static func summaryRows(from: String, to: String) -> String {
        """
        SELECT substr(t.at, 1, 10) AS day, t.channel AS channel, t.segment AS segment, t.tone AS tone, \(shownOutcome("t")) AS kind,
               CASE WHEN r.seq IS NOT NULL THEN '\(Reason.reconciled.rawValue)' WHEN t.kind = 'sent' THEN NULL ELSE t.reason END AS why,
               COUNT(*) AS n
        FROM events t \(foundJoin("t"))
        WHERE t.kind IN (\(terminalKinds)) AND t.at >= \(from) AND t.at < \(to)
        GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
        """
    }

    /// Per provider, the messages it took (sent, and unknown sends a provider said it has) among
    /// the outcomes in [`from`, `to`), and how many of those a receipt reported delivered. An
    /// `unknown` send is in neither count until reconciled: not taken, not refused.
    public static func summaryProviders(from: String, to: String) -> String {
        """
        SELECT COALESCE(r.provider, t.provider) AS provider, COUNT(*) AS sent,
               SUM(CASE WHEN EXISTS (SELECT 1 FROM events d WHERE d.job_id = t.job_id AND d.kind = 'receipt' AND d.reason = 'delivered') THEN 1 ELSE 0 END) AS delivered
        FROM events t \(foundJoin("t"))
        WHERE (t.kind = 'sent' OR r.seq IS NOT NULL) AND t.kind IN ('sent', '\(EventKind.unknown.rawValue)', 'failed') AND t.at >= \(from) AND t.at < \(to)
        GROUP BY 1 ORDER BY 1
        """
    }

    /// The kinds a receipt's provider message id is looked up in: the accepted sends, and the
    /// unknown sends a provider said it has (`reconciled`, with its message id).
    public static let receiptTargetKinds = "'sent', '\(EventKind.reconciled.rawValue)'"
}

extension LogSQL {
    /// The marks one reply set (`set_by`), found when a person lifts its address opt-out.
    public static let optOutsSetByIndex = "CREATE INDEX opt_outs_set_by ON opt_outs(set_by)"

    /// What replies set (holds, escalations, moods, answers), one row each, beside the log: every
    /// change is also an event in `events`, which is what compliance reads.
    public static let contactStateTable = [
        """
        CREATE TABLE contact_state (
            key TEXT PRIMARY KEY, kind TEXT NOT NULL, contact_id TEXT, debt_id TEXT, address TEXT, source TEXT,
            active INTEGER NOT NULL, version INTEGER NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL
        )
        """,
        "CREATE INDEX contact_state_contact ON contact_state(contact_id)",
        "CREATE INDEX contact_state_debt ON contact_state(debt_id)",
        "CREATE INDEX contact_state_address ON contact_state(address)",
        "CREATE INDEX contact_state_source ON contact_state(source)",
        "CREATE INDEX contact_state_kind ON contact_state(kind, active)",
    ]
}

/// A stored event with its position in the log.
public struct StoredEvent: Sendable, Equatable {
    public var sequence: Int64
    public var event: ContactEvent

    public init(sequence: Int64, event: ContactEvent) {
        self.sequence = sequence
        self.event = event
    }
}

/// The contact log. Append-only: there is no update and no delete. What may read it, what may
/// add to it and what keeps it are separate roles (as GRDB separates readers from writers): the
/// log API and `gateway log` need a `LogReader`; the worker and the reply desk append.
public typealias ContactLogStore = LogReader & LogAppender & LogMaintenance

/// Reading the log.
public protocol LogReader: Sendable {
    /// Events matching the filter, oldest first.
    func events(_ filter: EventFilter) async throws -> [StoredEvent]

    /// The highest `seq` written so far (0 for an empty log): where a reader's snapshot ends, so
    /// that paging through a selection stops at what existed when it began (`EventFilter.throughSeq`).
    func lastSequence() async throws -> Int64

    /// The state of each job id that has any event.
    func jobStates(_ jobIDs: [String]) async throws -> [String: JobState]

    /// The opt-out and do-not-contact marks in force for each contact that has any.
    func optOuts(_ contactIDs: [String]) async throws -> [String: [OptOut]]

    /// The current delivery status of a job: the furthest status any receipt reported.
    func deliveryStatus(jobID: String) async throws -> DeliveryStatus?

    /// Which of these push tokens were dropped.
    func droppedPushTokens(_ tokens: [String]) async throws -> Set<String>

    /// Contact state rows (holds, escalations, moods, answers) matching the query, by key.
    func states(_ query: StateQuery) async throws -> [StateRecord]

    /// Everything a batch must know before deciding, in one read: what the log holds for its job
    /// ids, its contacts' opt-outs, the state replies set (pauses, moods, answers) and which push
    /// tokens are dead. One transaction on SQLite; one connection on PostgreSQL.
    func admissionFacts(_ request: AdmissionRequest) async throws -> AdmissionFacts

    /// Counts of outcomes by day, channel, segment, tone, outcome and reason, and delivery per provider.
    func summary(from: Date, to: Date) async throws -> LogSummary
}

/// Adding to the log: every method appends its events in one transaction with what they set.
public protocol LogAppender: Sendable {
    /// Appends the events in one transaction, in order. An event that would give a job a second
    /// terminal outcome, or a second `dispatching` for the same attempt, is not written; the
    /// result says, per event, whether it was written.
    func append(_ events: [ContactEvent]) async throws -> [Bool]

    /// A batch's outcomes, with what the providers' answers set (a recipient who unsubscribed at
    /// the provider, a dead push token), appended in one transaction: all of it or none. Returns
    /// for each event whether it was written, as `append` does.
    func appendOutcomes(_ events: [ContactEvent], optOuts: [OptOut], droppedTokens: [DroppedToken]) async throws -> [Bool]

    /// Sets (or replaces) a mark for the contact and channel (nil: all channels), and records it in the log.
    func setOptOut(_ mark: OptOut) async throws

    /// Takes a mark back, recording who did it and why; false when there was none.
    func removeOptOut(contactID: String, channel: Channel?, by: String, reason: String?, at: Date) async throws -> Bool

    /// Appends a provider's delivery report to the message it is about (by provider and message id).
    /// Idempotent; a report older in the delivery order than the current status is kept as late.
    func appendReceipt(_ receipt: Receipt) async throws -> ReceiptResult

    /// Records that a provider declared a push token dead; it is never used again.
    func dropPushToken(_ token: String, contactID: String, provider: String, reason: String, at: Date) async throws

    /// Records a customer's reply once (by provider and message id), in one transaction: finds the
    /// contacts sent a message on its channel at its address (with the debt of the latest), reads
    /// their opt-outs and the holds in force, and writes what `plan` makes of them (events,
    /// opt-outs, holds, escalations, moods, answers). Returns the plan, or nil when the reply was
    /// already recorded (a webhook delivered twice).
    func recordReply(_ message: InboundMessage, plan: @escaping @Sendable (ReplyMatch) -> ReplyPlan) async throws -> ReplyPlan?

    /// Writes every row and appends the events in one transaction, or nothing (nil) when a row's
    /// version is not the one its write expects (someone else changed it first). With `marks`, the
    /// same transaction takes back every contact mark those replies set, each recorded; the result
    /// is the marks taken back.
    func writeStates(_ writes: [StateWrite], events: [ContactEvent], removing marks: MarkRemoval?) async throws -> [OptOut]?
}

extension LogAppender {
    /// `writeStates` without marks to take back: false when nothing was written.
    public func writeStates(_ writes: [StateWrite], events: [ContactEvent]) async throws -> Bool {
        try await writeStates(writes, events: events, removing: nil) != nil
    }
}

/// Contact marks (opt-outs) to take back with a state write: every mark on one of `channels` that
/// one of these replies set (`set_by` is `reply:` and the reply's source), each recorded as an
/// `opt_in` event by `by`. A mark replaced meanwhile (by hand, by a provider) is not one of them.
public struct MarkRemoval: Sendable, Equatable {
    public var setBy: [String]
    public var channels: [Channel]
    public var by: String
    public var reason: String
    public var at: Date

    public init(setBy: [String], channels: [Channel], by: String, reason: String, at: Date) {
        self.setBy = setBy
        self.channels = channels
        self.by = by
        self.reason = reason
        self.at = at
    }
}

/// Keeping the log: checking its chain, and the retention job.
public protocol LogMaintenance: Sendable {
    /// Recomputes the hash chain from the first kept event (see EventChain) and names the first
    /// event that does not match.
    func verifyChain() async throws -> ChainReport

    /// The retention job, the only way events leave the log: removes the events before `cutoff`
    /// (as a prefix of the chain, so what stays verifies from the anchor it leaves), records the
    /// anchor and a `pruned` event. Nothing else may delete.
    func prune(before cutoff: Date, at: Date, by: String) async throws -> PruneReport
}

/// What `GET /reports/summary` answers.
public struct LogSummary: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var day: String
        public var channel: String?
        public var segment: String?
        public var tone: String?
        public var outcome: String
        /// Why, for what was held back (suppressed, expired, invalid, failed).
        public var reason: String?
        public var count: Int
        public init(day: String, channel: String?, segment: String?, tone: String?, outcome: String, reason: String?, count: Int) {
            self.day = day
            self.channel = channel
            self.segment = segment
            self.tone = tone
            self.outcome = outcome
            self.reason = reason
            self.count = count
        }
    }

    public struct Provider: Sendable, Equatable {
        public var provider: String
        public var sent: Int
        /// Of those, how many a receipt reported delivered.
        public var delivered: Int
        public var deliveryRate: Double { sent == 0 ? 0 : Double(delivered) / Double(sent) }
        public init(provider: String, sent: Int, delivered: Int) {
            self.provider = provider
            self.sent = sent
            self.delivered = delivered
        }
    }

    public var rows: [Row]
    public var providers: [Provider]
    public init(rows: [Row], providers: [Provider]) {
        self.rows = rows
        self.providers = providers
    }
}

/// Which events to read. Every field narrows; `afterSeq` is the cursor for the next page and
/// `throughSeq` the end of the reader's snapshot (events appended since are not read).
public struct EventFilter: Sendable, Equatable {
    public var contactID: String?
    public var jobID: String?
    public var debtID: String?
    public var channel: Channel?
    public var kinds: [EventKind]?
    public var template: String?
    /// The phone number, e-mail address or push token the event was sent to or came from.
    public var address: String?
    /// Events at or after `from` and before `to`.
    public var from: Date?
    public var to: Date?
    public var afterSeq: Int64?
    public var throughSeq: Int64?
    public var limit: Int

    public init(contactID: String? = nil, jobID: String? = nil, debtID: String? = nil, channel: Channel? = nil,
                kinds: [EventKind]? = nil, template: String? = nil, from: Date? = nil, to: Date? = nil,
                afterSeq: Int64? = nil, throughSeq: Int64? = nil, limit: Int = 1000, address: String? = nil) {
        self.address = address
        self.contactID = contactID
        self.jobID = jobID
        self.debtID = debtID
        self.channel = channel
        self.kinds = kinds
        self.template = template
        self.from = from
        self.to = to
        self.afterSeq = afterSeq
        self.throughSeq = throughSeq
        self.limit = limit
    }

    /// The WHERE clause and its arguments, shared by the SQL stores (`?` placeholders).
    public func sqlConditions() -> (clauses: [String], arguments: [String]) {
        var clauses: [String] = []
        var arguments: [String] = []
        func equal(_ column: String, _ value: String?) {
            guard let value else { return }
            clauses.append("\(column) = ?")
            arguments.append(value)
        }
        equal("contact_id", contactID)
        equal("job_id", jobID)
        equal("debt_id", debtID)
        equal("channel", channel?.rawValue)
        equal("template", template)
        equal("address", address)
        if let kinds, !kinds.isEmpty {
            clauses.append("kind IN (\(Array(repeating: "?", count: kinds.count).joined(separator: ",")))")
            arguments += kinds.map(\.rawValue)
        }
        if let from {
            clauses.append("at >= ?")
            arguments.append(formatTimestamp(from))
        }
        if let to {
            clauses.append("at < ?")
            arguments.append(formatTimestamp(to))
        }
        return (clauses, arguments)
    }
}

extension StateWrite {
    /// The version the row gets, or nil when the row's current version (nil: no row) is not the
    /// expected one. Both stores decide the same way.
    public func newVersion(current: Int?) -> Int? {
        switch expect {
        case .absent: current == nil ? 1 : nil
        case .version(let expected): current == expected ? expected + 1 : nil
        case .any: (current ?? 0) + 1
        }
    }
}

extension ReplyMatch {
    /// The contacts from `sent` rows (contact, debt) read oldest first: each contact once, in id
    /// order, with the debt of its latest message.
    public static func contacts(fromSent rows: [(contact: String, debt: String?)]) -> [Contact] {
        var latest: [String: String?] = [:]
        for row in rows { latest[row.contact] = row.debt }
        return latest.keys.sorted().map { Contact(id: $0, debtID: latest[$0] ?? nil) }
    }
}

/// A push token a provider declared dead (the app was removed): it is not used again.
public struct DroppedToken: Sendable, Equatable {
    public var token: String
    public var contactID: String
    public var provider: String
    public var reason: String
    public var at: Date

    public init(token: String, contactID: String, provider: String, reason: String, at: Date) {
        self.token = token
        self.contactID = contactID
        self.provider = provider
        self.reason = reason
        self.at = at
    }
}

/// What a batch asks the log before deciding (see `ContactLogStore.admissionFacts`).
public struct AdmissionRequest: Sendable {
    public var jobIDs: [String]
    public var contactIDs: [String]
    /// The contact state to read (nil: none).
    public var states: StateQuery?
    public var pushTokens: [String]

    public init(jobIDs: [String], contactIDs: [String], states: StateQuery?, pushTokens: [String]) {
        self.jobIDs = jobIDs
        self.contactIDs = contactIDs
        self.states = states
        self.pushTokens = pushTokens
    }
}

/// What the log answered.
public struct AdmissionFacts: Sendable {
    public var jobStates: [String: JobState] = [:]
    public var optOuts: [String: [OptOut]] = [:]
    public var states: [StateRecord] = []
    public var droppedTokens: Set<String> = []

    public init(jobStates: [String: JobState] = [:], optOuts: [String: [OptOut]] = [:], states: [StateRecord] = [], droppedTokens: Set<String> = []) {
        self.jobStates = jobStates
        self.optOuts = optOuts
        self.states = states
        self.droppedTokens = droppedTokens
    }
}

extension LogReader {
    /// Every event matching the filter, oldest first, read a page at a time (keyset pagination on
    /// `seq`): a million rows never sit in memory. `body` returns false to stop. What is read is the
    /// log as it was when this began (unless the filter already ends at a `throughSeq`): events
    /// appended meanwhile, by the workers or by `body` itself, are not, so it always ends.
    public func forEachEvent(_ filter: EventFilter, pageSize: Int = 1000, _ body: (StoredEvent) async throws -> Bool) async throws {
        var page = filter
        page.limit = pageSize
        if page.throughSeq == nil { page.throughSeq = try await lastSequence() }
        while true {
            let events = try await self.events(page)
            for event in events where try await !body(event) { return }
            guard events.count == pageSize, let last = events.last else { return }
            page.afterSeq = last.sequence
        }
    }
}

/// A contact log that cannot be opened or used, with what to fix.
public struct ContactLogError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Reading back what the log stored. A value no version of the gateway writes (an event kind it does
/// not know, a timestamp it cannot read) is an error naming the table, the row and the column, never
/// a guess: an unknown kind read as `failed` or a timestamp read as 1970 would put a false statement
/// in front of compliance. (`gateway audit verify` names the row if it was changed after it was written.)
public enum StoredValue {
    public static func value<T: RawRepresentable>(_ text: String?, as type: T.Type, column: String, row: String) throws -> T where T.RawValue == String {
        guard let text, let value = T(rawValue: text) else {
            throw ContactLogError("\(row): \(column) \(text.map { "\"\($0)\"" } ?? "is empty"), which this gateway does not know (written by a newer version, or changed by hand? run gateway audit verify)")
        }
        return value
    }

    public static func timestamp(_ text: String?, column: String, row: String) throws -> Date {
        guard let text, let date = parseTimestamp(text) else {
            throw ContactLogError("\(row): \(column) \(text.map { "\"\($0)\"" } ?? "is empty"), which is not a timestamp (changed by hand? run gateway audit verify)")
        }
        return date
    }
}
