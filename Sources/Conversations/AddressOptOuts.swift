import ContactLog
import Foundation
import GatewayCore

/// The opt-outs replies set on an address (a number or a mailbox, for every contact at it): shown,
/// and lifted by a person when the reply was misread or the customer consented again another way.
/// Lifting records who and why in the contact log (`hold_changed`, reason `lifted`).
public struct AddressOptOuts: Sendable {
    public var store: any LogReader & LogAppender

    public init(store: any LogReader & LogAppender) {
        self.store = store
    }

    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// `bad_request` (who or why missing), `not_found` (nothing in force), `conflict` (changed
        /// meanwhile: try again), `store_error` (the log could not be read or written).
        public enum Code: String, Sendable { case badRequest = "bad_request", notFound = "no_opt_out", conflict, storeError = "store_error" }
        public var code: Code
        public var message: String
        public var description: String { message }
    }

    /// The address opt-outs in force on `address` at `now`.
    public func inForce(_ address: String, at now: Date) async throws -> [Hold] {
        try await store.states(StateQuery(kinds: [.hold], addresses: [Self.normalized(address)], activeOnly: true))
            .compactMap(\.hold).filter { $0.kind == .optOut && $0.inForce(at: now) }
    }

    /// An e-mail address as the gateway keeps it (lower case); a number as given.
    public static func normalized(_ address: String) -> String {
        let trimmed = address.trimmingCharacters(in: .whitespaces)
        return trimmed.contains("@") ? trimmed.lowercased() : trimmed
    }

    /// What a lift took back: the address opt-outs, and the contacts' own marks the same replies set.
    public struct Lifted: Sendable, Equatable {
        public var holds: [Hold]
        public var marks: [OptOut]
    }

    /// Lifts every address opt-out in force on `address`, and with each the opt-out marks the same
    /// reply set on that channel for the contacts it was matched to (a reply opts out both the
    /// address and those contacts; lifting only the address would leave them held). `by` and `note`
    /// are the record.
    public func lift(_ address: String, by: String, note: String, at now: Date) async throws(Failure) -> Lifted {
        let address = Self.normalized(address)
        let by = by.trimmingCharacters(in: .whitespacesAndNewlines), note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard by.count <= 200, OptOut.isName(by) else {
            throw Failure(code: .badRequest, message: "say who lifts it (--by NAME), on one line, at most 200 characters")
        }
        guard !note.isEmpty, note.count <= 2000 else { throw Failure(code: .badRequest, message: "say why (--reason), at most 2000 characters: it is what compliance reads") }
        let records: [StateRecord]
        do { records = try await store.states(StateQuery(kinds: [.hold], addresses: [address], activeOnly: true)) } catch {
            throw Failure(code: .storeError, message: "could not read the contact log: \(error)")
        }
        var writes: [StateWrite] = []
        var events: [ContactEvent] = []
        var lifted: [Hold] = []
        for record in records {
            guard let hold = record.hold, hold.kind == .optOut, hold.inForce(at: now) else { continue }
            let lift = hold.lifted(at: now, by: by, note: note, version: record.version,
                                   detail: "opt_out \(hold.id) of \(address) (replied \"\(hold.replyText.prefix(60))\") lifted by \(by): \(note)",
                                   data: ["by": .string(by)])
            lifted.append(lift.hold)
            writes.append(lift.write)
            events.append(lift.event)
        }
        guard !lifted.isEmpty else {
            throw Failure(code: .notFound, message: "no reply has opted out \(address) (nothing in force to lift); a contact's own opt-out is taken back with gateway contacts opt-in CONTACT")
        }
        // Only the hold's own channel: a reply that also refused e-mail keeps that refusal until it is lifted by itself.
        let marks = MarkRemoval(setBy: Array(Set(lifted.map { ReplyPlanner.setByPrefix + $0.source })).sorted(), channels: [address.contains("@") ? .email : .sms], by: by,
                                reason: "address opt-out of \(address) lifted: \(note)", at: now)
        let removed: [OptOut]?
        do { removed = try await store.writeStates(writes, events: events, removing: marks) } catch {
            throw Failure(code: .storeError, message: "could not write to the contact log: \(error)")
        }
        guard let removed else { throw Failure(code: .conflict, message: "the opt-out of \(address) changed while it was being lifted (another reply, or someone else?); try again") }
        return Lifted(holds: lifted, marks: removed)
    }
}
