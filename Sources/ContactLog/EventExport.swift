import Foundation
import GatewayCore

/// The contact log's export formats, shared by `gateway log` and the HTTP API: JSON Lines (every
/// field, exactly as stored) and CSV (RFC 4180, for spreadsheets). Values are written whole,
/// NUL bytes included (JSON escapes them as \u0000).
public enum EventExport {
    public static let fields = ["seq", "at", "kind", "job_id", "contact_id", "debt_id", "segment", "attempt", "channel", "template",
                                "variant", "tone", "provider", "provider_message_id", "reason", "detail", "body", "address",
                                "stream_id", "data", "job"]

    static func values(_ stored: StoredEvent) -> [ChainValue?] {
        let e = stored.event
        func text(_ value: String?) -> ChainValue? { value.map(ChainValue.text) }
        return [.text(String(stored.sequence)), .text(formatTimestamp(e.at)), .text(e.kind.rawValue), text(e.jobID), text(e.contactID),
                text(e.debtID), text(e.segment), .text(String(e.attempt)), text(e.channel?.rawValue), text(e.template), text(e.variant),
                text(e.tone), text(e.provider), text(e.providerMessageID), text(e.reason), text(e.detail), text(e.body), text(e.address),
                text(e.streamID), e.rawData.map(ChainValue.bytes), e.job.map(ChainValue.bytes)]
    }

    /// Every field as stored. `data` or `job` that is not UTF-8 (a job that arrived in another
    /// encoding) cannot be a JSON string: it is given as `data_base64` or `job_base64`, its exact
    /// bytes in base64, instead.
    public static func jsonObject(_ stored: StoredEvent) -> JSONValue {
        var object: [String: JSONValue] = [:]
        for (field, value) in zip(fields, values(stored)) {
            guard let value else { continue }
            switch (field, value) {
            case ("seq", _): object[field] = .number(Double(stored.sequence))
            case ("attempt", _): object[field] = .number(Double(stored.event.attempt))
            case (_, .text(let text)): object[field] = .string(text)
            case (_, .bytes(let bytes)):
                if let text = String(validating: bytes, as: UTF8.self) {
                    object[field] = .string(text)
                } else {
                    object[field + "_base64"] = .string(Data(bytes).base64EncodedString())
                }
            }
        }
        return .object(object)
    }

    public static func jsonLine(_ stored: StoredEvent) -> String {
        jsonObject(stored).serialized
    }

    public static var csvHeader: String { fields.joined(separator: ",") + "\r\n" }

    /// One CSV record, as bytes: a value is written as stored, byte for byte (a job that is not
    /// UTF-8 stays as it came).
    public static func csvRow(_ stored: StoredEvent) -> [UInt8] {
        var out: [UInt8] = []
        for (index, value) in values(stored).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            if let value { value.withBytes { csvField($0, into: &out) } }
        }
        out += [0x0D, 0x0A]
        return out
    }

    /// One CSV record of these values (nil: an empty field), guarded and quoted as the log's rows
    /// are: for other exports of the log (the console's reports).
    public static func csvRecord(_ values: [String?]) -> [UInt8] {
        var out: [UInt8] = []
        for (index, value) in values.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            if var value { value.withUTF8 { csvField($0, into: &out) } }
        }
        out += [0x0D, 0x0A]
        return out
    }

    /// Quoted when it holds a comma, quote or line break (quotes doubled). A value a spreadsheet
    /// would run as a formula (starting with = + - @, tab or CR) is prefixed with an apostrophe;
    /// JSON Lines keeps the exact text.
    static let formulaStarts: Set<UInt8> = Set("=+-@\t\r".utf8)
    static let needsQuotes: Set<UInt8> = Set(",\"\n\r".utf8)

    static func csvField(_ value: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        let formula = value.first.map(formulaStarts.contains) ?? false
        let quoted = value.contains(where: needsQuotes.contains)
        if quoted { out.append(UInt8(ascii: "\"")) }
        if formula { out.append(UInt8(ascii: "'")) }
        for byte in value {
            out.append(byte)
            if byte == UInt8(ascii: "\"") { out.append(byte) }
        }
        if quoted { out.append(UInt8(ascii: "\"")) }
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
