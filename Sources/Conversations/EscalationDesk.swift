import ContactLog
import Foundation
import GatewayCore

/// What people do with escalations: list, read, resolve (CLI `gateway escalations`, the API's
/// `agent` role). Resolving records who and why and, when asked, lifts the pauses the reply set.
public struct EscalationDesk: Sendable {
    public var store: any LogReader & LogAppender

    public init(store: any LogReader & LogAppender) {
        self.store = store
    }

    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Code: String, Sendable { case notFound = "not_found", alreadyResolved = "already_resolved", conflict, badRequest = "bad_request" }
        public var code: Code
        public var message: String
        public var description: String { message }
    }

    /// Escalations, open ones first by due time, then resolved ones (latest first).
    public func list(status: Escalation.Status? = nil, limit: Int = 100) async throws -> [Escalation] {
        let records = try await store.states(StateQuery(kinds: [.escalation], activeOnly: status == .open))
        let all = records.compactMap(\.escalation).filter { status == nil || $0.status == status }
        let open = all.filter { $0.status == .open }.sorted { ($0.dueBy, $0.id) < ($1.dueBy, $1.id) }
        let resolved = all.filter { $0.status == .resolved }.sorted { ($0.resolvedAt ?? .distantPast) > ($1.resolvedAt ?? .distantPast) }
        return Array((open + resolved).prefix(limit))
    }

    /// One escalation with the holds it set, in their current state.
    public func show(_ id: String) async throws(Failure) -> (escalation: Escalation, holds: [Hold]) {
        let (escalation, _) = try await find(id)
        let holds: [Hold]
        do { holds = try await store.states(StateQuery(kinds: [.hold], keys: escalation.holds.map { "hold:\($0)" })).compactMap(\.hold) } catch {
            throw Failure(code: .conflict, message: "could not read the contact log: \(error)")
        }
        return (escalation, holds)
    }

    func find(_ id: String) async throws(Failure) -> (Escalation, StateRecord) {
        let records: [StateRecord]
        do { records = try await store.states(StateQuery(kinds: [.escalation], keys: ["escalation:\(id)"])) } catch {
            throw Failure(code: .conflict, message: "could not read the contact log: \(error)")
        }
        guard let record = records.first, let escalation = record.escalation else {
            throw Failure(code: .notFound, message: "no escalation \(id); list them with gateway escalations list (ids look like E-0123456789abcdef)")
        }
        return (escalation, record)
    }

    /// Resolves an open escalation: `by` and `note` are required (they are the record), `lift`
    /// lifts every pause and block the reply set (false: they stay until lifted another way or
    /// reach their date).
    public func resolve(_ id: String, by: String, note: String, lift: Bool, at now: Date) async throws(Failure) -> (escalation: Escalation, lifted: [Hold]) {
        let by = by.trimmingCharacters(in: .whitespacesAndNewlines), note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !by.isEmpty, by.count <= 200 else { throw Failure(code: .badRequest, message: "say who resolves it (--by NAME / \"by\"), at most 200 characters") }
        guard !note.isEmpty, note.count <= 2000 else { throw Failure(code: .badRequest, message: "say why in a note (--note / \"note\"), at most 2000 characters: it is what compliance reads") }
        let (found, record) = try await find(id)
        guard found.status == .open else {
            throw Failure(code: .alreadyResolved, message: "escalation \(id) was already resolved by \(found.resolvedBy ?? "?") at \(found.resolvedAt.map(formatTimestamp) ?? "?"): \(found.resolutionNote ?? "")")
        }
        var escalation = found
        escalation.status = .resolved
        escalation.resolvedAt = now
        escalation.resolvedBy = by
        escalation.resolutionNote = note
        escalation.liftedHolds = lift
        var writes = [StateWrite(.escalation(escalation, at: now), expect: .version(record.version))]
        var events = [ContactEvent(jobID: nil, contactID: escalation.contactID, kind: .escalationResolved, at: now, channel: escalation.channel,
                                   reason: lift ? "resolved_lifted" : "resolved",
                                   detail: "escalation \(id) resolved by \(by): \(note)" + (lift ? "; its pauses lifted" : "; its pauses stay"),
                                   address: escalation.address,
                                   data: JSONValue.object(["escalation": .string(id), "by": .string(by), "lift": .bool(lift)]).serialized,
                                   debtID: escalation.debtID)]
        var lifted: [Hold] = []
        if lift {
            let holdRecords: [StateRecord]
            do { holdRecords = try await store.states(StateQuery(kinds: [.hold], keys: escalation.holds.map { "hold:\($0)" })) } catch {
                throw Failure(code: .conflict, message: "could not read the contact log: \(error)")
            }
            for holdRecord in holdRecords {
                guard let hold = holdRecord.hold, hold.liftedAt == nil else { continue }
                let lift = hold.lifted(at: now, by: by, note: "escalation \(id) resolved: \(note)", version: holdRecord.version,
                                       detail: "\(hold.kind.rawValue) \(hold.id) (\(hold.intent)) lifted by \(by): escalation \(id) resolved: \(note)",
                                       data: ["escalation": .string(id)])
                lifted.append(lift.hold)
                writes.append(lift.write)
                events.append(lift.event)
            }
        }
        let written: Bool
        do { written = try await store.writeStates(writes, events: events) } catch {
            throw Failure(code: .conflict, message: "could not write to the contact log: \(error)")
        }
        guard written else { throw Failure(code: .conflict, message: "escalation \(id) changed while it was being resolved (someone else resolved it?); look again with show") }
        return (escalation, lifted)
    }
}
