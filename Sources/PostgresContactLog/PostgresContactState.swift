import ContactLog
import Foundation
import GatewayCore
import Logging
import PostgresNIO

/// Replies and the contact state they set (holds, escalations, moods, answers), in PostgreSQL.
extension PostgresContactLog {
    public func recordReply(_ message: InboundMessage, plan: @escaping @Sendable (ReplyMatch) -> ReplyPlan) async throws -> ReplyPlan? {
        try await transact(LogTransactions.reply(message, on: Self.self, plan: plan))
    }

    public func writeStates(_ writes: [StateWrite], events: [ContactEvent], removing marks: MarkRemoval?) async throws -> [OptOut]? {
        do {
            return try await transact(LogTransactions.writeStates(writes, events: events, removing: marks, on: Self.self))
        } catch is LogTransactions.StateConflict {
            return nil
        } catch let error as PostgresTransactionError where error.closureError is LogTransactions.StateConflict {
            return nil
        }
    }

    /// Runs a read-decide-write transaction (LogTransactions) holding chain 0's head.
    func transact<Result: Sendable>(_ first: LogStep<Result>) async throws -> Result {
        let logger = self.logger
        return try await appending { connection, head in
            var step = first
            while true {
                switch step {
                case .done(let result): return result
                case .read(let pending): step = try await pending.next(Runner(connection: connection, logger: logger))
                case .write(let steps, let next): step = try next(try await Self.apply(steps, connection, logger, head: &head))
                }
            }
        }
    }

    struct Runner: AsyncLogRunner {
        let connection: PostgresConnection
        let logger: Logger
        func run<Value: Sendable>(_ read: LogRead<Value>) async throws -> Value { try await PostgresContactLog.run(read, connection, logger) }
    }
}
