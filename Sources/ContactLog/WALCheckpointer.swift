import Foundation
import GRDB

/// Copies the contact log's WAL back into the database file from a connection and thread of its
/// own, every `interval`. A checkpoint done by the writer at commit (SQLite's default, every 4 MB
/// of WAL) holds up the batch that crossed the threshold; with this one running, the writer's own
/// checkpoint (SQLiteContactLog sets it to every 16 MB) finds nearly everything copied already,
/// so it is short, and it is what lets SQLite start the WAL over (a checkpoint from another
/// connection can start it over only by holding the writer off, which a busy writer starves).
/// PASSIVE checkpoints never wait for or block the writer.
final class WALCheckpointer: @unchecked Sendable {
    // @unchecked: `stopped` is guarded by `condition`; `connection` is a GRDB queue (serialized).
    private let connection: DatabaseQueue
    private let condition = NSCondition()
    private var stopped = false
    private let interval: TimeInterval

    init(path: String, interval: TimeInterval = 0.1) throws {
        var configuration = Configuration()
        // Opening waits like the log's own connections do (another process may be opening or closing it).
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        connection = try DatabaseQueue(path: path, configuration: configuration)
        self.interval = interval
        let thread = Thread { [self] in run() }
        thread.name = "contact log checkpoints"
        thread.start()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            if !stopped { _ = condition.wait(until: Date().addingTimeInterval(interval)) }
            let stop = stopped
            condition.unlock()
            if stop { return }
            // Busy (another process's checkpoint is running) or failing: the next turn tries again,
            // and the writer's own checkpoints are the backstop.
            _ = try? connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
        }
    }
}
