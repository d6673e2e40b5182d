import ContactLog
import Foundation
import GatewayCore
import Hummingbird
import NIOCore

/// Compliance's view of the contact log: GET /log, /contacts/{id}/timeline, /log/export.csv and
/// /reports/summary. Every read is itself appended to the log (`log_read`: who, which query, rows).
public enum LogAPI {
    static let filterParameters: Set<String> = ["contact", "job", "debt", "address", "channel", "outcome", "template", "from", "to"]
    static let pageParameters: Set<String> = ["limit", "cursor"]

    /// The filter a query asks for, or a 400 that says what to fix.
    static func filter(_ request: Request, allowed: Set<String>, contact: String? = nil) throws(APIError) -> EventFilter {
        let query = request.uri.queryParameters
        for (key, _) in query where !allowed.contains(String(key)) {
            throw APIError.badRequest("unknown parameter \"\(key)\"; known: \(allowed.sorted().joined(separator: ", "))")
        }
        func one(_ name: String) throws(APIError) -> String? {
            let values = query.getAll(name)
            guard values.count <= 1 else { throw APIError.badRequest("\(name) may be given once") }
            guard let value = values.first else { return nil }
            guard !value.isEmpty else { throw APIError.badRequest("\(name) is empty") }
            guard value.count <= 200 else { throw APIError.badRequest("\(name) is longer than 200 characters") }
            return String(value)
        }
        var filter = EventFilter(contactID: contact, jobID: try one("job"), debtID: try one("debt"), template: try one("template"))
        if contact == nil { filter.contactID = try one("contact") }
        if allowed.contains("address") { filter.address = try one("address") }
        if let channel = try one("channel") {
            guard let parsed = Channel(rawValue: channel) else { throw APIError.badRequest("channel must be sms, email or push, not \"\(channel)\"") }
            filter.channel = parsed
        }
        let outcomes = query.getAll("outcome").flatMap { $0.split(separator: ",") }.map(String.init)
        if !outcomes.isEmpty {
            var kinds: [EventKind] = []
            for name in outcomes {
                guard let kind = EventKind(rawValue: name) else {
                    throw APIError.badRequest("outcome \"\(name)\" is not an event kind; known: \(EventKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                kinds.append(kind)
            }
            filter.kinds = kinds
        }
        filter.from = try one("from").map { text throws(APIError) in try instant(text, name: "from") }
        filter.to = try one("to").map { text throws(APIError) in try instant(text, name: "to") }
        if let from = filter.from, let to = filter.to, from >= to { throw APIError.badRequest("from must be before to") }
        if let limit = try one("limit") {
            guard let number = Int(limit), (1...1000).contains(number) else { throw APIError.badRequest("limit must be a whole number from 1 to 1000, not \"\(limit)\"") }
            filter.limit = number
        } else {
            filter.limit = 100
        }
        if let cursor = try one("cursor") {
            guard let (after, through) = Cursor.parse(cursor) else {
                throw APIError.badRequest("cursor must be the next_cursor of a previous page, not \"\(cursor)\"")
            }
            filter.afterSeq = after
            filter.throughSeq = through
        }
        return filter
    }

    /// `next_cursor`: where the page ended and where the reader's snapshot ends (the last event of
    /// the log when the first page was read), as `<after>-<through>`. Clients pass it back as it
    /// is. Every read appends a `log_read` event, and workers keep appending: without the snapshot's
    /// end, a selection those events match (a timeline, the whole log) would never run out of pages.
    /// A changed cursor can only move within what the caller's filters already let it read.
    enum Cursor {
        static func make(after: Int64, through: Int64) -> String { "\(after)-\(through)" }

        /// Nil for anything that is not a cursor. A bare number (what cursors were before the
        /// snapshot) is still taken: its snapshot starts at this page.
        static func parse(_ text: String) -> (after: Int64, through: Int64?)? {
            func number(_ part: Substring) -> Int64? {
                guard !part.isEmpty, part.utf8.count <= 19, part.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
                return Int64(part)
            }
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            switch parts.count {
            case 1:
                return number(parts[0]).map { ($0, nil) }
            case 2:
                guard let after = number(parts[0]), let through = number(parts[1]), after <= through else { return nil }
                return (after, through)
            default:
                return nil
            }
        }
    }

    /// A day (2026-11-01, midnight UTC) or an ISO 8601 instant.
    static func instant(_ text: String, name: String) throws(APIError) -> Date {
        if let date = parseDayOrInstant(text) { return date }
        throw APIError.badRequest("\(name) must be a day like 2026-11-01 or an instant like 2026-11-01T13:00:00Z, not \"\(text)\"")
    }

    /// Records who read what. The query is stored as the caller sent it.
    public static func recordRead(_ caller: Caller, _ request: Request, filter: EventFilter, rows: Int?, store: any LogAppender) async throws {
        var data: [String: JSONValue] = ["who": .string(caller.name), "roles": .array(caller.roles.sorted().map { .string($0.rawValue) }),
                                         "path": .string(request.uri.path), "query": .string(request.uri.query ?? "")]
        if let rows { data["rows"] = .number(Double(rows)) }
        let detail = "\(caller.description) read \(request.uri.path)" + (request.uri.query.map { "?\($0)" } ?? "") + (rows.map { ": \($0) events" } ?? ": export started")
        let event = ContactEvent(jobID: nil, contactID: filter.contactID, kind: .logRead, at: Date(), reason: "api_read", detail: detail,
                                 data: JSONValue.object(data).serialized)
        _ = try await store.append([event])
    }

    /// One page of the selection, as the log was when the first page was read. One event more than
    /// the page is asked for, so the last page says it is the last (no empty page after it).
    static func page(_ request: Request, caller: Caller, filter: EventFilter, store: any LogReader & LogAppender) async throws -> Response {
        var query = filter
        if query.throughSeq == nil { query.throughSeq = try await store.lastSequence() }
        let through = query.throughSeq ?? 0
        query.limit = filter.limit + 1
        var events = try await store.events(query)
        let more = events.count > filter.limit
        if more { events.removeLast(events.count - filter.limit) }
        try await recordRead(caller, request, filter: filter, rows: events.count, store: store)
        var body: [String: JSONValue] = ["events": .array(events.map(EventExport.jsonObject))]
        body["next_cursor"] = more ? events.last.map { .string(Cursor.make(after: $0.sequence, through: through)) } ?? .null : .null
        return JSONResponse.ok(JSONValue.object(body))
    }

    /// The whole selection as CSV, streamed a page at a time.
    static func export(_ request: Request, caller: Caller, filter: EventFilter, store: any LogReader & LogAppender) async throws -> Response {
        var filter = filter
        filter.afterSeq = nil
        try await recordRead(caller, request, filter: filter, rows: nil, store: store)
        let selection = filter
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: EventExport.csvHeader))
            var chunk: [UInt8] = []
            try await store.forEachEvent(selection) { stored in
                chunk += EventExport.csvRow(stored)
                if chunk.count >= 64 * 1024 {
                    try await writer.write(ByteBuffer(bytes: chunk))
                    chunk.removeAll(keepingCapacity: true)
                }
                return true
            }
            if !chunk.isEmpty { try await writer.write(ByteBuffer(bytes: chunk)) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8",
                                               .contentDisposition: "attachment; filename=\"contact-log.csv\""], body: body)
    }

    static func summary(_ request: Request, caller: Caller, store: any LogReader & LogAppender) async throws -> Response {
        let query = request.uri.queryParameters
        for (key, _) in query where !["from", "to"].contains(String(key)) {
            throw APIError.badRequest("unknown parameter \"\(key)\"; known: from, to")
        }
        let to = try query.get("from") == nil && query.get("to") == nil ? Date() : instant(String(query.get("to") ?? ""), name: "to")
        let from = try query.get("from").map { text throws(APIError) in try instant(String(text), name: "from") } ?? to.addingTimeInterval(-30 * 86_400)
        guard from < to else { throw APIError.badRequest("from must be before to") }
        guard to.timeIntervalSince(from) <= 400 * 86_400 else { throw APIError.badRequest("a summary covers at most 400 days; narrow from and to") }
        let summary = try await store.summary(from: from, to: to)
        let replies = try await store.replySummary(from: from, to: to)
        try await recordRead(caller, request, filter: EventFilter(), rows: summary.rows.count, store: store)
        let rows: [JSONValue] = summary.rows.map { row in
            var object: [String: JSONValue] = ["day": .string(row.day), "outcome": .string(row.outcome), "count": .number(Double(row.count))]
            if let channel = row.channel { object["channel"] = .string(channel) }
            if let segment = row.segment { object["segment"] = .string(segment) }
            if let tone = row.tone { object["tone"] = .string(tone) }
            if let reason = row.reason { object["reason"] = .string(reason) }
            return .object(object)
        }
        let providers: [JSONValue] = summary.providers.map { provider in
            .object(["provider": .string(provider.provider), "sent": .number(Double(provider.sent)),
                     "delivered": .number(Double(provider.delivered)),
                     "delivery_rate": .number((provider.deliveryRate * 10_000).rounded() / 10_000)])
        }
        return JSONResponse.ok(JSONValue.object(["from": .string(formatTimestamp(from)), "to": .string(formatTimestamp(to)),
                                                 "rows": .array(rows), "providers": .array(providers),
                                                 "replies": replies.repliesJSON, "escalations": replies.escalationsJSON]))
    }
}
