import Crypto
import Foundation
import GatewayCore

/// The tamper evidence of the contact log: each event stores `hash = SHA-256(prev_hash ||
/// canonical bytes of the event)`, `prev_hash` being the hash of the event before it (64 zeros
/// for the first). Altering an event breaks its hash; deleting or reordering events breaks the
/// next event's link. Both stores use this one definition, so a log moved between them verifies.
public enum EventChain {
    public static let genesis = String(repeating: "0", count: 64)

    /// The event's columns, in this order, are what the hash covers (`seq` is not: the chain
    /// itself fixes the order).
    public static let columns = ["job_id", "contact_id", "debt_id", "segment", "kind", "at", "attempt", "channel", "template",
                                 "tone", "variant", "provider", "provider_message_id", "reason", "detail", "body", "address",
                                 "stream_id", "data"]

    /// Where `attempt` (an integer column) is in `columns`.
    public static let attemptIndex = columns.firstIndex(of: "attempt")!

    /// The values of `columns` for an event, as stored (text, or nil for NULL).
    public static func values(_ event: ContactEvent) -> [String?] {
        [event.jobID, event.contactID, event.debtID, event.segment, event.kind.rawValue, formatTimestamp(event.at), String(event.attempt),
         event.channel?.rawValue, event.template, event.tone, event.variant, event.provider, event.providerMessageID,
         event.reason, event.detail, event.body, event.address, event.streamID, event.data]
    }

    /// Canonical bytes: per column, `name` then `=-` for NULL or `=<byte count>:<UTF-8 bytes>`,
    /// then a newline. Unambiguous whatever the text holds.
    public static func canonical(_ values: [String?]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + values.reduce(0) { $0 + ($1?.utf8.count ?? 0) })
        let names = columnBytes
        for index in 0..<min(names.count, values.count) {
            names[index].withUnsafeBufferPointer { bytes.append(contentsOf: $0) }
            bytes.append(UInt8(ascii: "="))
            if let value = values[index] {
                // Copied from the string's contiguous bytes (`+= value.utf8` went element by element).
                let copied: Void? = value.utf8.withContiguousStorageIfAvailable { utf8 in
                    appendDecimal(utf8.count, to: &bytes)
                    bytes.append(UInt8(ascii: ":"))
                    bytes.append(contentsOf: utf8)
                }
                if copied == nil {
                    appendDecimal(value.utf8.count, to: &bytes)
                    bytes.append(UInt8(ascii: ":"))
                    bytes += value.utf8
                }
            } else {
                bytes.append(UInt8(ascii: "-"))
            }
            bytes.append(0x0A)
        }
        return bytes
    }

    static let columnBytes = columns.map { Array($0.utf8) }

    static func appendDecimal(_ number: Int, to bytes: inout [UInt8]) {
        if number >= 10 { appendDecimal(number / 10, to: &bytes) }
        bytes.append(UInt8(ascii: "0") + UInt8(number % 10))
    }

    public static func hash(previous: String, values: [String?]) -> String {
        var hasher = SHA256()
        var previous = previous
        previous.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        canonical(values).withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return hasher.finalize().withUnsafeBytes(hexString(of:))
    }

    /// Checks rows in `seq` order, starting from `anchor` (genesis, or the hash of the last event
    /// a retention prune removed). Feed every row to `check`, then read `result`.
    public struct Verifier {
        public private(set) var expectedPrevious: String
        public private(set) var checked = 0
        public private(set) var firstProblem: ChainProblem?

        public init(anchor: String) { expectedPrevious = anchor }

        /// Returns false once a problem is found (the rest need not be read).
        public mutating func check(seq: Int64, values: [String?], previous: String?, hash: String?) -> Bool {
            guard firstProblem == nil else { return false }
            checked += 1
            guard let previous, let hash else {
                firstProblem = ChainProblem(seq: seq, kind: .unhashed, message: "event \(seq) has no hash: it was written outside the gateway")
                return false
            }
            guard previous == expectedPrevious else {
                firstProblem = ChainProblem(seq: seq, kind: .brokenLink, message:
                    "event \(seq) does not follow the event before it (its prev_hash is \(previous.prefix(12))…, expected \(expectedPrevious.prefix(12))…): an event before it was deleted, inserted or moved")
                return false
            }
            let actual = EventChain.hash(previous: previous, values: values)
            guard actual == hash else {
                firstProblem = ChainProblem(seq: seq, kind: .altered, message: "event \(seq) was altered: its contents no longer match its hash")
                return false
            }
            expectedPrevious = hash
            return true
        }
    }
}

public struct ChainProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable { case altered, brokenLink = "broken_link", unhashed }
    public var seq: Int64
    public var kind: Kind
    public var message: String
    public var description: String { message }
}

/// What `gateway audit verify` reports.
public struct ChainReport: Sendable, Equatable {
    /// Events checked (up to and including the first bad one).
    public var checked: Int
    /// The hash of the last event: write it down somewhere else (a ticket, a signed e-mail) and a
    /// later verify proves nothing before it was rewritten.
    public var head: String
    /// Where the chain starts: genesis, or the anchor a retention prune left.
    public var anchor: String
    public var problem: ChainProblem?

    public init(checked: Int, head: String, anchor: String, problem: ChainProblem?) {
        self.checked = checked
        self.head = head
        self.anchor = anchor
        self.problem = problem
    }
}

/// What `gateway audit prune` did.
public struct PruneReport: Sendable, Equatable {
    public var removed: Int
    /// Events before this instant (the start of a month) were eligible.
    public var cutoff: Date
    /// The last removed event, whose hash is now the chain's anchor; nil when nothing was removed.
    public var throughSeq: Int64?

    public init(removed: Int, cutoff: Date, throughSeq: Int64?) {
        self.removed = removed
        self.cutoff = cutoff
        self.throughSeq = throughSeq
    }
}
