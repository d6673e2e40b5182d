import Foundation
import GRDB
import Testing
@testable import ContactLog

@Suite struct WALCheckpointerTests {
    /// A writer that never checkpoints: what it commits still reaches the database file, copied
    /// there by the checkpointer's own connection (without it, the file would hold only the schema).
    @Test func committedPagesReachTheDatabaseFileWithoutTheWriter() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("log.sqlite").path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        let pool = try DatabasePool(path: path, configuration: configuration)
        let checkpointer = try WALCheckpointer(path: path, interval: 0.01)
        defer { checkpointer.stop() }
        let row = String(repeating: "x", count: 2000)
        try await pool.write { db in
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT)")
            for _ in 0..<2500 { try db.execute(sql: "INSERT INTO t (x) VALUES (?)", arguments: [row]) }
        }
        func fileSize() throws -> Int { (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 }
        // The checkpointer runs every 10 ms; the bound is only a safety net (copying 5 MB on a busy
        // CI disk has no speed to promise), never a claim about how fast it copies.
        let started = ContinuousClock.now
        while try fileSize() < 5_000_000, ContinuousClock.now - started < .seconds(120) {
            try await Task.sleep(for: .milliseconds(10))
        }
        let size = try fileSize()
        #expect(size >= 5_000_000, "the database file has \(size) bytes after \(ContinuousClock.now - started); the 5 MB written are still only in the WAL")
        #expect(try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") } == 2500)
    }
}
