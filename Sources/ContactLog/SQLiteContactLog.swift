import Foundation
import GatewayCore
import GRDB
import GRDBSQLite

/// The contact log in SQLite (WAL), the embedded default.
public final class SQLiteContactLog: ContactLogStore, LogDatabase, LogWriting {
    let pool: DatabasePool
    private let checkpointer: WALCheckpointer
    public let path: String

    public init(path: String) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // WALCheckpointer copies the WAL back into the file, off the writer's path; the writer
            // finishes the job (and lets the WAL start over) every 16 MB of WAL, not every 4 MB.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 4096")
        }
        // Several workers may open one new file at the same moment. Switching it to WAL needs the
        // file to itself (SQLite answers "database is locked" at once, without waiting), and two
        // migrators would both see a migration as not applied yet. So opening and migrating take
        // turns, through an advisory lock on a file beside the log.
        pool = try Self.exclusively(path + ".open-lock") {
            let pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
            return pool
        }
        checkpointer = try WALCheckpointer(path: path)
    }

    deinit {
        checkpointer.stop()
    }

    /// Runs `body` holding flock(2) on `lockPath`; other processes (and other opens in this one)
    /// wait for it.
    static func exclusively<T>(_ lockPath: String, _ body: () throws -> T) throws -> T {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ContactLogError("cannot open \(lockPath) (used so that workers open the contact log one at a time): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw ContactLogError("cannot lock \(lockPath): \(String(cString: strerror(errno)))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    static let terminalKinds = LogSQL.terminalKinds
    static let admissionKinds = LogSQL.admissionKinds

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-events") { db in
            try db.execute(sql: """
                CREATE TABLE events (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    job_id TEXT,
                    contact_id TEXT,
                    kind TEXT NOT NULL,
                    at TEXT NOT NULL,
                    attempt INTEGER NOT NULL DEFAULT 1,
                    channel TEXT,
                    template TEXT,
                    tone TEXT,
                    variant TEXT,
                    provider TEXT,
                    provider_message_id TEXT,
                    reason TEXT,
                    detail TEXT,
                    body TEXT,
                    address TEXT,
                    stream_id TEXT,
                    data TEXT
                );
                CREATE INDEX events_job ON events(job_id);
                CREATE INDEX events_contact ON events(contact_id, seq);
                CREATE INDEX events_provider_message ON events(provider, provider_message_id)
                    WHERE provider_message_id IS NOT NULL;
                -- One terminal outcome per job id, enforced by the database itself.
                CREATE UNIQUE INDEX events_one_terminal ON events(job_id)
                    WHERE job_id IS NOT NULL AND kind IN (\(terminalKinds));
                -- One send per attempt: two workers can never both start sending the same job.
                CREATE UNIQUE INDEX events_one_dispatch ON events(job_id, attempt) WHERE kind = 'dispatching';
                CREATE TRIGGER events_no_update BEFORE UPDATE ON events
                    BEGIN SELECT RAISE(ABORT, 'the contact log is append-only: events cannot be updated'); END;
                CREATE TRIGGER events_no_delete BEFORE DELETE ON events
                    BEGIN SELECT RAISE(ABORT, 'the contact log is append-only: events cannot be deleted'); END;
                -- A job's current outcome, derived from its events.
                \(LogSQL.jobOutcomesView);
                """)
        }
        migrator.registerMigration("v2-opt-outs") { db in
            // The marks in force (one per contact and channel, '*' for all channels). Every change is
            // also an event in `events`, which is what compliance reads: this table is only the current state.
            try db.execute(sql: """
                CREATE TABLE opt_outs (
                    contact_id TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    set_by TEXT NOT NULL,
                    set_at TEXT NOT NULL,
                    reason TEXT,
                    PRIMARY KEY (contact_id, channel)
                );
                """)
        }
        migrator.registerMigration("v3-dropped-push-tokens") { db in
            try db.execute(sql: """
                CREATE TABLE dropped_push_tokens (token TEXT PRIMARY KEY, contact_id TEXT, provider TEXT NOT NULL, reason TEXT, dropped_at TEXT NOT NULL);
                """)
        }
        migrator.registerMigration("v4-hash-chain") { db in
            // Debt and segment for the filters and reports; the hash chain (EventChain) over every
            // event, existing ones included; the anchors retention prunes leave.
            try db.execute(sql: """
                ALTER TABLE events ADD COLUMN debt_id TEXT;
                ALTER TABLE events ADD COLUMN segment TEXT;
                ALTER TABLE events ADD COLUMN prev_hash TEXT;
                ALTER TABLE events ADD COLUMN hash TEXT;
                CREATE INDEX events_debt ON events(debt_id, seq) WHERE debt_id IS NOT NULL;
                CREATE INDEX events_at ON events(at);
                CREATE TABLE chain_anchors (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    through_seq INTEGER NOT NULL,
                    hash TEXT NOT NULL,
                    cutoff TEXT NOT NULL,
                    removed INTEGER NOT NULL,
                    pruned_at TEXT NOT NULL
                );
                CREATE TRIGGER chain_anchors_no_update BEFORE UPDATE ON chain_anchors
                    BEGIN SELECT RAISE(ABORT, 'chain anchors cannot be changed'); END;
                CREATE TRIGGER chain_anchors_no_delete BEFORE DELETE ON chain_anchors
                    BEGIN SELECT RAISE(ABORT, 'chain anchors cannot be deleted'); END;
                DROP TRIGGER events_no_update;
                """)
            var previous = EventChain.genesis
            var hashes: [(Int64, String, String)] = []
            try ExactSQL.run(db, "SELECT * FROM events ORDER BY seq") { row in
                let hash = EventChain.hash(previous: previous, values: try Self.chainValues(row))
                hashes.append((row.integer("seq") ?? 0, previous, hash))
                previous = hash
                return true
            }
            for (seq, prev, hash) in hashes {
                try db.execute(sql: "UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?", arguments: [prev, hash, seq])
            }
            try db.execute(sql: Self.noUpdateTrigger)
        }
        migrator.registerMigration("v5-address-index") { db in
            // Inbound replies are matched to the contacts sent SMS at that number.
            try db.execute(sql: "CREATE INDEX events_address ON events(address) WHERE address IS NOT NULL")
        }
        migrator.registerMigration("v6-terminal-index-without-in") { db in
            // The same rule as v1's, written as ORs: SQLite evaluates a partial index's
            // `kind IN (five values)` by building a temporary table on every insert, which cost
            // about 1.2 µs of every event written (found by the throughput benchmark).
            let terminal = EventKind.allCases.filter(\.isTerminal).map { "kind = '\($0.rawValue)'" }.joined(separator: " OR ")
            try db.execute(sql: """
                DROP INDEX events_one_terminal;
                CREATE UNIQUE INDEX events_one_terminal ON events(job_id) WHERE job_id IS NOT NULL AND (\(terminal));
                """)
        }
        migrator.registerMigration("v7-contact-state") { db in
            try db.execute(sql: LogSQL.contactStateTable.joined(separator: ";\n"))
        }
        migrator.registerMigration("v8-unknown-and-reconciled") { db in
            // `unknown` joins the terminal kinds (one outcome per job still holds for it); at most one
            // `reconciled` per job; the view shows a reconciled unknown send as sent. Events written
            // before (`failed interrupted`) stay as they are: the view and reports read them as unknown.
            let terminal = EventKind.allCases.filter(\.isTerminal).map { "kind = '\($0.rawValue)'" }.joined(separator: " OR ")
            for statement in LogSQL.outcomeMigration(terminalIndex: "CREATE UNIQUE INDEX events_one_terminal ON events(job_id) WHERE job_id IS NOT NULL AND (\(terminal))") {
                try db.execute(sql: statement)
            }
        }
        migrator.registerMigration("v9-job-column") { db in
            // The raw job on a `dispatching` that stands for `received` (one row for a job admitted
            // and sent in the same batch). Hashed only when it holds a value: earlier events keep theirs.
            try db.execute(sql: "ALTER TABLE events ADD COLUMN job TEXT")
        }
        migrator.registerMigration("v10-opt-outs-set-by") { db in
            // The marks one reply set, found when a person lifts its address opt-out.
            try db.execute(sql: LogSQL.optOutsSetByIndex)
        }
        return migrator
    }

    static let noUpdateTrigger = """
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'the contact log is append-only: events cannot be updated'); END;
        """
    static let noDeleteTrigger = """
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'the contact log is append-only: events cannot be deleted'); END;
        """

    private static let insertSQL = """
        INSERT INTO events (job_id, contact_id, debt_id, segment, kind, at, attempt, channel, template, tone, variant, provider,
                            provider_message_id, reason, detail, body, address, stream_id, data, job, prev_hash, hash)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT DO NOTHING
        """

    /// The stored values EventChain hashes, read back exactly as written (every byte).
    static func chainValues(_ row: ExactSQL.Row) throws -> [ChainValue?] { try LogReads.chainValues(row) }

    /// The hash the next event links to: the last event's, else the last prune's anchor, else genesis.
    static func head(_ db: Database) throws -> String {
        try String.fetchOne(db, sql: """
            SELECT COALESCE((SELECT hash FROM events ORDER BY seq DESC LIMIT 1),
                            (SELECT hash FROM chain_anchors ORDER BY id DESC LIMIT 1))
            """) ?? EventChain.genesis
    }

    /// `IN (?,?,...)` lists of at most 500 values: SQLite takes a limited number of bound parameters.
    public static func oneOf(_ column: String, _ values: [String]) -> [(condition: String, arguments: [SQLArgument])] {
        stride(from: 0, to: values.count, by: 500).map { start in
            let chunk = values[start..<min(start + 500, values.count)]
            return ("\(column) IN (\(Array(repeating: "?", count: chunk.count).joined(separator: ",")))", chunk.map(SQLArgument.text))
        }
    }

    /// A write transaction has the whole file: what it read stays as read until it commits.
    public static let forUpdate = ""

    /// Runs the steps in one write transaction: SQLite has one writer at a time, so the head read
    /// from the last event stays the head until this commits.
    public func write(_ steps: [LogWrite]) async throws -> LogWriteResult {
        try await pool.write { db in
            var head = try Self.head(db)
            return try Self.apply(steps, db, head: &head)
        }
    }

    /// Runs the steps in the caller's write transaction, linking what they append to `head`.
    static func apply(_ steps: [LogWrite], _ db: Database, head: inout String) throws -> LogWriteResult {
        var result = LogWriteResult()
        for step in steps {
            switch step {
            case .events(let events):
                guard !events.isEmpty else { continue }
                // Looked up once: GRDB's statement cache hashes the whole INSERT text on every lookup.
                let statement = try db.cachedStatement(sql: Self.insertSQL)
                result.written.reserveCapacity(result.written.count + events.count)
                for event in events { result.written.append(try insert(event, db, head: &head, statement: statement)) }
            case .statement(let sql, let arguments, let event):
                let changed = try run(LogRead(false, [.init(sql, arguments) { changed, _ in changed = true }]), db)
                result.changed.append(changed)
                if changed, let event { try insert(event, db, head: &head) }
            }
        }
        return result
    }

    /// Runs a read in one read transaction.
    public func run<Result: Sendable>(_ read: LogRead<Result>) async throws -> Result {
        try await pool.read { db in try Self.run(read, db) }
    }

    /// Runs a read on `db` (in the caller's transaction), every value bound and read with its byte count.
    static func run<Result: Sendable>(_ read: LogRead<Result>, _ db: Database) throws -> Result {
        var result = read.initial
        for statement in read.statements {
            let arguments: [ExactSQL.Argument] = statement.arguments.map { argument in
                switch argument {
                case .text(let text): .text(text)
                case .integer(let number): .integer(number)
                case .textList: .text(nil)   // never made for SQLite (oneOf spells lists as IN (...))
                }
            }
            try ExactSQL.run(db, statement.sql, arguments, cached: statement.cached) { row in
                try statement.fold(&result, row)
                return true
            }
        }
        return result
    }

    public func verifyChain() async throws -> ChainReport {
        try await pool.read { db in
            let anchor = try Row.fetchOne(db, sql: "SELECT through_seq, hash FROM chain_anchors ORDER BY id DESC LIMIT 1")
                .map { ChainAnchor(throughSeq: $0["through_seq"], hash: $0["hash"]) }
            var verifier = EventChain.Verifier(anchor: anchor)
            try ExactSQL.run(db, "SELECT * FROM events ORDER BY seq") { row in
                verifier.check(seq: row.integer("seq") ?? 0, values: try Self.chainValues(row), previous: row.text("prev_hash"), hash: row.text("hash"))
            }
            return verifier.report()
        }
    }

    public func prune(before cutoff: Date, at: Date, by: String) async throws -> PruneReport {
        try await pool.write { db in
            let cutoffText = formatTimestamp(cutoff)
            // The prefix of the chain before the first event at or after the cutoff.
            let through: Int64? = try Int64.fetchOne(db, sql: """
                SELECT MAX(seq) FROM events
                WHERE seq < COALESCE((SELECT MIN(seq) FROM events WHERE at >= ?), (SELECT MAX(seq) + 1 FROM events))
                """, arguments: [cutoffText])
            guard let through else { return PruneReport(removed: 0, cutoff: cutoff, throughSeq: nil) }
            let anchor = try String.fetchOne(db, sql: "SELECT hash FROM events WHERE seq = ?", arguments: [through]) ?? EventChain.genesis
            // The retention job is the one place the delete trigger is lifted, inside this transaction.
            try db.execute(sql: "DROP TRIGGER events_no_delete")
            try db.execute(sql: "DELETE FROM events WHERE seq <= ?", arguments: [through])
            let removed = db.changesCount
            try db.execute(sql: Self.noDeleteTrigger)
            try db.execute(sql: "INSERT INTO chain_anchors (through_seq, hash, cutoff, removed, pruned_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [through, anchor, cutoffText, removed, formatTimestamp(at)])
            var head = try Self.head(db)
            try Self.insert(.pruned(removed: removed, cutoff: cutoffText, through: through, anchor: anchor, at: at, by: by), db, head: &head)
            return PruneReport(removed: removed, cutoff: cutoff, throughSeq: through)
        }
    }

    public func appendReceipt(_ receipt: Receipt) async throws -> ReceiptResult {
        try await transact(LogTransactions.receipt(receipt))
    }

    /// Inserts one event linked to `head`; when it is written (not refused by a unique index),
    /// `head` becomes its hash. Returns whether it was written.
    /// `statement`: the prepared INSERT, when the caller writes many events.
    @discardableResult
    static func insert(_ event: ContactEvent, _ db: Database, head: inout String, statement prepared: Statement? = nil) throws -> Bool {
        let values = EventChain.values(event)
        let hash = EventChain.hash(previous: head, values: values)
        // Bound through SQLite's C API: GRDB's StatementArguments boxed each of the 21 values
        // (about 4% of the worker's CPU in the throughput benchmark).
        let statement = try (prepared ?? db.cachedStatement(sql: insertSQL)).sqliteStatement
        sqlite3_reset(statement)
        for (index, value) in values.enumerated() {
            let position = Int32(index + 1)
            switch value {
            case _ where index == EventChain.attemptIndex: sqlite3_bind_int64(statement, position, Int64(event.attempt))
            case nil: sqlite3_bind_null(statement, position)
            case .text(let text)?: ExactSQL.bindText(text, statement, position)
            case .bytes(let bytes)?: ExactSQL.bindBytes(bytes, statement, position)
            }
        }
        ExactSQL.bindText(head, statement, Int32(values.count + 1))
        ExactSQL.bindText(hash, statement, Int32(values.count + 2))
        let code = sqlite3_step(statement)
        sqlite3_reset(statement)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: insertSQL)
        }
        sqlite3_clear_bindings(statement)
        guard db.changesCount > 0 else { return false }
        head = hash
        return true
    }
}

extension ExactSQL.Row: LogRow {}
