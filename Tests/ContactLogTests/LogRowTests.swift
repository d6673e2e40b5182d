import ContactLog
import Foundation
import PostgresContactLog
import Testing
import TestSupport

/// A value read back from PostgreSQL that is not of the type asked for is an error, never read as
/// nil or 0 (a count shown as 0, an attempt read as 1); NULL is nil.
@Suite struct LogRowTests {
    @Test(.enabled(if: StoreKind.postgresURL != nil, "needs TEST_POSTGRES_URL (scripts/test starts one)"))
    func anUnreadableValueIsAnErrorAndNullIsNil() async throws {
        let store = try await TestStore.make(.postgres)
        guard let log = store.log as? PostgresContactLog else { Issue.record("not a PostgreSQL store"); return }
        let unreadable = LogRead<Int64?>(nil, [.init("SELECT 'twelve'::text AS n") { result, row in result = try row.integer("n") }])
        await #expect(throws: (any Error).self) { _ = try await log.run(unreadable) }
        let null = LogRead<Int64?>(7, [.init("SELECT NULL::bigint AS n") { result, row in result = try row.integer("n") }])
        #expect(try await log.run(null) == nil)
        let number = LogRead<Int64?>(nil, [.init("SELECT 12::bigint AS n") { result, row in result = try row.integer("n") }])
        #expect(try await log.run(number) == 12)
    }
}
