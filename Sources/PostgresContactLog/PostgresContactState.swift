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
            let seen = try await connection.query("""
                SELECT 1 FROM events WHERE kind = 'inbound' AND provider = \(StoredText.encode(message.provider))
                AND provider_message_id = \(StoredText.encode(message.messageID)) LIMIT 1
                """, logger: logger).collect()
            guard seen.isEmpty else { return nil }
            let sent = try await connection.query("""
                SELECT contact_id, debt_id FROM events WHERE address = \(StoredText.encode(message.from)) AND channel = \(message.channel.rawValue)
                AND kind = 'sent' AND contact_id IS NOT NULL ORDER BY seq
                """, logger: logger).collect().map { row in
                let row = row.makeRandomAccess()
                return (contact: Self.text(row, "contact_id") ?? "", debt: Self.text(row, "debt_id"))
            }
            let contacts = ReplyMatch.contacts(fromSent: sent)
            let optOuts = try await Self.run(LogReads.optOuts(contacts.map(\.id), on: Self.self), connection, logger)
            let holds = LogReads.sortedStates(try await Self.run(LogReads.states(StateQuery(kinds: [.hold], contactIDs: contacts.map(\.id), debtIDs: contacts.compactMap(\.debtID),
                                                                                            addresses: [message.from], activeOnly: true)), connection, logger)).compactMap(\.hold)
            let plan = plan(ReplyMatch(contacts: contacts, optOuts: optOuts, holds: holds))
            _ = try await Self.apply(LogWrites.reply(plan, message), connection, logger, head: &head)
            guard try await Self.write(plan.writes, connection, logger) else {
                throw ContactLogError("a reply's contact state was written by someone else at the same moment; the reply was not recorded (the webhook is answered 500, so the provider delivers it again)")
            }
            return plan
        }
    }

    public func writeStates(_ writes: [StateWrite], events: [ContactEvent]) async throws -> Bool {
        let logger = self.logger
        do {
            return try await appending { connection, head in
                guard try await Self.write(writes, connection, logger) else { throw Conflict() }
                _ = try await Self.insertAll(events, head: &head, connection, logger)
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
    static func write(_ writes: [StateWrite], _ connection: PostgresConnection, _ logger: Logger) async throws -> Bool {
        for write in writes {
            let record = write.record
            let current = try await connection.query("SELECT version FROM contact_state WHERE key = \(StoredText.encode(record.key)) FOR UPDATE",
                                                     logger: logger).collect().first.map { try $0.makeRandomAccess()["version"].decode(Int.self) }
            guard let version = write.newVersion(current: current) else { return false }
            try await connection.query("""
                INSERT INTO contact_state (key, kind, contact_id, debt_id, address, source, active, version, value, updated_at)
                VALUES (\(StoredText.encode(record.key)), \(record.kind.rawValue), \(StoredText.encode(record.contactID)), \(StoredText.encode(record.debtID)),
                        \(StoredText.encode(record.address)), \(StoredText.encode(record.source)), \(record.active ? 1 : 0), \(version),
                        \(StoredText.encode(record.value)), \(formatTimestamp(record.updatedAt)))
                ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, contact_id = excluded.contact_id, debt_id = excluded.debt_id,
                    address = excluded.address, source = excluded.source, active = excluded.active, version = excluded.version,
                    value = excluded.value, updated_at = excluded.updated_at
                """, logger: logger)
        }
        return true
    }
}
