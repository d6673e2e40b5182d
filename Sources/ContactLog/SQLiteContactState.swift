import Foundation
import GatewayCore
import GRDB

/// Replies and the contact state they set (holds, escalations, moods, answers), in SQLite.
extension SQLiteContactLog {
    public func recordReply(_ message: InboundMessage, plan: @escaping @Sendable (ReplyMatch) -> ReplyPlan) async throws -> ReplyPlan? {
        try await pool.write { db in
            let seen = try !ExactSQL.all(db, "SELECT 1 AS found FROM events WHERE kind = 'inbound' AND provider = ? AND provider_message_id = ? LIMIT 1",
                                         [.text(message.provider), .text(message.messageID)]) { $0.integer("found") }.isEmpty
            if seen { return nil }
            let sent = try ExactSQL.all(db, """
                SELECT contact_id, debt_id FROM events WHERE address = ? AND channel = ? AND kind = 'sent' AND contact_id IS NOT NULL ORDER BY seq
                """, [.text(message.from), .text(message.channel.rawValue)]) { row in (contact: row.text("contact_id") ?? "", debt: row.text("debt_id")) }
            let contacts = ReplyMatch.contacts(fromSent: sent)
            let optOuts = try Self.run(LogReads.optOuts(contacts.map(\.id), on: Self.self), db)
            let holds = LogReads.sortedStates(try Self.run(LogReads.states(StateQuery(kinds: [.hold], contactIDs: contacts.map(\.id), debtIDs: contacts.compactMap(\.debtID),
                                                                                      addresses: [message.from], activeOnly: true)), db)).compactMap(\.hold)
            let plan = plan(ReplyMatch(contacts: contacts, optOuts: optOuts, holds: holds))
            var head = try Self.head(db)
            _ = try Self.apply(LogWrites.reply(plan, message), db, head: &head)
            guard try Self.write(plan.writes, db) else {
                throw ContactLogError("a reply's contact state was written by someone else at the same moment; the reply was not recorded (the webhook is answered 500, so the provider delivers it again)")
            }
            return plan
        }
    }

    public func writeStates(_ writes: [StateWrite], events: [ContactEvent]) async throws -> Bool {
        do {
            return try await pool.write { db in
                guard try Self.write(writes, db) else { throw Conflict() }
                var head = try Self.head(db)
                for event in events { try Self.insert(event, db, head: &head) }
                return true
            }
        } catch is Conflict {
            return false
        }
    }

    private struct Conflict: Error {}

    /// Writes every row whose version is as expected; false (and nothing more written: the caller's
    /// transaction rolls back) at the first that is not.
    static func write(_ writes: [StateWrite], _ db: Database) throws -> Bool {
        for write in writes {
            let record = write.record
            let current = try ExactSQL.all(db, "SELECT version FROM contact_state WHERE key = ?", [.text(record.key)]) { $0.integer("version") }.first ?? nil
            guard let version = write.newVersion(current: current.map { Int($0) }) else { return false }
            try ExactSQL.run(db, """
                INSERT INTO contact_state (key, kind, contact_id, debt_id, address, source, active, version, value, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, contact_id = excluded.contact_id, debt_id = excluded.debt_id,
                    address = excluded.address, source = excluded.source, active = excluded.active, version = excluded.version,
                    value = excluded.value, updated_at = excluded.updated_at
                """, [.text(record.key), .text(record.kind.rawValue), .text(record.contactID), .text(record.debtID), .text(record.address),
                      .text(record.source), .integer(record.active ? 1 : 0), .integer(Int64(version)), .text(record.value),
                      .text(formatTimestamp(record.updatedAt))])
        }
        return true
    }
}
