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
    public static let columns = firstColumns + laterColumns

    /// The columns every event has had since the chain began: each is in the canonical bytes,
    /// NULL or not.
    public static let firstColumns = ["job_id", "contact_id", "debt_id", "segment", "kind", "at", "attempt", "channel", "template",
                                      "tone", "variant", "provider", "provider_message_id", "reason", "detail", "body", "address",
                                      "stream_id", "data"]
    /// Columns added since (`job`: the raw job on a `dispatching` that stands for `received`). Each
    /// is in the canonical bytes only when it holds a value, so every event written before it was
    /// added keeps its hash.
    public static let laterColumns = ["job"]

    /// Where `attempt` (an integer column) is in `columns`.
    public static let attemptIndex = columns.firstIndex(of: "attempt")!

    /// The values of `columns` for an event, as stored (nil for NULL): text, and `data` as the
    /// bytes it holds (the raw job exactly as it arrived).
    public static func values(_ event: ContactEvent) -> [ChainValue?] {
        func text(_ value: String?) -> ChainValue? { value.map(ChainValue.text) }
        return [text(event.jobID), text(event.contactID), text(event.debtID), text(event.segment), .text(event.kind.rawValue),
                .text(formatTimestamp(event.at)), .text(String(event.attempt)), text(event.channel?.rawValue), text(event.template),
                text(event.tone), text(event.variant), text(event.provider), text(event.providerMessageID), text(event.reason),
                text(event.detail), text(event.body), text(event.address), text(event.streamID), event.rawData.map(ChainValue.bytes),
                event.job.map(ChainValue.bytes)]
    }

    /// Canonical bytes: per column, `name` then `=-` for NULL or `=<byte count>:<bytes>`, then a
    /// newline; a later column (`laterColumns`) that is NULL is left out. Unambiguous whatever the
    /// value holds (NUL bytes included); text is its UTF-8.
    public static func canonical(_ values: [ChainValue?]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + values.reduce(0) { $0 + ($1?.byteCount ?? 0) })
        let names = columnBytes
        for index in 0..<min(names.count, values.count) {
            if index >= firstColumns.count, values[index] == nil { continue }
            names[index].withUnsafeBufferPointer { bytes.append(contentsOf: $0) }
            bytes.append(UInt8(ascii: "="))
            if let value = values[index] {
                // Copied from the value's contiguous bytes (`+= value.utf8` went element by element).
                value.withBytes { stored in
                    appendDecimal(stored.count, to: &bytes)
                    bytes.append(UInt8(ascii: ":"))
                    bytes.append(contentsOf: stored)
                }
            } else {
                bytes.append(UInt8(ascii: "-"))
            }
            bytes.append(0x0A)
        }
        return bytes
    }

    /// The same for values that are all text.
    public static func canonical(_ values: [String?]) -> [UInt8] { canonical(values.map { $0.map(ChainValue.text) }) }

    static let columnBytes = columns.map { Array($0.utf8) }

    static func appendDecimal(_ number: Int, to bytes: inout [UInt8]) {
        if number >= 10 { appendDecimal(number / 10, to: &bytes) }
        bytes.append(UInt8(ascii: "0") + UInt8(number % 10))
    }

    public static func hash(previous: String, values: [ChainValue?]) -> String {
        hash(previous: previous, canonical: canonical(values))
    }

    /// The same from canonical bytes already made (an inclusion proof carries them).
    public static func hash(previous: String, canonical: [UInt8]) -> String {
        var hasher = SHA256()
        var previous = previous
        previous.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        canonical.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return hasher.finalize().withUnsafeBytes(hexString(of:))
    }

    public static func hash(previous: String, values: [String?]) -> String {
        hash(previous: previous, values: values.map { $0.map(ChainValue.text) })
    }

    /// Checks rows in `seq` order, starting from `anchor` (nil: from genesis; else the last anchor
    /// a retention prune left). Feed every row to `check`, then read `report()`.
    ///
    /// An anchor only counts when the `pruned` event that left it is in the chain after it, naming
    /// the same seq and hash: that event is hash-linked, so a `chain_anchors` row added by hand
    /// (to hide the deletion of the start of the log) has none, and neither has an anchor whose
    /// event was deleted too.
    public struct Verifier {
        public private(set) var expectedPrevious: String
        public private(set) var checked = 0
        public private(set) var firstProblem: ChainProblem?
        public let anchor: ChainAnchor?
        /// The `pruned` event that records `anchor`, once read.
        public private(set) var anchorEvent: Int64?

        public init(anchor: ChainAnchor?) {
            self.anchor = anchor
            expectedPrevious = anchor?.hash ?? EventChain.genesis
        }

        /// Returns false once a problem is found (the rest need not be read).
        public mutating func check(seq: Int64, values: [ChainValue?], previous: String?, hash: String?) -> Bool {
            guard firstProblem == nil else { return false }
            checked += 1
            if checked == 1, let anchor, seq <= anchor.throughSeq {
                firstProblem = ChainProblem(seq: anchor.throughSeq, kind: .unbackedAnchor, message:
                    "anchor at seq \(anchor.throughSeq) is not backed by a pruned event: the log still holds event \(seq), which that anchor says a prune removed (a chain_anchors row written outside the gateway)")
                return false
            }
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
            if let anchor, anchorEvent == nil, values.count == columns.count, values[kindIndex]?.bytes == Self.prunedKind,
               ChainAnchor.recorded(in: values[dataIndex]?.bytes) == anchor {
                anchorEvent = seq
            }
            return true
        }

        static let prunedKind = Array(EventKind.pruned.rawValue.utf8)

        /// What was found: the first problem, or an anchor no `pruned` event backs.
        public func report() -> ChainReport {
            var problem = firstProblem
            if problem == nil, let anchor, anchorEvent == nil {
                problem = ChainProblem(seq: anchor.throughSeq, kind: .unbackedAnchor, message:
                    "anchor at seq \(anchor.throughSeq) is not backed by a pruned event: no pruned event in the chain records it, so it was written outside the gateway or its prune's event was deleted, and events up to \(anchor.throughSeq) may have been removed without a prune")
            }
            return ChainReport(checked: checked, head: expectedPrevious, anchor: anchor?.hash ?? EventChain.genesis, problem: problem,
                               anchorEvent: anchorEvent)
        }
    }

    public static let kindIndex = columns.firstIndex(of: "kind")!
    public static let dataIndex = columns.firstIndex(of: "data")!
}

/// Where a retention prune left the chain: the last removed event's seq and hash (a row of
/// `chain_anchors`, and the `through_seq` and `anchor` of the `pruned` event it wrote).
public struct ChainAnchor: Sendable, Equatable {
    public var throughSeq: Int64
    public var hash: String

    public init(throughSeq: Int64, hash: String) {
        self.throughSeq = throughSeq
        self.hash = hash
    }

    /// The anchor a `pruned` event's data records, if it is one.
    static func recorded(in data: [UInt8]?) -> ChainAnchor? {
        guard let data, case .object(let object)? = try? JSONParser.parse(data),
              case .string(let through)? = object["through_seq"], let seq = Int64(through),
              case .string(let hash)? = object["anchor"] else { return nil }
        return ChainAnchor(throughSeq: seq, hash: hash)
    }
}

/// One column's value as stored and hashed: text, or bytes kept exactly as they arrived.
public enum ChainValue: Sendable, Equatable {
    case text(String)
    case bytes([UInt8])

    public var bytes: [UInt8] {
        switch self {
        case .text(let text): Array(text.utf8)
        case .bytes(let bytes): bytes
        }
    }

    public var byteCount: Int {
        switch self {
        case .text(let text): text.utf8.count
        case .bytes(let bytes): bytes.count
        }
    }

    public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        switch self {
        case .text(var text): try text.withUTF8(body)
        case .bytes(let bytes): try bytes.withUnsafeBufferPointer(body)
        }
    }

    /// Equal when the bytes are: text and bytes that spell it are the same value.
    public static func == (a: ChainValue, b: ChainValue) -> Bool { a.bytes == b.bytes }
}

public struct ChainProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable { case altered, brokenLink = "broken_link", unhashed, unbackedAnchor = "unbacked_anchor", checkpoint }
    public var seq: Int64
    public var kind: Kind
    public var message: String
    public var description: String { message }

    public init(seq: Int64, kind: Kind, message: String) {
        self.seq = seq
        self.kind = kind
        self.message = message
    }
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
    /// The `pruned` event that left the anchor (nil from genesis).
    public var anchorEvent: Int64?
    /// Every chain's head, by chain number, when the log has several (PostgreSQL's `log_chains`);
    /// empty for a log with one chain (its head is `head`).
    public var heads: [Int: String] = [:]
    /// Signed tree heads (`checkpoint` events) checked, the last one's seq, and the keys that signed
    /// them (base64; `gateway audit verify --public-key` says which one must).
    public var checkpoints = 0
    public var lastCheckpoint: Int64?
    public var checkpointKeys: [String] = []
    /// Each checkpoint's root by its seq: `audit verify --expect-root ROOT` requires one kept
    /// outside the database to still be there (deleting later checkpoints and rewriting what came
    /// after the last one left would otherwise pass).
    public var checkpointRoots: [Int64: String] = [:]

    public init(checked: Int, head: String, anchor: String, problem: ChainProblem?, anchorEvent: Int64? = nil) {
        self.checked = checked
        self.head = head
        self.anchor = anchor
        self.problem = problem
        self.anchorEvent = anchorEvent
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
