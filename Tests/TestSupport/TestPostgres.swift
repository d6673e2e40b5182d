import Foundation
import Logging
import PostgresNIO

/// The throwaway PostgreSQL that scripts/test starts (TEST_POSTGRES_URL), when there is one.
public enum TestPostgres {
    public static var url: String? { ProcessInfo.processInfo.environment["TEST_POSTGRES_URL"] }

    /// A new empty database on the test server; its URL.
    public static func freshDatabase() async throws -> String {
        guard let base = url else { throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "TEST_POSTGRES_URL is not set; run scripts/test"]) }
        let database = "gw_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try await run(url: base, ["CREATE DATABASE \(database)"])
        return base.replacingOccurrences(of: #"/[^/?]*(\?.*)?$"#, with: "/\(database)?sslmode=disable", options: .regularExpression)
    }

    public static func statements(_ sql: String) -> [String] {
        sql.split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// Runs statements in order on one connection.
    public static func run(url: String, _ statements: [String]) async throws {
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
