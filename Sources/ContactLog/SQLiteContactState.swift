import Foundation
import GatewayCore
import GRDB

/// Replies and the contact state they set (holds, escalations, moods, answers), in SQLite.
extension SQLiteContactLog {
    public func recordReply(_ message: InboundMessage, plan: @escaping @Sendable (ReplyMatch) -> ReplyPlan) async throws -> ReplyPlan? {
        try await transact(LogTransactions.reply(message, on: Self.self, plan: plan))
    }

    public func writeStates(_ writes: [StateWrite], events: [ContactEvent], removing marks: MarkRemoval?) async throws -> [OptOut]? {
        do {
            return try await transact(LogTransactions.writeStates(writes, events: events, removing: marks, on: Self.self))
        } catch is LogTransactions.StateConflict {
            return nil
        }
    }

    /// Runs a read-decide-write transaction (LogTransactions) in one write transaction.
    func transact<Result: Sendable>(_ first: LogStep<Result>) async throws -> Result {
        try await pool.write { db in
            var head: String?   // read at the first write: a transaction that only reads needs none
            var step = first
            while true {
                switch step {
                case .done(let result): return result
                case .read(let pending): step = try pending.next(Runner(db: db))
                case .write(let steps, let next):
                    var current = try head ?? Self.head(db)
                    step = try next(try Self.apply(steps, db, head: &current))
                    head = current
                }
            }
        }
    }

    struct Runner: SyncLogRunner {
        let db: Database
        func run<Value: Sendable>(_ read: LogRead<Value>) throws -> Value { try SQLiteContactLog.run(read, db) }
    }
}
