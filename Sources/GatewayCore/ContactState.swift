import Foundation

/// A pause or a block that a customer's reply put on collection, kept until its date or until a
/// person lifts it. The worker applies every hold in force; `gateway rules check` names them.
public struct Hold: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Equatable, Codable {
        /// Collection messages stop (transactional ones go on).
        case pause
        /// The address is not the debtor's: nothing goes to it, for any contact.
        case block
        /// The customer revoked consent from this address (TCPA: per number): nothing goes to it on
        /// its channel, for any contact, but the gateway's own confirmation; an opt-in reply from the
        /// address lifts it.
        case optOut = "opt_out"
    }

    public enum Scope: String, Sendable, Equatable, Codable {
        case contact
        case debt
        /// One phone number or e-mail address, for every contact.
        case address
    }

    public var id: String
    public var kind: Kind
    public var scope: Scope
    /// The reply intent behind it (dispute, lawyer, promise_to_pay, wrong_number ...).
    public var intent: String
    public var contactID: String?
    public var debtID: String?
    public var address: String?
    public var since: Date
    /// Lifts by itself at this moment (a promise's date plus grace, a paid reply's days); nil:
    /// only a person lifts it.
    public var until: Date?
    public var escalationID: String?
    /// The reply that set it: its text (the first 160 characters) and where it came from.
    public var replyText: String
    public var source: String
    /// Set by a `payment-received` job for the debt: the promise was kept, so collection does not
    /// resume at `until`; a person lifts the pause.
    public var keptBy: String?
    public var liftedAt: Date?
    public var liftedBy: String?
    public var liftNote: String?

    public init(id: String, kind: Kind, scope: Scope, intent: String, contactID: String?, debtID: String?, address: String?,
                since: Date, until: Date?, escalationID: String?, replyText: String, source: String) {
        self.id = id
        self.kind = kind
        self.scope = scope
        self.intent = intent
        self.contactID = contactID
        self.debtID = debtID
        self.address = address
        self.since = since
        self.until = until
        self.escalationID = escalationID
        self.replyText = replyText
        self.source = source
    }

    /// Whether it applies at `now`: not lifted, and its date (if any) not reached, unless the
    /// promise it stands for was kept.
    public func inForce(at now: Date) -> Bool {
        guard liftedAt == nil else { return false }
        if keptBy != nil { return true }
        return until.map { now < $0 } ?? true
    }

    /// Lifting it, as every lifter records it: the hold lifted, its row written only at the version
    /// read, and a `hold_changed` event (reason `lifted`) saying `detail`, with the hold's id in `data`.
    public func lifted(at now: Date, by: String, note: String, version: Int, detail: String, channel: Channel? = nil,
                       data: [String: JSONValue] = [:]) -> (hold: Hold, write: StateWrite, event: ContactEvent) {
        var hold = self
        hold.liftedAt = now
        hold.liftedBy = by
        hold.liftNote = note
        let event = ContactEvent(jobID: nil, contactID: contactID, kind: .holdChanged, at: now, channel: channel, reason: Reason.lifted.rawValue,
                                 detail: detail, address: address, data: JSONValue.object(data.merging(["hold": .string(id)]) { _, id in id }).serialized,
                                 debtID: debtID)
        return (hold, StateWrite(.hold(hold, at: now), expect: .version(version)), event)
    }

    /// "paused by dispute (debt LN-77), escalation E-1a2b3c, since 2026-12-01T15:00:00Z: replied \"esa deuda no es mía\""
    public var sentence: String {
        let what = switch kind {
        case .block: "\(address ?? "address") blocked by \(intent)"
        case .optOut: "\(address ?? "address") opted out for every contact at it"
        case .pause: "paused by \(intent)"
        }
        let scopeNote = switch scope {
        case .contact: " (contact \(contactID ?? "?"))"
        case .debt: " (debt \(debtID ?? "?"))"
        case .address: ""
        }
        var text = "\(what)\(scopeNote)" + (escalationID.map { ", escalation \($0)" } ?? "") + ", since \(formatTimestamp(since))"
        if let keptBy { text += ", promise kept (\(keptBy)): until a person lifts it" } else if let until { text += ", until \(formatTimestamp(until))" } else if kind == .optOut { text += ", until an opt-in from it (UNSTOP, START)" } else { text += ", until a person resolves it" }
        return text + ": replied \"\(replyText.prefix(80))\""
    }
}

/// A reply a person must look at: who wrote, what it said, what the gateway did, and by when.
public struct Escalation: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Equatable, Codable { case open, resolved }

    public var id: String
    public var contactID: String?
    public var debtID: String?
    public var intents: [String]
    public var replyText: String
    public var channel: Channel
    public var address: String
    public var receivedAt: Date
    public var priority: String
    public var dueBy: Date
    public var label: String
    public var score: Double
    /// The holds this reply set (lifted when the resolution says so).
    public var holds: [String]
    public var source: String
    public var status: Status
    public var resolvedAt: Date?
    public var resolvedBy: String?
    public var resolutionNote: String?
    public var liftedHolds: Bool?

    public init(id: String, contactID: String?, debtID: String?, intents: [String], replyText: String, channel: Channel, address: String,
                receivedAt: Date, priority: String, dueBy: Date, label: String, score: Double, holds: [String], source: String) {
        self.id = id
        self.contactID = contactID
        self.debtID = debtID
        self.intents = intents
        self.replyText = replyText
        self.channel = channel
        self.address = address
        self.receivedAt = receivedAt
        self.priority = priority
        self.dueBy = dueBy
        self.label = label
        self.score = score
        self.holds = holds
        self.source = source
        self.status = .open
    }
}

extension Escalation {
    /// Its fields as GET /escalations, the escalation stream and `gateway escalations --format json` name them.
    public var json: JSONValue {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        return .object([
            "id": .string(id), "contact": text(contactID), "debt": text(debtID),
            "intents": .array(intents.map(JSONValue.string)), "reply_text": .string(replyText),
            "channel": .string(channel.rawValue), "address": .string(address),
            "received_at": .string(formatTimestamp(receivedAt)), "priority": .string(priority),
            "due_by": .string(formatTimestamp(dueBy)), "label": .string(label), "score": .number(score),
            "holds": .array(holds.map(JSONValue.string)), "status": .string(status.rawValue),
            "resolved_at": resolvedAt.map { .string(formatTimestamp($0)) } ?? .null, "resolved_by": text(resolvedBy),
            "resolution_note": text(resolutionNote), "lifted_holds": liftedHolds.map(JSONValue.bool) ?? .null,
        ])
    }
}

/// The mood of a contact's latest reply, for the tone of the next message.
public struct ReplyMood: Sendable, Equatable, Codable {
    public var label: String
    public var score: Double
    public var at: Date
    public var intents: [String]
    public var source: String

    public init(label: String, score: Double, at: Date, intents: [String], source: String) {
        self.label = label
        self.score = score
        self.at = at
        self.intents = intents
        self.source = source
    }
}

/// A message the gateway itself sends in answer to a reply (the opt-out confirmation, the help
/// text): the only job allowed past an opt-out and outside hours, and only with this record.
public struct ReplyAnswer: Sendable, Equatable, Codable {
    public var jobID: String
    public var intent: String
    public var template: String
    public var channel: Channel
    public var address: String
    public var contactID: String
    public var locale: String
    public var source: String
    public var at: Date

    public init(jobID: String, intent: String, template: String, channel: Channel, address: String, contactID: String, locale: String, source: String, at: Date) {
        self.jobID = jobID
        self.intent = intent
        self.template = template
        self.channel = channel
        self.address = address
        self.contactID = contactID
        self.locale = locale
        self.source = source
        self.at = at
    }

    /// An answer not sent within this long is not sent at all (it ends `expired`): the FCC asks for
    /// the opt-out confirmation within five minutes, and a day-old one would only confuse.
    public static let validFor: TimeInterval = 3600

    /// The job the gateway enqueues for it (the job contract, category `reply`).
    public var jobJSON: String {
        var contact: [String: JSONValue] = ["id": .string(contactID), "locale": .string(locale)]
        contact[channel == .email ? "email" : "phone"] = .string(address)
        return JSONValue.object([
            "id": .string(jobID), "template": .string(template), "channels": .array([.string(channel.rawValue)]),
            "contact": .object(contact), "category": .string(Category.reply.rawValue),
            "data": .object(["reply_intent": .string(intent), "reply_received_at": .string(formatTimestamp(at))]),
            "expires_at": .string(formatTimestamp(at.addingTimeInterval(Self.validFor))),
        ]).serialized
    }
}

/// How contact state is kept: one row per hold, escalation, mood and answer, with the columns the
/// worker looks them up by. Both contact-log stores keep these rows beside the log (every change is
/// also an event in it).
public struct StateRecord: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case hold
        case escalation
        case mood
        case answer
    }

    public var key: String
    public var kind: Kind
    public var contactID: String?
    public var debtID: String?
    public var address: String?
    /// Where it came from ("twilio:SM123"), to find what a reply did when its webhook comes again.
    public var source: String?
    /// In force (an open escalation, a hold not lifted): the worker's lookups read only these.
    public var active: Bool
    /// Bumped by every write: a write names the version it read, so two people resolving one
    /// escalation cannot both win.
    public var version: Int
    /// The Codable value (Hold, Escalation, ReplyMood, ReplyAnswer) as JSON.
    public var value: String
    public var updatedAt: Date

    public init(key: String, kind: Kind, contactID: String?, debtID: String?, address: String?, source: String?, active: Bool,
                version: Int = 1, value: String, updatedAt: Date) {
        self.key = key
        self.kind = kind
        self.contactID = contactID
        self.debtID = debtID
        self.address = address
        self.source = source
        self.active = active
        self.version = version
        self.value = value
        self.updatedAt = updatedAt
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(formatTimestamp(date))
        }
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseTimestamp(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a timestamp: \(text)")
            }
            return date
        }
        return decoder
    }()

    public static func hold(_ hold: Hold, at: Date) -> StateRecord {
        StateRecord(key: "hold:\(hold.id)", kind: .hold, contactID: hold.contactID, debtID: hold.debtID, address: hold.address,
                    source: hold.source, active: hold.liftedAt == nil, value: encode(hold), updatedAt: at)
    }

    public static func escalation(_ escalation: Escalation, at: Date) -> StateRecord {
        StateRecord(key: "escalation:\(escalation.id)", kind: .escalation, contactID: escalation.contactID, debtID: escalation.debtID,
                    address: escalation.address, source: escalation.source, active: escalation.status == .open, value: encode(escalation), updatedAt: at)
    }

    public static func mood(_ mood: ReplyMood, contactID: String) -> StateRecord {
        StateRecord(key: "mood:\(contactID)", kind: .mood, contactID: contactID, debtID: nil, address: nil, source: mood.source,
                    active: true, value: encode(mood), updatedAt: mood.at)
    }

    public static func answer(_ answer: ReplyAnswer) -> StateRecord {
        StateRecord(key: "answer:\(answer.jobID)", kind: .answer, contactID: answer.contactID, debtID: nil, address: answer.address,
                    source: answer.source, active: true, value: encode(answer), updatedAt: answer.at)
    }

    static func encode<T: Encodable>(_ value: T) -> String {
        // Encoding these plain structs cannot fail.
        String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }

    public func decoded<T: Decodable>(_ type: T.Type) -> T? {
        try? Self.decoder.decode(type, from: Data(value.utf8))
    }

    public var hold: Hold? { kind == .hold ? decoded(Hold.self) : nil }
    public var escalation: Escalation? { kind == .escalation ? decoded(Escalation.self) : nil }
    public var mood: ReplyMood? { kind == .mood ? decoded(ReplyMood.self) : nil }
    public var answer: ReplyAnswer? { kind == .answer ? decoded(ReplyAnswer.self) : nil }
}

/// Which state rows to read: of these kinds, and (when any list is given) about any of these
/// contacts, debts, addresses, keys or sources.
public struct StateQuery: Sendable, Equatable {
    public var kinds: [StateRecord.Kind]
    public var contactIDs: [String]?
    public var debtIDs: [String]?
    public var addresses: [String]?
    public var keys: [String]?
    public var sources: [String]?
    public var activeOnly: Bool

    public init(kinds: [StateRecord.Kind], contactIDs: [String]? = nil, debtIDs: [String]? = nil, addresses: [String]? = nil,
                keys: [String]? = nil, sources: [String]? = nil, activeOnly: Bool = false) {
        self.kinds = kinds
        self.contactIDs = contactIDs
        self.debtIDs = debtIDs
        self.addresses = addresses
        self.keys = keys
        self.sources = sources
        self.activeOnly = activeOnly
    }

    /// The same rows read as several queries of at most `size` listed values each (a batch of 10,000
    /// jobs lists more values than SQLite and PostgreSQL take in one statement: 32,766 and 65,535).
    /// The stores merge the answers by key.
    public func chunked(_ size: Int = 8000) -> [StateQuery] {
        let lists: [WritableKeyPath<StateQuery, [String]?>] = [\.contactIDs, \.debtIDs, \.addresses, \.keys, \.sources]
        guard lists.reduce(0, { $0 + (self[keyPath: $1]?.count ?? 0) }) > size else { return [self] }
        var parts: [StateQuery] = []
        for list in lists {
            guard let values = self[keyPath: list], !values.isEmpty else { continue }
            for start in stride(from: 0, to: values.count, by: size) {
                var part = StateQuery(kinds: kinds, activeOnly: activeOnly)
                part[keyPath: list] = Array(values[start..<min(start + size, values.count)])
                parts.append(part)
            }
        }
        return parts
    }

    /// The WHERE clause over `contact_state` and its arguments (`?` placeholders), shared by the SQL stores.
    public func sqlConditions() -> (clause: String, arguments: [String]) {
        var clauses = ["kind IN (\(kinds.map { "'\($0.rawValue)'" }.joined(separator: ",")))"]
        var arguments: [String] = []
        if activeOnly { clauses.append("active = 1") }
        var any: [String] = []
        for (column, values) in [("contact_id", contactIDs), ("debt_id", debtIDs), ("address", addresses), ("key", keys), ("source", sources)] {
            guard let values else { continue }
            if values.isEmpty { continue }
            any.append("\(column) IN (\(Array(repeating: "?", count: values.count).joined(separator: ",")))")
            arguments += values
        }
        let asked = [contactIDs, debtIDs, addresses, keys, sources].contains { $0 != nil }
        if asked { clauses.append(any.isEmpty ? "0 = 1" : "(" + any.joined(separator: " OR ") + ")") }
        return (clauses.joined(separator: " AND "), arguments)
    }
}

/// The holds, moods and answers that matter for a batch of jobs, read in one query.
public struct ContactStateSnapshot: Sendable, Equatable {
    public var holds: [Hold]
    public var moods: [String: ReplyMood]
    public var answers: [String: ReplyAnswer]
    /// The version each hold was read at (by hold id), for a write that changes one.
    public var holdVersions: [String: Int] = [:]

    public init(holds: [Hold] = [], moods: [String: ReplyMood] = [:], answers: [String: ReplyAnswer] = [:]) {
        self.holds = holds
        self.moods = moods
        self.answers = answers
    }

    public init(records: [StateRecord]) {
        self.init()
        for record in records {
            switch record.kind {
            case .hold:
                if let hold = record.hold {
                    holds.append(hold)
                    holdVersions[hold.id] = record.version
                }
            case .mood: if let mood = record.mood, let contact = record.contactID { moods[contact] = mood }
            case .answer: if let answer = record.answer { answers[answer.jobID] = answer }
            case .escalation: break
            }
        }
    }

    /// The pause in force over a collection job for this contact and debt, if any (the oldest).
    public func pause(contactID: String, debtID: String?, at now: Date) -> Hold? {
        holds.filter { hold in
            hold.kind == .pause && hold.inForce(at: now)
                && ((hold.scope == .contact && hold.contactID == contactID) || (hold.scope == .debt && debtID != nil && hold.debtID == debtID))
        }.min { $0.since < $1.since }
    }

    /// The block in force on this address, if any.
    public func block(address: String?, at now: Date) -> Hold? {
        guard let address else { return nil }
        return holds.first { $0.kind == .block && $0.inForce(at: now) && $0.address == address }
    }

    /// The opt-out a reply from this address set for every contact at it, if in force.
    public func addressOptOut(address: String?, at now: Date) -> Hold? {
        guard let address else { return nil }
        return holds.first { $0.kind == .optOut && $0.inForce(at: now) && $0.address == address }
    }
}
