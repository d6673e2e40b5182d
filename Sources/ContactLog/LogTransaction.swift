import Foundation
import GatewayCore

/// A read-decide-write transaction written once for both stores: a step either reads (and says
/// what comes next from what it read), writes (and says what comes next from what was written), or
/// is done. SQLite runs the steps inside GRDB's synchronous write closure, PostgreSQL inside its
/// asynchronous transaction holding the chain head; the decisions between them are the same code.
public enum LogStep<Result: Sendable>: Sendable {
    case read(any PendingRead<Result>)
    case write([LogWrite], @Sendable (LogWriteResult) throws -> LogStep<Result>)
    case done(Result)

    /// Reads, then goes on from what was read.
    public static func read<Value: Sendable>(_ read: LogRead<Value>, _ next: @escaping @Sendable (Value) throws -> LogStep<Result>) -> LogStep<Result> {
        .read(Reading(read: read, next: next))
    }

    /// Writes, then is done with `result` (or goes on from what was written).
    public static func write(_ steps: [LogWrite], then result: Result) -> LogStep<Result> {
        .write(steps) { _ in .done(result) }
    }
}

/// Runs a store's reads inside its transaction, synchronously (SQLite) or not (PostgreSQL).
public protocol SyncLogRunner {
    func run<Value: Sendable>(_ read: LogRead<Value>) throws -> Value
}

public protocol AsyncLogRunner {
    func run<Value: Sendable>(_ read: LogRead<Value>) async throws -> Value
}

/// A read waiting to run, and what follows from its value (the value's type is its own).
public protocol PendingRead<Result>: Sendable {
    associatedtype Result: Sendable
    func next(_ runner: some SyncLogRunner) throws -> LogStep<Result>
    func next(_ runner: some AsyncLogRunner) async throws -> LogStep<Result>
}

struct Reading<Value: Sendable, Result: Sendable>: PendingRead {
    let read: LogRead<Value>
    let next: @Sendable (Value) throws -> LogStep<Result>

    func next(_ runner: some SyncLogRunner) throws -> LogStep<Result> { try next(try runner.run(read)) }
    func next(_ runner: some AsyncLogRunner) async throws -> LogStep<Result> { try next(try await runner.run(read)) }
}

/// The transactions that read, decide and write (receipts, replies, contact state).
public enum LogTransactions {
    /// A delivery report: recorded on the `sent` event it reports on, or kept once for review.
    public static func receipt(_ receipt: Receipt) -> LogStep<ReceiptResult> {
        .read(LogReads.receiptTarget(receipt)) { target in
            guard let target else {
                // Kept for review: a report for a message this log does not know.
                return .read(LogReads.receiptKept(receipt)) { kept in
                    .write(receipt.unmatchedEvent(alreadyKept: kept).map { [.events([$0])] } ?? [], then: .unmatched)
                }
            }
            return .read(LogReads.receiptStatuses(jobID: target.jobID)) { earlier in
                let (event, result) = receipt.recording(for: target, earlier: earlier)
                return .write(event.map { [.events([$0])] } ?? [], then: result)
            }
        }
    }

    /// A reply, once: matched to the contacts sent to at its address, planned, recorded with the
    /// state it sets. Nil when it was recorded before.
    public static func reply<D: LogDatabase>(_ message: InboundMessage, on database: D.Type,
                                             plan: @escaping @Sendable (ReplyMatch) -> ReplyPlan) -> LogStep<ReplyPlan?> {
        .read(LogReads.replySeen(message)) { seen in
            if seen { return .done(nil) }
            return .read(LogReads.sentTo(message)) { sent in
                let contacts = ReplyMatch.contacts(fromSent: sent)
                return .read(LogReads.optOuts(contacts.map(\.id), on: D.self)) { optOuts in
                    let query = StateQuery(kinds: [.hold], contactIDs: contacts.map(\.id), debtIDs: contacts.compactMap(\.debtID),
                                           addresses: [message.from], activeOnly: true)
                    return .read(LogReads.states(query)) { holds in
                        let records = LogReads.sortedStates(holds)
                        let plan = plan(ReplyMatch(contacts: contacts, optOuts: optOuts, holds: records.compactMap(\.hold),
                                                   holdVersions: Dictionary(records.compactMap { record in record.hold.map { ($0.id, record.version) } },
                                                                            uniquingKeysWith: { first, _ in first })))
                        return .write(LogWrites.reply(plan, message)) { _ in
                            states(plan.writes, on: D.self) { written in
                                guard written else {
                                    throw ContactLogError("a reply's contact state was written by someone else at the same moment; the reply was not recorded (the webhook is answered 500, so the provider delivers it again)")
                                }
                                return .done(plan)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Contact-state rows written only if each is at the version its writer read, then `events`;
    /// false, and nothing written (the store rolls back), at the first that is not.
    /// With `marks`, every contact mark those replies set is taken back too, each with its event.
    public static func writeStates<D: LogDatabase>(_ writes: [StateWrite], events: [ContactEvent], removing marks: MarkRemoval?,
                                                   on database: D.Type) -> LogStep<[OptOut]> {
        states(writes, on: D.self) { written in
            guard written else { throw StateConflict() }
            guard let marks else { return .write([.events(events)], then: []) }
            return .read(LogReads.optOutsSet(by: marks.setBy, on: D.self)) { set in
                let found = set.filter { mark in mark.channel.map(marks.channels.contains) ?? false }
                // Each removed only if that reply's mark is still the one there (one replaced meanwhile stays).
                return .write([.events(events)] + found.map { mark in
                    LogWrites.removeOptOut(contactID: mark.contactID, channel: mark.channel, setBy: mark.setBy,
                                           event: .optOutRemoved(contactID: mark.contactID, channel: mark.channel, by: marks.by, reason: marks.reason, at: marks.at))
                }) { result in
                    .done(zip(found, result.changed).filter(\.1).map(\.0))
                }
            }
        }
    }

    /// What a store's `writeStates` turns into `false` after rolling back.
    public struct StateConflict: Error {}

    /// Each row's version read, checked and written in turn; `then(false)` at the first conflict.
    static func states<D: LogDatabase, Result: Sendable>(_ writes: [StateWrite], on database: D.Type,
                                                        then: @escaping @Sendable (Bool) throws -> LogStep<Result>) -> LogStep<Result> {
        guard let write = writes.first else { return .write([]) { _ in try then(true) } }
        return .read(LogReads.stateVersion(key: write.record.key, on: D.self)) { current in
            guard let version = write.newVersion(current: current) else { return try then(false) }
            return .write([LogWrites.state(write.record, version: version)]) { _ in
                states(Array(writes.dropFirst()), on: D.self, then: then)
            }
        }
    }
}
