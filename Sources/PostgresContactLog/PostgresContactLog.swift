import ContactLog
import Foundation
import GatewayCore
import Crypto
import Logging
import PostgresNIO

/// The contact log in PostgreSQL, for several workers on several machines. Same contract as the
/// SQLite store (ContactLogStore), same hash chain (EventChain).
///
/// Chains: with one chain (the default) every append holds the one-row `chain_head` table, so the
/// log is a single line in `seq` order and the fleet appends one at a time. With `chains` above
/// one the workers' batch appends (`write`) spread over chains 1...N, each with its own head row
/// in `chain_heads`: an append takes whichever head is free (`SKIP LOCKED`), so appends on
/// different chains never wait for each other. Each chain is a line of its own in `seq` order (its
/// appends are serialized by its head), `events.chain` says which; verify walks every chain.
/// Chain 0 keeps its head in `chain_head` and takes every other append (receipts, replies, state,
/// prune). What the one head serialized besides the chain (one outcome, one `dispatching` per
/// attempt, one `reconciled` per job) is kept by a transaction-scoped advisory lock per job id.
public final class PostgresContactLog: ContactLogStore, LogDatabase, LogWriting, LogCheckpointing {
    let client: PostgresClient
    private let runner: Task<Void, Never>
    let logger: Logger
    public let url: String
    /// Whether this process spreads its batch appends over chains 1...N (`chains` > 1 at open).
    let spread: Bool

    /// `url`: postgres://user:password@host:port/database[?sslmode=disable|prefer|require].
    /// `chains`: how many chains the batch appends spread over (1: the one chain, as before). The
    /// chains a log has are never removed: a later open with fewer still spreads over all of them.
    public init(url: String, chains: Int = 1, logger: Logger = Logger(label: "contact-log")) async throws {
        guard (1...256).contains(chains) else { throw ContactLogError("log_chains must be from 1 to 256, got \(chains)") }
        let configuration = try Self.configuration(url: url)
        self.url = url
        client = PostgresClient(configuration: configuration)
        let client = self.client
        runner = Task { await client.run() }
        self.logger = logger
        do {
            try await Self.migrate(client, logger)
            spread = try await Self.ensureChains(chains, client, logger) > 0
        } catch {
            runner.cancel()
            throw error
        }
    }

    /// Adds chains 1...`chains` that are missing (none for 1); returns how many the log has beside chain 0.
    static func ensureChains(_ chains: Int, _ client: PostgresClient, _ logger: Logger) async throws -> Int {
        if chains > 1 {
            try await client.query("""
                INSERT INTO chain_heads (chain, hash) SELECT n, \(EventChain.genesis) FROM generate_series(1, \(chains)) AS n
                ON CONFLICT (chain) DO NOTHING
                """, logger: logger)
        }
        let rows = try await client.query("SELECT COUNT(*) FROM chain_heads", logger: logger).collect()
        return Int(try rows.first?.makeRandomAccess()[0].decode(Int64.self) ?? 0)
    }

    deinit { runner.cancel() }

    /// Stops the connection pool.
    public func close() { runner.cancel() }

    static func configuration(url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
              let host = components.host, !host.isEmpty else {
            throw ContactLogError("contact_log: \(LogMasking.url(url)) is not a PostgreSQL URL like postgres://user:password@host:5432/database")
        }
        guard let user = components.user, !user.isEmpty else { throw ContactLogError("contact_log: the PostgreSQL URL needs a user (postgres://user:password@host/db)") }
        let database = String(components.path.drop { $0 == "/" })
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS
        switch mode {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(.makeClientConfiguration())
        case "require": tls = .require(.makeClientConfiguration())
        default: throw ContactLogError("contact_log: sslmode must be disable, prefer or require, not \(mode)")
        }
        var configuration = PostgresClient.Configuration(host: host, port: components.port ?? 5432, username: user,
                                                         password: components.password?.removingPercentEncoding, database: database.isEmpty ? nil : database,
                                                         tls: tls)
        configuration.options.maximumConnections = 10
        return configuration
    }

    static let terminalKinds = LogSQL.terminalKinds
    static let admissionKinds = LogSQL.admissionKinds

    /// Creates the schema once (several workers may start together: an advisory lock orders them).
    static func migrate(_ client: PostgresClient, _ logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(727274)", logger: logger)
            try await connection.query("CREATE TABLE IF NOT EXISTS gateway_schema (version INTEGER PRIMARY KEY)", logger: logger)
            let versions = try await connection.query("SELECT version FROM gateway_schema", logger: logger).collect()
                .map { try $0.makeRandomAccess()[0].decode(Int.self) }
            if !versions.contains(1) {
                for statement in Self.schema {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO gateway_schema (version) VALUES (1)", logger: logger)
            } else if !versions.contains(2) {
                // Version 2 writes values in StoredText's spelling. A value written before that holds
                // U+FDD0 as it is; it is respelled (the escape character escaped) so it reads the same.
                // Only the spelling changes: the hash chain covers the values, so it still verifies.
                for statement in Self.storedTextMigration {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
            if !versions.contains(2) {
                try await connection.query("INSERT INTO gateway_schema (version) VALUES (2)", logger: logger)
            }
            if !versions.contains(3) {
                // Version 3: the contact state replies set (holds, escalations, moods, answers).
                for statement in LogSQL.contactStateTable {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO gateway_schema (version) VALUES (3)", logger: logger)
            }
            if !versions.contains(4) {
                // Version 4: `unknown` joins the terminal kinds, at most one `reconciled` per job, and
                // the view shows a reconciled unknown send as sent. Events already written stay as they
                // are: the view and reports read an old `failed interrupted` as unknown.
                let terminalIndex = "CREATE UNIQUE INDEX events_one_terminal ON events(job_id) WHERE job_id IS NOT NULL AND kind IN (\(Self.terminalKinds))"
                for statement in LogSQL.outcomeMigration(terminalIndex: terminalIndex) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO gateway_schema (version) VALUES (4)", logger: logger)
            }
            if !versions.contains(5) {
                // Version 5: chains. Every event so far is on chain 0, whose head stays in chain_head
                // (so a worker of an earlier version still appends correctly until chains are added).
                for statement in Self.chainsMigration {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO gateway_schema (version) VALUES (5)", logger: logger)
            }
            if !versions.contains(6) {
                // Version 6: `job`, the raw job on a `dispatching` that stands for `received` (one row
                // for a job admitted and sent in the same batch). Hashed only when it holds a value.
                try await connection.query("ALTER TABLE events ADD COLUMN job TEXT", logger: logger)
                try await connection.query("INSERT INTO gateway_schema (version) VALUES (6)", logger: logger)
            }
            if !versions.contains(7) {
                // Version 7: the marks one reply set, found when a person lifts its address opt-out.
                try await connection.query(PostgresQuery(unsafeSQL: LogSQL.optOutsSetByIndex), logger: logger)
                try await connection.query("INSERT INTO gateway_schema (version) VALUES (7)", logger: logger)
            }
        }
    }

    /// The UPDATEs that respell existing values holding U+FDD0 (see StoredText), with the log's
    /// append-only trigger lifted for this transaction only.
    static var storedTextMigration: [String] {
        let escape = "chr(\(StoredText.escape.value))"
        let escaped = StoredText.escapeBytes.map { "\(escape) || '\(String($0, radix: 16, uppercase: true))'" }.joined(separator: " || ")
        func update(_ table: String, _ columns: [String]) -> String {
            "UPDATE \(table) SET " + columns.map { "\($0) = replace(\($0), \(escape), \(escaped))" }.joined(separator: ", ")
                + " WHERE concat(\(columns.joined(separator: ", "))) LIKE '%' || \(escape) || '%'"
        }
        return [
            "ALTER TABLE events DISABLE TRIGGER events_append_only",
            update("events", EventChain.firstColumns.filter { $0 != "attempt" }),
            "ALTER TABLE events ENABLE TRIGGER events_append_only",
            update("opt_outs", ["contact_id", "set_by", "reason"]),
            update("dropped_push_tokens", ["token", "contact_id", "provider", "reason"]),
        ]
    }

    static let columns = EventChain.columns.joined(separator: ", ")

    static let chainsMigration = [
        "ALTER TABLE events ADD COLUMN chain INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE chain_anchors ADD COLUMN chain INTEGER NOT NULL DEFAULT 0",
        "CREATE TABLE chain_heads (chain INTEGER PRIMARY KEY CHECK (chain > 0), hash TEXT NOT NULL)",
        "CREATE TRIGGER chain_heads_no_delete BEFORE DELETE OR TRUNCATE ON chain_heads FOR EACH STATEMENT EXECUTE FUNCTION gateway_append_only()",
    ]

    static let schema: [String] = [
        """
        CREATE TABLE events (
            seq BIGSERIAL PRIMARY KEY,
            job_id TEXT, contact_id TEXT, debt_id TEXT, segment TEXT, kind TEXT NOT NULL, at TEXT NOT NULL,
            attempt INTEGER NOT NULL DEFAULT 1, channel TEXT, template TEXT, tone TEXT, variant TEXT, provider TEXT,
            provider_message_id TEXT, reason TEXT, detail TEXT, body TEXT, address TEXT, stream_id TEXT, data TEXT,
            prev_hash TEXT, hash TEXT
        )
        """,
        "CREATE INDEX events_job ON events(job_id)",
        "CREATE INDEX events_contact ON events(contact_id, seq)",
        "CREATE INDEX events_debt ON events(debt_id, seq) WHERE debt_id IS NOT NULL",
        "CREATE INDEX events_at ON events(at)",
        "CREATE INDEX events_address ON events(address) WHERE address IS NOT NULL",
        "CREATE INDEX events_provider_message ON events(provider, provider_message_id) WHERE provider_message_id IS NOT NULL",
        "CREATE UNIQUE INDEX events_one_terminal ON events(job_id) WHERE job_id IS NOT NULL AND kind IN (\(terminalKinds))",
        "CREATE UNIQUE INDEX events_one_dispatch ON events(job_id, attempt) WHERE kind = 'dispatching'",
        LogSQL.jobOutcomesView,
        "CREATE TABLE chain_head (id INTEGER PRIMARY KEY CHECK (id = 1), hash TEXT NOT NULL)",
        "INSERT INTO chain_head (id, hash) VALUES (1, '\(EventChain.genesis)')",
        """
        CREATE TABLE chain_anchors (
            id BIGSERIAL PRIMARY KEY, through_seq BIGINT NOT NULL, hash TEXT NOT NULL, cutoff TEXT NOT NULL,
            removed BIGINT NOT NULL, pruned_at TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE opt_outs (
            contact_id TEXT NOT NULL, channel TEXT NOT NULL, kind TEXT NOT NULL, set_by TEXT NOT NULL, set_at TEXT NOT NULL,
            reason TEXT, PRIMARY KEY (contact_id, channel)
        )
        """,
        "CREATE TABLE dropped_push_tokens (token TEXT PRIMARY KEY, contact_id TEXT, provider TEXT NOT NULL, reason TEXT, dropped_at TEXT NOT NULL)",
        // The database refuses changes to the log. The retention job, alone, sets gateway.retention
        // for its own transaction to delete a prefix of events.
        """
        CREATE FUNCTION gateway_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'events' AND current_setting('gateway.retention', true) = 'on' THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION 'the contact log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME;
        END
        $$
        """,
        "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events FOR EACH ROW EXECUTE FUNCTION gateway_append_only()",
        "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION gateway_append_only()",
        "CREATE TRIGGER anchors_append_only BEFORE UPDATE OR DELETE ON chain_anchors FOR EACH ROW EXECUTE FUNCTION gateway_append_only()",
        "CREATE TRIGGER anchors_no_truncate BEFORE TRUNCATE ON chain_anchors FOR EACH STATEMENT EXECUTE FUNCTION gateway_append_only()",
    ]

    // MARK: Writing

    /// The chain an append holds: its number and its head (the last event's hash), and whether the
    /// log has several chains, so that outcomes need a lock per job (`insertAll`).
    struct Head {
        let chain: Int
        var hash: String
        let jobLocks: Bool
    }

    /// Locks chain 0's head for this transaction (other appenders to it wait), returns it, and
    /// whether the log has other chains.
    static func lockHead(_ connection: PostgresConnection, _ logger: Logger) async throws -> Head {
        let rows = try await connection.query(
            "SELECT hash, EXISTS (SELECT 1 FROM chain_heads) AS chains FROM chain_head WHERE id = 1 FOR UPDATE", logger: logger).collect()
        guard let row = rows.first?.makeRandomAccess() else { return Head(chain: 0, hash: EventChain.genesis, jobLocks: false) }
        return Head(chain: 0, hash: try row[0].decode(String.self), jobLocks: try row[1].decode(Bool.self))
    }

    /// Locks the head of a chain no other append holds, or, when every one is held, waits for one
    /// picked at random.
    static func lockFreeChain(_ connection: PostgresConnection, _ logger: Logger) async throws -> Head {
        for wait in [false, true] {
            let sql = "SELECT chain, hash FROM chain_heads ORDER BY random() LIMIT 1 FOR UPDATE" + (wait ? "" : " SKIP LOCKED")
            if let row = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect().first?.makeRandomAccess() {
                return Head(chain: Int(try row[0].decode(Int32.self)), hash: try row[1].decode(String.self), jobLocks: true)
            }
        }
        throw ContactLogError("the contact log has no chain_heads rows to append to")
    }

    static func saveHead(_ head: Head, _ connection: PostgresConnection, _ logger: Logger) async throws {
        if head.chain == 0 {
            try await connection.query("UPDATE chain_head SET hash = \(head.hash) WHERE id = 1", logger: logger)
        } else {
            try await connection.query("UPDATE chain_heads SET hash = \(head.hash) WHERE chain = \(Int32(head.chain))", logger: logger)
        }
    }

    /// Inserts one event linked to `head`; when written, `head` becomes its hash.
    @discardableResult
    static func insert(_ event: ContactEvent, head: inout Head, _ connection: PostgresConnection, _ logger: Logger) async throws -> Bool {
        try await insertAll([event], head: &head, connection, logger)[0]
    }

    /// Runs `body` in a transaction holding a chain head, and stores the head it leaves: chain 0's,
    /// or with `spread` (and chains added) a free one of chains 1...N.
    func appending<T: Sendable>(spread: Bool = false, _ body: @escaping @Sendable (PostgresConnection, inout Head) async throws -> T) async throws -> T {
        let logger = self.logger
        let spread = spread && self.spread
        return try await client.withTransaction(logger: logger) { connection in
            var head = spread ? try await Self.lockFreeChain(connection, logger) : try await Self.lockHead(connection, logger)
            let start = head.hash
            let result = try await body(connection, &head)
            if head.hash != start { try await Self.saveHead(head, connection, logger) }
            return result
        }
    }

    /// The batch's appends: on a free chain when the log has several.
    public func write(_ steps: [LogWrite]) async throws -> LogWriteResult {
        let logger = self.logger
        return try await appending(spread: true) { connection, head in try await Self.apply(steps, connection, logger, head: &head) }
    }

    /// Runs the steps in the caller's transaction (which holds the chain head), linking what they append to `head`.
    static func apply(_ steps: [LogWrite], _ connection: PostgresConnection, _ logger: Logger, head: inout Head) async throws -> LogWriteResult {
        var result = LogWriteResult()
        if head.jobLocks {
            // Every job this transaction may write an outcome for, and every row its statements
            // upsert (an opt-out's contact, a dropped token), locked at once in one order (a later
            // insertAll's locks on the same ids are already held): appends on different chains
            // never wait on each other in a circle.
            var keys: [String] = []
            for step in steps {
                switch step {
                case .events(let events): keys += Self.guardedJobs(events)
                case .statement(_, let arguments, _):
                    if case .text(let first?)? = arguments.first { keys.append("row \(first)") }
                }
            }
            try await lockJobs(keys, connection, logger)
        }
        for step in steps {
            switch step {
            case .events(let events):
                guard !events.isEmpty else { continue }
                result.written += try await insertAll(events, head: &head, connection, logger)
            case .statement(let sql, let arguments, let event):
                let changed = try await run(LogRead(false, [.init(sql, arguments) { changed, _ in changed = true }]), connection, logger)
                result.changed.append(changed)
                if changed, let event { try await insert(event, head: &head, connection, logger) }
            }
        }
        return result
    }

    /// Rows per multi-row INSERT: 21 values each stays well under PostgreSQL's 65,535 parameters.
    static let rowsPerInsert = 1000

    /// Inserts `events` in order with a few statements, not one round trip each. The unique indexes
    /// refuse an outcome for a job that has one and a second `dispatching` for an attempt; those
    /// events are found first, with one query over the batch's job ids, and left out, so the chain
    /// links exactly the events written. Nothing else can write meanwhile: every append holds the
    /// chain head. Should the database still refuse a row, the transaction fails as a whole.
    static func insertAll(_ events: [ContactEvent], head: inout Head, _ connection: PostgresConnection, _ logger: Logger) async throws -> [Bool] {
        let guarded = guardedJobs(events)
        if head.jobLocks { try await lockJobs(guarded, connection, logger) }
        var outcomes: Set<String> = [], dispatches: Set<String> = [], reconciled: Set<String> = []
        func dispatchKey(_ job: String, _ attempt: Int) -> String { "\(attempt) \(job)" }
        if !guarded.isEmpty {
            var binds = PostgresBindings()
            binds.append(guarded.map { StoredText.encode($0) })
            let sql = "SELECT job_id, kind, attempt FROM events WHERE job_id = ANY($1) AND (kind IN ('dispatching', 'reconciled') OR kind IN (\(terminalKinds)))"
            for row in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).collect() {
                let row = row.makeRandomAccess()
                let job = StoredText.decodeText(try row["job_id"].decode(String.self))
                switch try row["kind"].decode(String.self) {
                case EventKind.dispatching.rawValue: dispatches.insert(dispatchKey(job, try row["attempt"].decode(Int.self)))
                case EventKind.reconciled.rawValue: reconciled.insert(job)
                default: outcomes.insert(job)
                }
            }
        }
        var written: [Bool] = []
        written.reserveCapacity(events.count)
        var rows: [(values: [ChainValue?], attempt: Int, previous: String, hash: String)] = []
        for event in events {
            if let job = event.jobID {
                let refused = event.kind.isTerminal ? !outcomes.insert(job).inserted
                    : event.kind == .dispatching ? !dispatches.insert(dispatchKey(job, event.attempt)).inserted
                    : event.kind == .reconciled ? !reconciled.insert(job).inserted : false
                if refused {
                    written.append(false)
                    continue
                }
            }
            let values = EventChain.values(event)
            let hash = EventChain.hash(previous: head.hash, values: values)
            rows.append((values, event.attempt, head.hash, hash))
            head.hash = hash
            written.append(true)
        }
        let width = EventChain.columns.count + 3
        let chain = Int32(head.chain)
        for start in stride(from: 0, to: rows.count, by: rowsPerInsert) {
            let chunk = rows[start..<min(start + rowsPerInsert, rows.count)]
            var binds = PostgresBindings(capacity: chunk.count * width)
            for row in chunk {
                for (index, value) in row.values.enumerated() {
                    if index == EventChain.attemptIndex { binds.append(row.attempt) } else { binds.append(value.map { StoredText.encode($0) }) }
                }
                binds.append(row.previous)
                binds.append(row.hash)
                binds.append(chain)
            }
            let placeholders = (0..<chunk.count).map { row in
                "(" + (1...width).map { "$\(row * width + $0)" }.joined(separator: ", ") + ")"
            }.joined(separator: ", ")
            let sql = "INSERT INTO events (\(columns), prev_hash, hash, chain) VALUES \(placeholders) ON CONFLICT DO NOTHING RETURNING seq"
            let inserted = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).collect().count
            guard inserted == chunk.count else {
                throw ContactLogError("the database refused \(chunk.count - inserted) of \(chunk.count) events the log expected to write; nothing of this batch was kept")
            }
        }
        return written
    }

    /// The jobs whose events the unique indexes guard (an outcome, a `dispatching`, a `reconciled`).
    static func guardedJobs(_ events: [ContactEvent]) -> [String] {
        Array(Set(events.compactMap { $0.kind.isTerminal || $0.kind == .dispatching || $0.kind == .reconciled ? $0.jobID : nil }))
    }

    /// Takes a transaction-scoped advisory lock per job id (or row key), in one order (the keys'
    /// hashes sorted): with several chains, two appends on different chains could otherwise both find
    /// a job without an outcome and both write one (the second refused by the unique index, failing
    /// its batch), or upsert the same rows in opposite orders and deadlock.
    static func lockJobs(_ jobs: [String], _ connection: PostgresConnection, _ logger: Logger) async throws {
        guard !jobs.isEmpty else { return }
        let keys = Set(jobs.map { job in
            SHA256.hash(data: Array(job.utf8)).withUnsafeBytes { $0.loadUnaligned(as: Int64.self) }
        }).sorted()
        var binds = PostgresBindings()
        binds.append(keys)
        _ = try await connection.query(PostgresQuery(unsafeSQL: "SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k", binds: binds),
                                       logger: logger).collect()
    }

    // MARK: Reading

    func rows(_ sql: String, _ binds: PostgresBindings = PostgresBindings()) async throws -> [PostgresRandomAccessRow] {
        try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).collect().map { $0.makeRandomAccess() }
    }


    /// Rows an append reads and then changes stay locked until it commits.
    public static let forUpdate = " FOR UPDATE"

    /// One array for any number of values: `column = ANY(?)`.
    public static func oneOf(_ column: String, _ values: [String]) -> [(condition: String, arguments: [SQLArgument])] {
        values.isEmpty ? [] : [("\(column) = ANY(?)", [.textList(values)])]
    }

    /// Runs a read on one pooled connection.
    public func run<Result: Sendable>(_ read: LogRead<Result>) async throws -> Result {
        let logger = self.logger
        return try await client.withConnection { connection in try await Self.run(read, connection, logger) }
    }

    /// Runs a read on `connection` (in the caller's transaction, if any): `?` numbered, values in StoredText's spelling.
    static func run<Result: Sendable>(_ read: LogRead<Result>, _ connection: PostgresConnection, _ logger: Logger) async throws -> Result {
        var result = read.initial
        for statement in read.statements {
            var binds = PostgresBindings(capacity: statement.arguments.count)
            for argument in statement.arguments {
                switch argument {
                case .text(let text): binds.append(StoredText.encode(text))
                case .integer(let number): binds.append(number)
                case .textList(let texts): binds.append(texts.map { StoredText.encode($0) })
                }
            }
            let rows = try await connection.query(PostgresQuery(unsafeSQL: numbered([statement.sql])[0], binds: binds), logger: logger)
            for try await row in rows {
                try statement.fold(&result, Row(row: row.makeRandomAccess()))
            }
        }
        return result
    }

    /// A row, its text in StoredText's spelling read back as written.
    struct Row: LogRow {
        let row: PostgresRandomAccessRow
        func text(_ column: String) throws -> String? { try row[column].decode(String?.self).map { StoredText.decodeText($0) } }
        func bytes(_ column: String) throws -> [UInt8]? { try row[column].decode(String?.self).map { StoredText.decode($0) } }
        func integer(_ column: String) throws -> Int64? { try row[column].decode(Int64?.self) }
    }

    /// `?` placeholders (EventFilter's) as `$n`.
    static func numbered(_ clauses: [String]) -> [String] {
        var n = 0
        return clauses.map { clause in
            var out = ""
            for character in clause {
                if character == "?" {
                    n += 1
                    out += "$\(n)"
                } else {
                    out.append(character)
                }
            }
            return out
        }
    }

    /// A text column's value (StoredText decoded).
    static func text(_ row: PostgresRandomAccessRow, _ column: String) -> String? {
        ((try? row[column].decode(String?.self)) ?? nil).map { StoredText.decodeText($0) }
    }

    /// A text column's value, byte for byte.
    static func bytes(_ row: PostgresRandomAccessRow, _ column: String) -> [UInt8]? {
        ((try? row[column].decode(String?.self)) ?? nil).map { StoredText.decode($0) }
    }

    // MARK: Receipts

    public func appendReceipt(_ receipt: Receipt) async throws -> ReceiptResult {
        try await transact(LogTransactions.receipt(receipt))
    }

    // MARK: Chain, retention, reports

    /// Walks every chain in `seq` order, each from genesis or its last anchor; the problem reported
    /// is the first bad event of any chain (the lowest `seq`). It reads one snapshot (REPEATABLE READ):
    /// with several chains a lower `seq` can commit after a higher one, and pages read at different
    /// moments could miss it and call the next event of its chain a broken link.
    public func verifyChain() async throws -> ChainReport {
        let logger = self.logger
        return try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            func rows(_ sql: String, _ binds: PostgresBindings = PostgresBindings()) async throws -> [PostgresRandomAccessRow] {
                try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).collect().map { $0.makeRandomAccess() }
            }
            var anchors: [Int: ChainAnchor] = [:]
            for row in try await rows("SELECT DISTINCT ON (chain) chain, through_seq, hash FROM chain_anchors ORDER BY chain, id DESC") {
                anchors[Int(try row["chain"].decode(Int32.self))] = ChainAnchor(throughSeq: try row["through_seq"].decode(Int64.self), hash: Self.text(row, "hash") ?? "")
            }
            let chains = try await rows("SELECT chain FROM chain_heads ORDER BY chain").map { Int(try $0["chain"].decode(Int32.self)) }
            var verifiers: [Int: EventChain.Verifier] = [:]
            for chain in [0] + chains { verifiers[chain] = EventChain.Verifier(anchor: anchors[chain]) }
            var checkpoints: [(seq: Int64, checkpoint: Checkpoint)] = []
            var checkpointProblem: ChainProblem?
            var stopped = false
            // Keyset pages: the whole log never sits in memory.
            var after: Int64 = -1
            reading: while true {
                var binds = PostgresBindings()
                binds.append(after)
                let page = try await rows("SELECT * FROM events WHERE seq > $1 ORDER BY seq LIMIT 5000", binds)
                for row in page {
                    let seq = try row["seq"].decode(Int64.self)
                    let chain = Int(try row["chain"].decode(Int32.self))
                    let values = try LogReads.chainValues(Row(row: row))
                    // A checkpoint names the heads the chains had just before it.
                    let isCheckpoint = chain == 0 && values[EventChain.kindIndex]?.bytes == Self.checkpointKind
                    let heads = isCheckpoint ? verifiers.mapValues(\.expectedPrevious) : [:]
                    guard verifiers[chain, default: EventChain.Verifier(anchor: anchors[chain])]
                        .check(seq: seq, values: values, previous: Self.text(row, "prev_hash"), hash: Self.text(row, "hash")) else {
                        stopped = true
                        break reading
                    }
                    if isCheckpoint {
                        let recorded = Checkpoint.recorded(in: values[EventChain.dataIndex]?.bytes)
                        if let problem = Self.checkpointProblem(recorded, seq: seq, heads: heads, anchors: anchors) {
                            checkpointProblem = problem
                            stopped = true
                            break reading
                        }
                        if let recorded { checkpoints.append((seq, recorded)) }
                    }
                    after = seq
                }
                if page.count < 5000 { break }
            }
            func named(_ chain: Int, _ problem: ChainProblem?) -> ChainProblem? {
                problem.map { chain == 0 ? $0 : ChainProblem(seq: $0.seq, kind: $0.kind, message: "chain \(chain): \($0.message)") }
            }
            let reports = verifiers.mapValues { $0.report() }
            var report = reports[0]!
            report.checked = reports.values.reduce(0) { $0 + $1.checked }
            // Stopped at a bad event: that is the finding. (A chain whose pruned event lay after it
            // was not reached, so its anchor is not "unbacked": it was not looked at.)
            let problems = stopped ? verifiers.map { named($0.key, $0.value.firstProblem) } : reports.map { named($0.key, $0.value.problem) }
            report.problem = (problems.compactMap { $0 } + [checkpointProblem].compactMap { $0 }).min { $0.seq < $1.seq }
            if reports.count > 1 { report.heads = reports.mapValues(\.head) }
            report.checkpoints = checkpoints.count
            report.lastCheckpoint = checkpoints.last?.seq
            report.checkpointKeys = Array(Set(checkpoints.map(\.checkpoint.key))).sorted()
            report.checkpointRoots = Dictionary(checkpoints.map { ($0.seq, $0.checkpoint.root) }) { a, _ in a }
            return report
        }
    }

    static let checkpointKind = Array(EventKind.checkpoint.rawValue.utf8)

    /// What is wrong with the checkpoint at `seq`: unreadable, a root or signature that does not
    /// hold, or a head it names that the chain did not have there (`heads`: each chain's head just
    /// before it; a chain not seen yet is at its anchor or genesis).
    static func checkpointProblem(_ checkpoint: Checkpoint?, seq: Int64, heads: [Int: String], anchors: [Int: ChainAnchor]) -> ChainProblem? {
        func problem(_ message: String) -> ChainProblem { ChainProblem(seq: seq, kind: .checkpoint, message: "checkpoint event \(seq): \(message)") }
        guard let checkpoint else { return problem("its data is not a signed tree head the gateway writes") }
        if let wrong = checkpoint.problem() { return problem(wrong) }
        for (chain, named) in checkpoint.heads.sorted(by: { $0.key < $1.key }) {
            let actual = heads[chain] ?? anchors[chain]?.hash ?? EventChain.genesis
            guard actual == named else {
                return problem("it names \(named.prefix(12))… as chain \(chain)'s head, but chain \(chain) reached \(actual.prefix(12))… there: the chain was rewritten or cut before it")
            }
        }
        for (chain, head) in heads.sorted(by: { $0.key < $1.key }) where checkpoint.heads[chain] == nil && head != (anchors[chain]?.hash ?? EventChain.genesis) {
            return problem("it does not name chain \(chain), which had events before it")
        }
        return nil
    }

    public func inclusionProof(seq: Int64) async throws -> InclusionProof {
        var binds = PostgresBindings()
        binds.append(seq)
        guard let event = try await rows("SELECT * FROM events WHERE seq = $1", binds).first else {
            throw ContactLogError("the log has no event \(seq) (pruned, or not written yet)")
        }
        let chain = Int(try event["chain"].decode(Int32.self))
        let values = try LogReads.chainValues(Row(row: event))
        guard let previous = Self.text(event, "prev_hash") else { throw ContactLogError("event \(seq) has no hash: it was written outside the gateway") }
        guard let found = try await rows("SELECT * FROM events WHERE chain = 0 AND kind = 'checkpoint' AND seq > $1 ORDER BY seq LIMIT 1", binds).first,
              let checkpoint = Checkpoint.recorded(in: Self.bytes(found, "data")) else {
            throw ContactLogError("no checkpoint after event \(seq) yet: run `gateway audit checkpoint`, then ask again")
        }
        let checkpointSeq = try found["seq"].decode(Int64.self)
        var between = PostgresBindings()
        between.append(Int32(chain))
        between.append(seq)
        between.append(checkpointSeq)
        let following = try await rows("SELECT * FROM events WHERE chain = $1 AND seq > $2 AND seq < $3 ORDER BY seq", between).map { row in
            EventChain.canonical(try LogReads.chainValues(Row(row: row)))
        }
        return try InclusionProof(seq: seq, chain: chain, previous: previous, canonical: EventChain.canonical(values), following: following,
                                  checkpointSeq: checkpointSeq, checkpoint: checkpoint)
    }

    /// Appends a signed tree head over every chain's head (held meanwhile: the heads named are the
    /// chains' tips) as a `checkpoint` event on chain 0.
    public func checkpoint(signingKey: Curve25519.Signing.PrivateKey, at: Date) async throws -> Checkpoint {
        let logger = self.logger
        let raw = signingKey.rawRepresentation   // the key itself is not Sendable
        return try await appending { connection, head in
            var heads: [Int: String] = [0: head.hash]
            for row in try await connection.query("SELECT chain, hash FROM chain_heads ORDER BY chain FOR SHARE", logger: logger).collect() {
                let row = row.makeRandomAccess()
                heads[Int(try row[0].decode(Int32.self))] = try row[1].decode(String.self)
            }
            let checkpoint = try Checkpoint.make(heads: heads, at: at, signingKey: try Curve25519.Signing.PrivateKey(rawRepresentation: raw))
            try await Self.insert(checkpoint.event, head: &head, connection, logger)
            return checkpoint
        }
    }

    /// Removes the events before the first one at or after `cutoff`, in every chain at once: each
    /// chain whose events went keeps its own anchor (its last removed event) and gets its own
    /// `pruned` event recording it, so each verifies on its own. Every chain head is held meanwhile.
    public func prune(before cutoff: Date, at: Date, by: String) async throws -> PruneReport {
        let logger = self.logger
        let cutoffText = formatTimestamp(cutoff)
        return try await appending { connection, head in
            var heads: [Int: Head] = [0: head]
            for row in try await connection.query("SELECT chain, hash FROM chain_heads ORDER BY chain FOR UPDATE", logger: logger).collect() {
                let row = row.makeRandomAccess()
                let chain = Int(try row[0].decode(Int32.self))
                heads[chain] = Head(chain: chain, hash: try row[1].decode(String.self), jobLocks: true)
            }
            let row = try await connection.query("""
                SELECT MAX(seq) FROM events
                WHERE seq < COALESCE((SELECT MIN(seq) FROM events WHERE at >= \(cutoffText)), (SELECT MAX(seq) + 1 FROM events))
                """, logger: logger).collect().first?.makeRandomAccess()
            guard let through = try row?[0].decode(Int64?.self) else { return PruneReport(removed: 0, cutoff: cutoff, throughSeq: nil) }
            // Each chain's last event to go: its anchor.
            var lasts: [(chain: Int, seq: Int64, hash: String)] = []
            for row in try await connection.query(
                "SELECT DISTINCT ON (chain) chain, seq, hash FROM events WHERE seq <= \(through) ORDER BY chain, seq DESC", logger: logger).collect() {
                let row = row.makeRandomAccess()
                lasts.append((Int(try row["chain"].decode(Int32.self)), try row["seq"].decode(Int64.self), Self.text(row, "hash") ?? EventChain.genesis))
            }
            // The retention job is the one place deletes are let through, for this transaction only.
            try await connection.query("SELECT set_config('gateway.retention', 'on', true)", logger: logger)
            var removed: [Int: Int] = [:]
            for row in try await connection.query("DELETE FROM events WHERE seq <= \(through) RETURNING chain", logger: logger).collect() {
                removed[Int(try row.makeRandomAccess()[0].decode(Int32.self)), default: 0] += 1
            }
            try await connection.query("SELECT set_config('gateway.retention', 'off', true)", logger: logger)
            for last in lasts.sorted(by: { $0.chain < $1.chain }) {
                let count = removed[last.chain] ?? 0
                try await connection.query("""
                    INSERT INTO chain_anchors (through_seq, hash, cutoff, removed, pruned_at, chain)
                    VALUES (\(last.seq), \(last.hash), \(cutoffText), \(count), \(formatTimestamp(at)), \(Int32(last.chain)))
                    """, logger: logger)
                var chainHead = heads[last.chain] ?? Head(chain: last.chain, hash: EventChain.genesis, jobLocks: true)
                try await Self.insert(.pruned(removed: count, cutoff: cutoffText, through: last.seq, anchor: last.hash, at: at, by: by),
                                      head: &chainHead, connection, logger)
                if last.chain == 0 { head = chainHead } else { try await Self.saveHead(chainHead, connection, logger) }
            }
            return PruneReport(removed: removed.values.reduce(0, +), cutoff: cutoff, throughSeq: through)
        }
    }

    /// The highest `seq` below which no event can still appear. With one chain that is the highest
    /// written (an append in flight holds the head, so its events come after). With several, an
    /// append on one chain may commit a lower `seq` after another's higher one, so the heads are
    /// held (shared) for the moment the maximum is read: every append in flight has committed.
    public func lastSequence() async throws -> Int64 {
        let logger = self.logger
        return try await client.withTransaction(logger: logger) { connection in
            let chains = try await connection.query("SELECT chain FROM chain_heads LIMIT 1", logger: logger).collect()
            if !chains.isEmpty {
                // Chain 0 first, then the others in order, as prune takes them.
                try await connection.query("SELECT id FROM chain_head FOR SHARE", logger: logger)
                try await connection.query("SELECT chain FROM chain_heads ORDER BY chain FOR SHARE", logger: logger)
            }
            let rows = try await connection.query("SELECT MAX(seq) FROM events", logger: logger).collect()
            return try rows.first?.makeRandomAccess()[0].decode(Int64?.self) ?? 0
        }
    }
}
