import Foundation
import GatewayCore
import GRDB

/// Replies and the contact state they set (holds, escalations, moods, answers), in SQLite.
extension SQLiteContactLog {
    public func recordReply(_ message: InboundMessage, plan: @escaping @Sendable (ReplyMatch) -> ReplyPlan) async throws -> ReplyPlan? {
        try await pool.write { db in
            if try Self.run(LogReads.replySeen(message), db) { return nil }
            let sent = try Self.run(LogReads.sentTo(message), db)
            let contacts = ReplyMatch.contacts(fromSent: sent)
            let optOuts = try Self.run(LogReads.optOuts(contacts.map(\.id), on: Self.self), db)
            let holds = LogReads.sortedStates(try Self.run(LogReads.states(StateQuery(kinds: [.hold], contactIDs: contacts.map(\.id), debtIDs: contacts.compactMap(\.debtID),
                                                                                      addresses: [message.from], activeOnly: true)), db)).compactMap(\.hold)
            let plan = plan(ReplyMatch(contacts: contacts, optOuts: optOuts, holds: holds))
            var head = try Self.head(db)
            _ = try Self.apply(LogWrites.reply(plan, message), db, head: &head)
            guard try Self.write(plan.writes, db, head: &head) else {
                throw ContactLogError("a reply's contact state was written by someone else at the same moment; the reply was not recorded (the webhook is answered 500, so the provider delivers it again)")
            }
            return plan
        }
    }

    public func writeStates(_ writes: [StateWrite], events: [ContactEvent]) async throws -> Bool {
        do {
            return try await pool.write { db in
                var head = try Self.head(db)
                guard try Self.write(writes, db, head: &head) else { throw Conflict() }
                _ = try Self.apply([.events(events)], db, head: &head)
                return true
            }
        } catch is Conflict {
            return false
        }
    }

    private struct Conflict: Error {}

    /// Writes every row whose version is as expected; false (and nothing more written: the caller's
    /// transaction rolls back) at the first that is not.
    static func write(_ writes: [StateWrite], _ db: Database, head: inout String) throws -> Bool {
        for write in writes {
            let current = try run(LogReads.stateVersion(key: write.record.key, on: Self.self), db)
            guard let version = write.newVersion(current: current) else { return false }
            _ = try apply([LogWrites.state(write.record, version: version)], db, head: &head)
        }
        return true
    }
}
