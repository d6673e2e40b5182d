import Foundation
import GatewayCore

/// Customers' replies and the escalations they raised over a period, for `GET /reports/summary`:
/// computed from the log's events and the escalation rows through the store protocol, so every
/// store answers the same way with no SQL of its own.
public struct ReplySummary: Sendable, Equatable {
    /// Replies of one UTC day, channel and segment.
    public struct Row: Sendable, Equatable {
        public var day: String
        public var channel: String?
        /// The segment of the latest message sent to the contact before the reply; nil when the
        /// reply matched no contact or that message had no segment.
        public var segment: String?
        public var replies: Int = 0
        /// Replies naming each intent (a reply with two intents counts in both).
        public var intents: [String: Int] = [:]
        public var labels: [String: Int] = [:]
        public var languages: [String: Int] = [:]
        /// Replies with no reading in the log (recorded before replies were classified): in
        /// `replies`, not in the labels or the average.
        public var unclassified: Int = 0
        var scoreSum: Double = 0
        var scored: Int = 0

        /// The mean of the classified replies' scores, nil when none was classified.
        public var averageScore: Double? { scored == 0 ? nil : scoreSum / Double(scored) }

        public init(day: String, channel: String?, segment: String?) {
            self.day = day
            self.channel = channel
            self.segment = segment
        }
    }

    /// Escalations, all of them (`intent` nil) or those naming one intent.
    public struct Escalations: Sendable, Equatable {
        public var intent: String?
        /// Raised in the period.
        public var opened: Int = 0
        /// Resolved in the period (whenever they were raised).
        public var resolved: Int = 0
        /// Open when the summary was computed, whatever the period: the desk's queue.
        public var openNow: Int = 0
        /// Of those, past their due time.
        public var overdueNow: Int = 0
        /// Hours from the reply to the resolution of each one resolved in the period, ascending.
        public var hoursToResolution: [Double] = []

        public var medianHoursToResolution: Double? {
            let hours = hoursToResolution
            guard !hours.isEmpty else { return nil }
            let middle = hours.count / 2
            return hours.count % 2 == 1 ? hours[middle] : (hours[middle - 1] + hours[middle]) / 2
        }

        public var maxHoursToResolution: Double? { hoursToResolution.last }

        public init(intent: String?) {
            self.intent = intent
        }
    }

    public var rows: [Row]
    public var escalations: Escalations
    public var escalationsByIntent: [Escalations]
    /// The moment `openNow` and `overdueNow` describe.
    public var asOf: Date
}

/// One row of the replies table: a UTC day, a channel, a segment.
private struct GroupKey: Hashable {
    var day: String
    var channel: String?
    var segment: String?
}

extension LogReader {
    /// Replies by day, channel and segment with their intents, labels, languages and average score,
    /// and escalations opened, resolved, open and overdue now, with the time to resolution, in all
    /// and by intent, for events at or after `from` and before `to`.
    ///
    /// Cost: one pass over the period's `inbound`, `escalation` and `escalation_resolved` events,
    /// a page at a time; for each contact that replied, one indexed read of its sent messages (for
    /// the segment; eight at a time); the period's escalation rows by key; and the open ones.
    public func replySummary(from: Date, to: Date, now: Date = Date()) async throws -> ReplySummary {
        var groups: [GroupKey: ReplySummary.Row] = [:]
        // The inbound events of one reply (one per contact it matched) are written together:
        // within a group the reply counts once.
        var lastReply: (message: String, groups: Set<GroupKey>)?
        /// Per contact, where the segment of its sent messages changed (oldest first).
        var segmentChanges: [String: [(at: Date, segment: String?)]] = [:]
        var opened: [String] = []
        var resolved: [String] = []
        var eventIntents: [String: [String]] = [:]

        var page = EventFilter(kinds: [.inbound, .escalation, .escalationResolved], from: from, to: to, limit: 1000)
        page.throughSeq = try await lastSequence()
        while true {
            let events = try await self.events(page)
            // The segments of this page's contacts not seen yet, read before the page is counted.
            let unseen = Set(events.compactMap { $0.event.kind == .inbound ? $0.event.contactID : nil }).filter { segmentChanges[$0] == nil }
            for (contact, changes) in try await self.segmentChanges(of: unseen.sorted(), before: to) { segmentChanges[contact] = changes }
            for stored in events {
                let event = stored.event
                let facts = event.rawData.flatMap { try? JSONParser.parse($0) }
                switch event.kind {
                case .inbound:
                    let segment = event.contactID.flatMap { segmentChanges[$0]?.last { $0.at <= event.at }?.segment ?? nil }
                    let key = GroupKey(day: String(formatTimestamp(event.at).prefix(10)), channel: event.channel?.rawValue, segment: segment)
                    if let provider = event.provider, let messageID = event.providerMessageID {
                        let message = "\(provider)|\(messageID)"
                        if lastReply?.message != message { lastReply = (message, []) }
                        guard lastReply?.groups.insert(key).inserted == true else { continue }
                    }
                    var row = groups[key] ?? ReplySummary.Row(day: key.day, channel: key.channel, segment: key.segment)
                    row.replies += 1
                    if case .string(let label)? = facts?["label"], case .array(let intents)? = facts?["intents"] {
                        row.labels[label, default: 0] += 1
                        for case .string(let intent) in intents { row.intents[intent, default: 0] += 1 }
                        if case .string(let language)? = facts?["language"] { row.languages[language, default: 0] += 1 }
                        if case .number(let score)? = facts?["score"], score.isFinite {
                            row.scoreSum += score
                            row.scored += 1
                        }
                    } else {
                        row.unclassified += 1
                    }
                    groups[key] = row
                case .escalation:
                    guard case .string(let id)? = facts?["escalation"] else { continue }
                    opened.append(id)
                    eventIntents[id] = (event.reason ?? "").split(separator: ",").map(String.init)
                case .escalationResolved:
                    guard case .string(let id)? = facts?["escalation"] else { continue }
                    resolved.append(id)
                default:
                    break
                }
            }
            guard events.count == page.limit, let last = events.last else { break }
            page.afterSeq = last.sequence
        }

        // The escalation rows of the period (their intents and times), by key, a few hundred a query.
        var rows: [String: Escalation] = [:]
        let ids = Array(Set(opened + resolved)).sorted()
        for start in stride(from: 0, to: ids.count, by: 500) {
            let keys = ids[start..<min(start + 500, ids.count)].map { "escalation:\($0)" }
            for record in try await states(StateQuery(kinds: [.escalation], keys: keys)) {
                if let escalation = record.escalation { rows[escalation.id] = escalation }
            }
        }
        var total = ReplySummary.Escalations(intent: nil)
        var byIntent: [String: ReplySummary.Escalations] = [:]
        func update(_ intents: [String], _ change: (inout ReplySummary.Escalations) -> Void) {
            change(&total)
            for intent in Set(intents) { change(&byIntent[intent, default: ReplySummary.Escalations(intent: intent)]) }
        }
        for id in Set(opened) { update(rows[id]?.intents ?? eventIntents[id] ?? []) { $0.opened += 1 } }
        for id in Set(resolved) {
            let row = rows[id]
            let hours = row.flatMap { escalation in escalation.resolvedAt.map { $0.timeIntervalSince(escalation.receivedAt) / 3600 } }
            update(row?.intents ?? eventIntents[id] ?? []) { counts in
                counts.resolved += 1
                if let hours { counts.hoursToResolution.append(hours) }
            }
        }
        for record in try await states(StateQuery(kinds: [.escalation], activeOnly: true)) {
            guard let escalation = record.escalation, escalation.status == .open else { continue }
            update(escalation.intents) { counts in
                counts.openNow += 1
                if now > escalation.dueBy { counts.overdueNow += 1 }
            }
        }
        total.hoursToResolution.sort()
        let intents = byIntent.keys.sorted().compactMap { intent -> ReplySummary.Escalations? in
            guard var counts = byIntent[intent] else { return nil }
            counts.hoursToResolution.sort()
            return counts
        }
        let sortedRows = groups.values.sorted { ($0.day, $0.channel ?? "", $0.segment ?? "") < ($1.day, $1.channel ?? "", $1.segment ?? "") }
        return ReplySummary(rows: sortedRows, escalations: total, escalationsByIntent: intents, asOf: now)
    }

    /// For each contact, the moments its sent messages (before `end`) changed segment, read eight
    /// contacts at a time.
    func segmentChanges(of contacts: [String], before end: Date) async throws -> [String: [(at: Date, segment: String?)]] {
        try await withThrowingTaskGroup(of: (String, [(at: Date, segment: String?)]).self) { group in
            var results: [String: [(at: Date, segment: String?)]] = [:]
            var next = contacts.makeIterator()
            func start(_ contact: String) {
                group.addTask {
                    var changes: [(at: Date, segment: String?)] = []
                    var filter = EventFilter(contactID: contact, kinds: [.sent], to: end, limit: 1000)
                    while true {
                        let sent = try await self.events(filter)
                        for message in sent where changes.isEmpty || changes[changes.count - 1].segment != message.event.segment {
                            changes.append((message.event.at, message.event.segment))
                        }
                        guard sent.count == filter.limit, let last = sent.last else { break }
                        filter.afterSeq = last.sequence
                    }
                    return (contact, changes)
                }
            }
            for _ in 0..<8 { if let contact = next.next() { start(contact) } }
            while let (contact, changes) = try await group.next() {
                results[contact] = changes
                if let contact = next.next() { start(contact) }
            }
            return results
        }
    }
}

extension ReplySummary {
    /// The `replies` array of `GET /reports/summary`: every key present, null when unknown.
    public var repliesJSON: JSONValue {
        .array(rows.map { row in
            func counts(_ values: [String: Int]) -> JSONValue { .object(values.mapValues { .number(Double($0)) }) }
            return .object([
                "day": .string(row.day), "channel": row.channel.map(JSONValue.string) ?? .null, "segment": row.segment.map(JSONValue.string) ?? .null,
                "replies": .number(Double(row.replies)), "intents": counts(row.intents), "labels": counts(row.labels),
                "languages": counts(row.languages), "unclassified": .number(Double(row.unclassified)),
                "average_score": row.averageScore.map { .number(($0 * 1000).rounded() / 1000) } ?? .null,
            ])
        })
    }

    /// The `escalations` object of `GET /reports/summary`.
    public var escalationsJSON: JSONValue {
        func fields(_ counts: Escalations) -> [String: JSONValue] {
            func hours(_ value: Double?) -> JSONValue { value.map { .number(($0 * 100).rounded() / 100) } ?? .null }
            return ["opened": .number(Double(counts.opened)), "resolved": .number(Double(counts.resolved)),
                    "open_now": .number(Double(counts.openNow)), "overdue_now": .number(Double(counts.overdueNow)),
                    "median_hours_to_resolution": hours(counts.medianHoursToResolution), "max_hours_to_resolution": hours(counts.maxHoursToResolution)]
        }
        var object = fields(escalations)
        object["as_of"] = .string(formatTimestamp(asOf))
        object["by_intent"] = .array(escalationsByIntent.map { counts in
            var item = fields(counts)
            item["intent"] = .string(counts.intent ?? "")
            return .object(item)
        })
        return .object(object)
    }
}
