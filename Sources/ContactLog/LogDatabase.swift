import Foundation
import GatewayCore

// The reads of the contact log, written once for SQLite and PostgreSQL. A read is a `LogRead`: SQL
// text with `?` placeholders, its arguments, and what to make of each row. A store supplies only
// what truly differs between the databases (`LogDatabase`): how a read runs (SQLite: one read
// transaction through ExactSQL; PostgreSQL: one pooled connection, `?` numbered `$1, $2...`, values
// in StoredText's spelling) and how "one of these values" is written (`IN (?,?,...)` a few hundred
// at a time, or `= ANY(?)` with one array). Everything else — which statements, their SQL, reading
// rows back into events, job states, opt-outs, state rows and summaries — is here.

/// A value bound to a `?` placeholder.
public enum SQLArgument: Sendable, Equatable {
    case text(String?)
    case integer(Int64)
    /// A list bound as one value (PostgreSQL's `= ANY(?)`); made only by `LogDatabase.oneOf`.
    case textList([String])
}

/// One row of a result, read by column name. Text and bytes come back exactly as they were
/// written: each store undoes its own spelling (PostgreSQL's StoredText), and SQLite's rows are
/// read with their byte counts (ExactSQL).
public protocol LogRow {
    /// nil for NULL; a value that cannot be read as the type asked for throws (never read as nil or 0).
    func text(_ column: String) throws -> String?
    func bytes(_ column: String) throws -> [UInt8]?
    func integer(_ column: String) throws -> Int64?
}

/// Statements that read the log, run in order on one connection, and how each row folds into the result.
public struct LogRead<Result: Sendable>: Sendable {
    public struct Statement: Sendable {
        /// SQL both databases accept, with `?` placeholders (never a `?` inside a literal).
        public var sql: String
        public var arguments: [SQLArgument]
        /// Worth keeping prepared: its text does not change with the number of values listed.
        public var cached: Bool
        public var fold: @Sendable (inout Result, any LogRow) throws -> Void

        public init(_ sql: String, _ arguments: [SQLArgument] = [], cached: Bool = false,
                    fold: @escaping @Sendable (inout Result, any LogRow) throws -> Void) {
            self.sql = sql
            self.arguments = arguments
            self.cached = cached
            self.fold = fold
        }
    }

    public var initial: Result
    public var statements: [Statement]

    public init(_ initial: Result, _ statements: [Statement]) {
        self.initial = initial
        self.statements = statements
    }
}

/// What a SQL store supplies so that the shared reads run on it. Conforming gives the store every
/// `LogReader` method (below); its appends and maintenance use the same reads inside their
/// transactions (`LogReads`).
public protocol LogDatabase: LogReader {
    /// Runs the statements in order on one connection (SQLite: in one read transaction), folding
    /// every row into the result.
    func run<Result: Sendable>(_ read: LogRead<Result>) async throws -> Result

    /// Conditions that `column` is one of `values`, each with its arguments, one per statement to
    /// run (their rows together are the answer); none for no values.
    static func oneOf(_ column: String, _ values: [String]) -> [(condition: String, arguments: [SQLArgument])]

    /// What a SELECT in an append adds to lock the rows it read until the transaction ends: nothing
    /// on SQLite (a write transaction has the whole file), ` FOR UPDATE` on PostgreSQL.
    static var forUpdate: String { get }
}

/// The log's reads, SQL written once.
public enum LogReads {
    /// The events a filter selects, oldest first.
    public static func events(_ filter: EventFilter) -> LogRead<[StoredEvent]> {
        var (clauses, texts) = filter.sqlConditions()
        var arguments = texts.map(SQLArgument.text)
        if let after = filter.afterSeq {
            clauses.append("seq > ?")
            arguments.append(.integer(after))
        }
        if let through = filter.throughSeq {
            clauses.append("seq <= ?")
            arguments.append(.integer(through))
        }
        let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        arguments.append(.integer(Int64(filter.limit)))
        return LogRead([], [.init("SELECT * FROM events \(whereClause) ORDER BY seq LIMIT ?", arguments, cached: true) { events, row in
            events.append(try storedEvent(row))
        }])
    }

    /// The highest `seq` written (0 for an empty log). Appends hold the chain head (SQLite's write
    /// lock, PostgreSQL's chain_head row), so seq order is commit order: no event below it can still appear.
    public static let lastSequence = LogRead<Int64>(0, [.init("SELECT MAX(seq) AS last FROM events", cached: true) { last, row in
        last = try row.integer("last") ?? 0
    }])

    /// The states of these jobs, from the events that decide whether a job may be sent.
    public static func jobStates<D: LogDatabase>(_ jobIDs: [String], on database: D.Type) -> LogRead<[String: JobState]> {
        LogRead([:], D.oneOf("job_id", jobIDs).map { list in
            .init("SELECT job_id, kind, attempt, at FROM events WHERE \(list.condition) AND kind IN (\(LogSQL.admissionKinds)) ORDER BY seq",
                  list.arguments) { states, row in try foldJobState(row, into: &states) }
        })
    }

    /// The opt-out and do-not-contact marks of these contacts.
    public static func optOuts<D: LogDatabase>(_ contactIDs: [String], on database: D.Type) -> LogRead<[String: [OptOut]]> {
        LogRead([:], D.oneOf("contact_id", contactIDs).map { list in
            .init("SELECT * FROM opt_outs WHERE \(list.condition) ORDER BY contact_id, channel", list.arguments) { marks, row in
                let mark = try optOut(row)
                marks[mark.contactID, default: []].append(mark)
            }
        })
    }

    /// The marks these setters set (a reply's `reply:` and source), whichever contact they are on,
    /// by contact and channel (through `opt_outs_set_by`).
    public static func optOutsSet<D: LogDatabase>(by setters: [String], on database: D.Type) -> LogRead<[OptOut]> {
        LogRead([], D.oneOf("set_by", setters).map { list in
            .init("SELECT * FROM opt_outs WHERE \(list.condition) ORDER BY contact_id, channel", list.arguments) { marks, row in
                marks.append(try optOut(row))
            }
        })
    }

    /// Which of these push tokens were dropped.
    public static func droppedTokens<D: LogDatabase>(_ tokens: [String], on database: D.Type) -> LogRead<Set<String>> {
        LogRead([], D.oneOf("token", tokens).map { list in
            .init("SELECT token FROM dropped_push_tokens WHERE \(list.condition)", list.arguments) { dropped, row in
                dropped.insert(try row.text("token") ?? "")
            }
        })
    }

    /// Contact state rows by key (`sortedStates` orders them): a long query is read in parts.
    public static func states(_ query: StateQuery) -> LogRead<[String: StateRecord]> {
        LogRead([:], query.chunked().map { part in
            let (clause, arguments) = part.sqlConditions()
            return .init("SELECT * FROM contact_state WHERE \(clause) ORDER BY key", arguments.map(SQLArgument.text)) { byKey, row in
                let record = try stateRecord(row)
                byKey[record.key] = record
            }
        })
    }

    public static func sortedStates(_ byKey: [String: StateRecord]) -> [StateRecord] {
        byKey.keys.sorted().compactMap { byKey[$0] }
    }

    /// Everything a batch reads before deciding, on one connection.
    public static func admission<D: LogDatabase>(_ request: AdmissionRequest, on database: D.Type) -> LogRead<AdmissionRows> {
        func into<T>(_ read: LogRead<T>, _ fold: @escaping @Sendable (inout AdmissionRows, (inout T) throws -> Void) throws -> Void)
            -> [LogRead<AdmissionRows>.Statement] {
            read.statements.map { statement in
                .init(statement.sql, statement.arguments, cached: statement.cached) { rows, row in
                    try fold(&rows) { part in try statement.fold(&part, row) }
                }
            }
        }
        var statements = into(jobStates(request.jobIDs, on: D.self)) { rows, fold in try fold(&rows.facts.jobStates) }
        statements += into(optOuts(request.contactIDs, on: D.self)) { rows, fold in try fold(&rows.facts.optOuts) }
        if let query = request.states {
            statements += into(states(query)) { rows, fold in try fold(&rows.states) }
        }
        statements += into(droppedTokens(request.pushTokens, on: D.self)) { rows, fold in try fold(&rows.facts.droppedTokens) }
        return LogRead(AdmissionRows(), statements)
    }

    /// What the admission read collects (its state rows by key until `facts` sorts them).
    public struct AdmissionRows: Sendable {
        var facts = AdmissionFacts()
        var states: [String: StateRecord] = [:]

        public var result: AdmissionFacts {
            var facts = facts
            facts.states = LogReads.sortedStates(states)
            return facts
        }
    }

    /// The delivery statuses receipts reported for a job.
    public static func receiptStatuses(jobID: String) -> LogRead<[DeliveryStatus]> {
        LogRead([], [.init("SELECT reason FROM events WHERE job_id = ? AND kind = 'receipt'", [.text(jobID)]) { statuses, row in
            if let status = try row.text("reason").flatMap(DeliveryStatus.init(rawValue:)) { statuses.append(status) }
        }])
    }

    /// Outcome counts and delivery per provider of the outcomes in [from, to).
    public static func summary(from: Date, to: Date) -> LogRead<LogSummary> {
        let range: [SQLArgument] = [.text(formatTimestamp(from)), .text(formatTimestamp(to))]
        return LogRead(LogSummary(rows: [], providers: []), [
            .init(LogSQL.summaryRows(from: "?", to: "?"), range) { summary, row in
                summary.rows.append(LogSummary.Row(day: try row.text("day") ?? "", channel: try row.text("channel"), segment: try row.text("segment"),
                                                   tone: try row.text("tone"), outcome: try row.text("kind") ?? "", reason: try row.text("why"),
                                                   count: Int(try row.integer("n") ?? 0)))
            },
            .init(LogSQL.summaryProviders(from: "?", to: "?"), range) { summary, row in
                summary.providers.append(LogSummary.Provider(provider: try row.text("provider") ?? "", sent: Int(try row.integer("sent") ?? 0),
                                                             delivered: Int(try row.integer("delivered") ?? 0)))
            },
        ])
    }

    // MARK: Rows

    /// Folds one admission event (`job_id, kind, attempt, at`, read in log order) into its job's state.
    static func foldJobState(_ row: any LogRow, into states: inout [String: JobState]) throws {
        let id = try row.text("job_id") ?? ""
        let place = "events of job \(id)"
        let kind = try StoredValue.value(try row.text("kind"), as: EventKind.self, column: "kind", row: place)
        let attempt = Int(try row.integer("attempt") ?? 1)
        states[id, default: JobState()].apply(kind: kind, attempt: attempt, at: try StoredValue.timestamp(try row.text("at"), column: "at", row: place))
    }

    /// An event as stored, every byte of every column.
    public static func storedEvent(_ row: any LogRow) throws -> StoredEvent {
        let seq = try row.integer("seq") ?? 0
        let place = "event seq \(seq)"
        let event = ContactEvent(
            jobID: try row.text("job_id"), contactID: try row.text("contact_id"),
            kind: try StoredValue.value(try row.text("kind"), as: EventKind.self, column: "kind", row: place),
            at: try StoredValue.timestamp(try row.text("at"), column: "at", row: place),
            attempt: Int(try row.integer("attempt") ?? 1),
            channel: try row.text("channel").flatMap(Channel.init(rawValue:)),
            template: try row.text("template"), tone: try row.text("tone"), variant: try row.text("variant"), provider: try row.text("provider"),
            providerMessageID: try row.text("provider_message_id"), reason: try row.text("reason"), detail: try row.text("detail"),
            body: try row.text("body"), address: try row.text("address"), streamID: try row.text("stream_id"),
            debtID: try row.text("debt_id"), segment: try row.text("segment"), rawData: try row.bytes("data"), job: try row.bytes("job"))
        return StoredEvent(sequence: seq, event: event)
    }

    /// The stored values EventChain hashes, read back exactly as written (every byte).
    public static func chainValues(_ row: any LogRow) throws -> [ChainValue?] {
        try EventChain.columns.map { column in
            column == "attempt" ? try row.integer(column).map { .text(String($0)) } : try row.bytes(column).map(ChainValue.bytes)
        }
    }

    static func optOut(_ row: any LogRow) throws -> OptOut {
        let place = "opt_outs \(try row.text("contact_id") ?? "")/\(try row.text("channel") ?? "*")"
        return OptOut(contactID: try row.text("contact_id") ?? "", channel: Channel(rawValue: try row.text("channel") ?? "*"),
                      kind: try StoredValue.value(try row.text("kind"), as: OptOut.Kind.self, column: "kind", row: place), setBy: try row.text("set_by") ?? "",
                      setAt: try StoredValue.timestamp(try row.text("set_at"), column: "set_at", row: place), reason: try row.text("reason"))
    }

    static func stateRecord(_ row: any LogRow) throws -> StateRecord {
        let place = "contact_state \(try row.text("key") ?? "")"
        return StateRecord(key: try row.text("key") ?? "", kind: try StoredValue.value(try row.text("kind"), as: StateRecord.Kind.self, column: "kind", row: place),
                           contactID: try row.text("contact_id"), debtID: try row.text("debt_id"), address: try row.text("address"), source: try row.text("source"),
                           active: try row.integer("active") == 1, version: Int(try row.integer("version") ?? 0), value: try row.text("value") ?? "{}",
                           updatedAt: try StoredValue.timestamp(try row.text("updated_at"), column: "updated_at", row: place))
    }
}

/// The `LogReader` methods of every SQL store.
extension LogDatabase {
    public func events(_ filter: EventFilter) async throws -> [StoredEvent] {
        try await run(LogReads.events(filter))
    }

    public func lastSequence() async throws -> Int64 {
        try await run(LogReads.lastSequence)
    }

    public func jobStates(_ jobIDs: [String]) async throws -> [String: JobState] {
        guard !jobIDs.isEmpty else { return [:] }
        return try await run(LogReads.jobStates(jobIDs, on: Self.self))
    }

    public func optOuts(_ contactIDs: [String]) async throws -> [String: [OptOut]] {
        guard !contactIDs.isEmpty else { return [:] }
        return try await run(LogReads.optOuts(contactIDs, on: Self.self))
    }

    public func droppedPushTokens(_ tokens: [String]) async throws -> Set<String> {
        guard !tokens.isEmpty else { return [] }
        return try await run(LogReads.droppedTokens(tokens, on: Self.self))
    }

    public func states(_ query: StateQuery) async throws -> [StateRecord] {
        LogReads.sortedStates(try await run(LogReads.states(query)))
    }

    public func admissionFacts(_ request: AdmissionRequest) async throws -> AdmissionFacts {
        try await run(LogReads.admission(request, on: Self.self)).result
    }

    public func deliveryStatus(jobID: String) async throws -> DeliveryStatus? {
        try await run(LogReads.receiptStatuses(jobID: jobID)).max { $0.rank < $1.rank }
    }

    public func summary(from: Date, to: Date) async throws -> LogSummary {
        try await run(LogReads.summary(from: from, to: to))
    }
}

// MARK: Appending

/// One step of an append, run in the store's transaction that holds the chain head.
public enum LogWrite: Sendable {
    /// Events linked to the chain in order; one a unique index refuses (a second outcome, a second
    /// `dispatching` for an attempt) is left out, and the result says so.
    case events([ContactEvent])
    /// A statement that returns a row for each row it changed (`RETURNING`, which both databases
    /// take); when it changed one, `event` (if any) is appended after it.
    case statement(String, [SQLArgument], then: ContactEvent?)
}

/// What an append did: per event of its `events` steps whether it was written, and per
/// `statement` step whether it changed a row.
public struct LogWriteResult: Sendable {
    public var written: [Bool] = []
    public var changed: [Bool] = []
    public init() {}
}

/// What a SQL store supplies so that the appends are shared: running the steps in one transaction
/// that holds the chain head (SQLite: BEGIN IMMEDIATE, the head read from the last event;
/// PostgreSQL: the chain_head row locked FOR UPDATE and saved at the end).
public protocol LogWriting: LogAppender {
    func write(_ steps: [LogWrite]) async throws -> LogWriteResult
}

/// The log's writes, SQL written once.
public enum LogWrites {
    /// Sets (or replaces) a mark, and records it.
    public static func setOptOut(_ mark: OptOut) -> LogWrite {
        .statement("""
            INSERT INTO opt_outs (contact_id, channel, kind, set_by, set_at, reason) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (contact_id, channel) DO UPDATE SET kind = excluded.kind, set_by = excluded.set_by,
                set_at = excluded.set_at, reason = excluded.reason
            RETURNING contact_id
            """, [.text(mark.contactID), .text(mark.channel?.rawValue ?? "*"), .text(mark.kind.rawValue), .text(mark.setBy),
                  .text(formatTimestamp(mark.setAt)), .text(mark.reason)], then: .optOutSet(mark))
    }

    /// Takes a mark back and records it (`event`), when there was one (set by `setBy`, if given).
    public static func removeOptOut(contactID: String, channel: Channel?, setBy: String? = nil, event: ContactEvent) -> LogWrite {
        .statement("DELETE FROM opt_outs WHERE contact_id = ? AND channel = ?\(setBy == nil ? "" : " AND set_by = ?") RETURNING contact_id",
                   [.text(contactID), .text(channel?.rawValue ?? "*")] + (setBy.map { [SQLArgument.text($0)] } ?? []), then: event)
    }

    /// Marks a push token dead and records it, once.
    public static func drop(_ dead: DroppedToken) -> LogWrite {
        .statement("""
            INSERT INTO dropped_push_tokens (token, contact_id, provider, reason, dropped_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT DO NOTHING RETURNING token
            """, [.text(dead.token), .text(dead.contactID), .text(dead.provider), .text(dead.reason), .text(formatTimestamp(dead.at))],
                   then: .tokenDropped(dead.token, contactID: dead.contactID, provider: dead.provider, reason: dead.reason, at: dead.at))
    }

    /// A batch's outcomes with what the providers' answers set.
    public static func outcomes(_ events: [ContactEvent], optOuts: [OptOut], droppedTokens: [DroppedToken]) -> [LogWrite] {
        [.events(events)] + optOuts.map(setOptOut) + droppedTokens.map(drop)
    }

    /// What a reply's plan writes to the log: its events, the opt-outs it sets, and those an opt-in takes back.
    public static func reply(_ plan: ReplyPlan, _ message: InboundMessage) -> [LogWrite] {
        [.events(plan.events)] + plan.setOptOuts.map(setOptOut) + plan.liftOptOuts.map { lift in
            removeOptOut(contactID: lift.contactID, channel: lift.channel,
                         event: .optOutRemoved(contactID: lift.contactID, channel: lift.channel, by: ReplyPlanner.setByPrefix + message.source,
                                               reason: "opt-in reply \"\(message.body.prefix(60))\"", at: message.at))
        }
    }
}

/// The `LogAppender` methods that are a list of steps, for every SQL store.
extension LogWriting {
    public func append(_ events: [ContactEvent]) async throws -> [Bool] {
        guard !events.isEmpty else { return [] }
        return try await write([.events(events)]).written
    }

    public func appendOutcomes(_ events: [ContactEvent], optOuts: [OptOut], droppedTokens: [DroppedToken]) async throws -> [Bool] {
        guard !events.isEmpty || !optOuts.isEmpty || !droppedTokens.isEmpty else { return [] }
        return try await write(LogWrites.outcomes(events, optOuts: optOuts, droppedTokens: droppedTokens)).written
    }

    public func setOptOut(_ mark: OptOut) async throws {
        _ = try await write([LogWrites.setOptOut(mark)])
    }

    public func removeOptOut(contactID: String, channel: Channel?, by: String, reason: String?, at: Date) async throws -> Bool {
        let event = ContactEvent.optOutRemoved(contactID: contactID, channel: channel, by: by, reason: reason, at: at)
        return try await write([LogWrites.removeOptOut(contactID: contactID, channel: channel, event: event)]).changed.first ?? false
    }

    public func dropPushToken(_ token: String, contactID: String, provider: String, reason: String, at: Date) async throws {
        _ = try await write([LogWrites.drop(DroppedToken(token: token, contactID: contactID, provider: provider, reason: reason, at: at))])
    }
}

// MARK: Reads and writes inside an append (receipts, replies, contact state)

extension LogReads {
    /// The message a receipt is about: the accepted send (or the reconciled unknown one) with that
    /// provider's message id.
    public static func receiptTarget(_ receipt: Receipt) -> LogRead<ReceiptTarget?> {
        LogRead(nil, [.init("""
            SELECT job_id, contact_id, channel, attempt FROM events
            WHERE provider = ? AND provider_message_id = ? AND kind IN (\(LogSQL.receiptTargetKinds)) ORDER BY seq LIMIT 1
            """, [.text(receipt.provider), .text(receipt.messageID)]) { target, row in
            target = try row.text("job_id").map { ReceiptTarget(jobID: $0, contactID: try row.text("contact_id"), channel: try row.text("channel").flatMap(Channel.init(rawValue:)),
                                                            attempt: Int(try row.integer("attempt") ?? 1)) }
        }])
    }

    /// Whether a report for a message this log does not know was kept already.
    public static func receiptKept(_ receipt: Receipt) -> LogRead<Bool> {
        LogRead(false, [.init("""
            SELECT 1 AS found FROM events WHERE kind = 'receipt' AND job_id IS NULL AND provider = ? AND provider_message_id = ? AND reason = ? LIMIT 1
            """, [.text(receipt.provider), .text(receipt.messageID), .text(receipt.status.rawValue)]) { kept, _ in kept = true }])
    }

    /// Whether this reply (by provider and message id) was recorded already.
    public static func replySeen(_ message: InboundMessage) -> LogRead<Bool> {
        LogRead(false, [.init("SELECT 1 AS found FROM events WHERE kind = 'inbound' AND provider = ? AND provider_message_id = ? LIMIT 1",
                              [.text(message.provider), .text(message.messageID)]) { seen, _ in seen = true }])
    }

    /// The contacts (and debts) sent a message on the reply's channel at its address, oldest first.
    public static func sentTo(_ message: InboundMessage) -> LogRead<[(contact: String, debt: String?)]> {
        LogRead([], [.init("""
            SELECT contact_id, debt_id FROM events WHERE address = ? AND channel = ? AND kind = 'sent' AND contact_id IS NOT NULL ORDER BY seq
            """, [.text(message.from), .text(message.channel.rawValue)]) { sent, row in
            sent.append((contact: try row.text("contact_id") ?? "", debt: try row.text("debt_id")))
        }])
    }

    /// A contact state row's version (nil: no row), locked for the rest of the transaction where
    /// the database needs it (`forUpdate`).
    public static func stateVersion<D: LogDatabase>(key: String, on database: D.Type) -> LogRead<Int?> {
        LogRead(nil, [.init("SELECT version FROM contact_state WHERE key = ?\(D.forUpdate)", [.text(key)]) { version, row in
            version = try row.integer("version").map { Int($0) }
        }])
    }
}

extension LogWrites {
    /// Writes a contact state row at `version`.
    public static func state(_ record: StateRecord, version: Int) -> LogWrite {
        .statement("""
            INSERT INTO contact_state (key, kind, contact_id, debt_id, address, source, active, version, value, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, contact_id = excluded.contact_id, debt_id = excluded.debt_id,
                address = excluded.address, source = excluded.source, active = excluded.active, version = excluded.version,
                value = excluded.value, updated_at = excluded.updated_at
            RETURNING key
            """, [.text(record.key), .text(record.kind.rawValue), .text(record.contactID), .text(record.debtID), .text(record.address),
                  .text(record.source), .integer(record.active ? 1 : 0), .integer(Int64(version)), .text(record.value),
                  .text(formatTimestamp(record.updatedAt))], then: nil)
    }
}
