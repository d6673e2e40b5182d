@testable import ContactLog
import Foundation
import GatewayCore
import GRDB
import Logging
import PostgresContactLog
import PostgresNIO
import Testing

/// The stores the contact-log suite runs against: SQLite always, PostgreSQL when scripts/test has
/// started one (TEST_POSTGRES_URL).
enum StoreKind: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? { ProcessInfo.processInfo.environment["TEST_POSTGRES_URL"] }
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
            let base = try #require(StoreKind.postgresURL)
            let database = "gw_test_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
            try await PG.run(url: base, ["CREATE DATABASE \(database)"])
            let url = base.replacingOccurrences(of: #"/[^/?]*(\?.*)?$"#, with: "/\(database)?sslmode=disable", options: .regularExpression)
            let log = try await PostgresContactLog(url: url)
            return TestStore(log: log, execute: { sql in
                try await PG.run(url: url, PG.statements(sql))
            }, tamper: { sql in
                try await PG.run(url: url, ["ALTER TABLE events DISABLE TRIGGER USER"] + PG.statements(sql) + ["ALTER TABLE events ENABLE TRIGGER USER"])
            })
        }
    }
}

/// Raw statements against a test database, each in order on one connection.
enum PG {
    static func statements(_ sql: String) -> [String] {
        sql.split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    static func run(url: String, _ statements: [String]) async throws {
        var components = URLComponents(string: url)!
        components.queryItems = nil
        let configuration = PostgresClient.Configuration(host: components.host!, port: components.port ?? 5432, username: components.user!,
                                                         password: components.password, database: String(components.path.dropFirst()), tls: .disable)
        let client = PostgresClient(configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await client.withConnection { connection in
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: Logger(label: "test-sql"))
                }
            }
        }
    }
}

/// What a refused statement said, whichever database refused it (PSQLError hides the server's
/// message from `description`).
func refusal(_ error: any Error) -> String { String(reflecting: error) }
