@testable import ContactLog
import Foundation
import GatewayCore
import GRDB
import Logging
import PostgresContactLog
import Testing
import TestSupport

/// The stores the contact-log suite runs against: SQLite always, PostgreSQL when scripts/test has
/// started one (TEST_POSTGRES_URL).
enum StoreKind: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? { TestPostgres.url }
    /// SQLite always; PostgreSQL when scripts/test started one. Without it, the test
    /// `PostgreSQLStoreTests.theStoreSuiteRunsAgainstPostgreSQL` is reported as skipped with the
    /// reason, so the missing half of the suite shows in every run's summary.
    static var available: [StoreKind] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }
}

/// A fresh, empty store, and raw SQL access to its database as its owner would have it.
struct TestStore: Sendable {
    let log: any ContactLogStore
    /// Runs SQL directly (the append-only triggers apply).
    let execute: @Sendable (String) async throws -> Void
    /// Runs SQL with the append-only triggers lifted, as someone with write access could.
    let tamper: @Sendable (String) async throws -> Void

    static func make(_ kind: StoreKind) async throws -> TestStore {
        switch kind {
        case .sqlite:
            let log = try temporaryLog()
            return TestStore(log: log, execute: { sql in
                try DatabaseQueue(path: log.path).write { try $0.execute(sql: sql) }
            }, tamper: { sql in
                try DatabaseQueue(path: log.path).write { db in
                    try db.execute(sql: "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;")
                    try db.execute(sql: sql)
                    try db.execute(sql: SQLiteContactLog.noUpdateTrigger)
                    try db.execute(sql: SQLiteContactLog.noDeleteTrigger)
                }
            })
        case .postgres:
            let url = try await TestPostgres.freshDatabase()
            let log = try await PostgresContactLog(url: url)
            return TestStore(log: log, execute: { sql in
                try await TestPostgres.run(url: url, TestPostgres.statements(sql))
            }, tamper: { sql in
                try await TestPostgres.run(url: url, ["ALTER TABLE events DISABLE TRIGGER USER"] + TestPostgres.statements(sql) + ["ALTER TABLE events ENABLE TRIGGER USER"])
            })
        }
    }
}

/// What a refused statement said, whichever database refused it (PSQLError hides the server's
/// message from `description`).
func refusal(_ error: any Error) -> String { String(reflecting: error) }

/// Says, in every run, whether the store suite's PostgreSQL half ran: skipped (with the reason)
/// when TEST_POSTGRES_URL is unset, rather than silently absent.
@Suite struct PostgreSQLStoreTests {
    @Test(.enabled(if: StoreKind.postgresURL != nil,
                   "skipped: no PostgreSQL, so every PostgreSQL case of the store suite was left out (TEST_POSTGRES_URL is unset; scripts/test starts one)"))
    func theStoreSuiteRunsAgainstPostgreSQL() async throws {
        #expect(StoreKind.available.contains(.postgres))
        let store = try await TestStore.make(.postgres)
        #expect(try await store.log.lastSequence() == 0)
    }
}
