import Foundation
import GatewayCore

/// The contact log's export formats, shared by `gateway log` and the HTTP API: JSON Lines (every
/// field, exactly as stored) and CSV (RFC 4180, for spreadsheets).
public enum EventExport {
    public static let fields = ["seq", "at", "kind", "job_id", "contact_id", "debt_id", "segment", "attempt", "channel", "template",
                                "variant", "tone", "provider", "provider_message_id", "reason", "detail", "body", "address",
                                "stream_id", "data"]

    static func values(_ stored: StoredEvent) -> [String?] {
        let e = stored.event
        return [String(stored.sequence), formatTimestamp(e.at), e.kind.rawValue, e.jobID, e.contactID, e.debtID, e.segment,
                String(e.attempt), e.channel?.rawValue, e.template, e.variant, e.tone, e.provider, e.providerMessageID,
                e.reason, e.detail, e.body, e.address, e.streamID, e.data]
    }

    public static func jsonObject(_ stored: StoredEvent) -> JSONValue {
        var object: [String: JSONValue] = [:]
        for (field, value) in zip(fields, values(stored)) {
            guard let value else { continue }
            switch field {
            case "seq", "attempt": object[field] = .number(Double(value) ?? 0)
            default: object[field] = .string(value)
            }
        }
        return .object(object)
    }

    public static func jsonLine(_ stored: StoredEvent) -> String {
        jsonObject(stored).serialized
    }

    public static var csvHeader: String { fields.joined(separator: ",") + "\r\n" }

    public static func csvRow(_ stored: StoredEvent) -> String {
        values(stored).map { csvField($0 ?? "") }.joined(separator: ",") + "\r\n"
    }

    /// Quoted when it holds a comma, quote or line break (quotes doubled). A value a spreadsheet
    /// would run as a formula (starting with = + - @, tab or CR) is prefixed with an apostrophe;
    /// JSON Lines keeps the exact text.
    static func csvField(_ value: String) -> String {
        var text = value
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Retention: which events a prune may remove.
public enum Retention {
    /// Chile requires collection records for at least two years.
    public static let minimumDays = 730

    /// The start (UTC) of the month containing `now - days`: everything before it lies in whole
    /// months that are all older than the retention period.
    public static func cutoff(now: Date, days: Int) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let limit = now.addingTimeInterval(-Double(days) * 86_400)
        let parts = calendar.dateComponents([.year, .month], from: limit)
        return calendar.date(from: parts)!
    }
}
