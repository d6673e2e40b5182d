import ContactLog
import Foundation
import GatewayCore
import Logging
import PostgresNIO

/// Replies and the contact state they set (holds, escalations, moods, answers), in PostgreSQL.
extension PostgresContactLog {
    public func recordReply(_ message: InboundMessage, plan: @escaping @Sendable (ReplyMatch) -> ReplyPlan) async throws -> ReplyPlan? {
        let logger = self.logger
        return try await appending { connection, head in
            if try await Self.run(LogReads.replySeen(message), connection, logger) { return nil }
            let sent = try await Self.run(LogReads.sentTo(message), connection, logger)
            let contacts = ReplyMatch.contacts(fromSent: sent)
            let optOuts = try await Self.run(LogReads.optOuts(contacts.map(\.id), on: Self.self), connection, logger)
            let holds = LogReads.sortedStates(try await Self.run(LogReads.states(StateQuery(kinds: [.hold], contactIDs: contacts.map(\.id), debtIDs: contacts.compactMap(\.debtID),
                                                                                            addresses: [message.from], activeOnly: true)), connection, logger)).compactMap(\.hold)
            let plan = plan(ReplyMatch(contacts: contacts, optOuts: optOuts, holds: holds))
            _ = try await Self.apply(LogWrites.reply(plan, message), connection, logger, head: &head)
            guard try await Self.write(plan.writes, connection, logger, head: &head) else {
                throw ContactLogError("a reply's contact state was written by someone else at the same moment; the reply was not recorded (the webhook is answered 500, so the provider delivers it again)")
            }
            return plan
        }
    }

    public func writeStates(_ writes: [StateWrite], events: [ContactEvent]) async throws -> Bool {
        let logger = self.logger
        do {
            return try await appending { connection, head in
                guard try await Self.write(writes, connection, logger, head: &head) else { throw Conflict() }
                _ = try await Self.apply([.events(events)], connection, logger, head: &head)
                return true
            }
        } catch is Conflict {
            return false
        } catch let error as PostgresTransactionError where error.closureError is Conflict {
            return false
        }
    }

    private struct Conflict: Error {}

    /// Writes every row whose version is as expected; false at the first that is not (the caller's
    /// transaction rolls back).
    static func write(_ writes: [StateWrite], _ connection: PostgresConnection, _ logger: Logger, head: inout Head) async throws -> Bool {
        for write in writes {
            let current = try await run(LogReads.stateVersion(key: write.record.key, on: Self.self), connection, logger)
            guard let version = write.newVersion(current: current) else { return false }
            _ = try await apply([LogWrites.state(write.record, version: version)], connection, logger, head: &head)
        }
        return true
    }
}
