import Foundation
import GatewayCore
import Logging

/// The gateway's log lines: one event per line, as JSON for log collectors or as text for people,
/// with phone numbers, e-mail addresses, credentials and message bodies masked (`LogMasking`) in
/// the message and in every metadata value, whoever logged them.
///
/// JSON keys, in this order: `ts` (RFC 3339, UTC, milliseconds), `level`, `label`, `message`, then
/// the metadata keys in alphabetical order (a metadata key that collides with one of the first four
/// is written as `meta.<key>`). Text: `ts level label: message key=value ...`.
public struct GatewayLogHandler: LogHandler {
    public enum Format: String, Sendable, CaseIterable {
        case json, text

        /// JSON unless standard error is a terminal (a person is reading).
        public static var automatic: Format { isatty(STDERR_FILENO) != 0 ? .text : .json }
    }

    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public let label: String
    public let format: Format
    private let sink: LogSink

    public init(label: String, format: Format, level: Logger.Level = .info, sink: LogSink = .standardError,
                metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.sink = sink
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let given = event.metadata { all.merge(given) { $1 } }
        if let error = event.error, all["error"] == nil { all["error"] = "\(error)" }
        sink.write(line(at: Date(), level: event.level, message: event.message.description, metadata: all))
    }

    /// The line for one event (without its newline).
    func line(at date: Date, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        let ts = Self.timestamp(date)
        let message = LogMasking.mask(message)
        let keys = metadata.keys.sorted()
        switch format {
        case .json:
            var out = "{\"ts\":\(JSONValue.string(ts).serialized),\"level\":\(JSONValue.string(level.rawValue).serialized)"
            out += ",\"label\":\(JSONValue.string(label).serialized),\"message\":\(JSONValue.string(message).serialized)"
            for key in keys {
                let name = ["ts", "level", "label", "message"].contains(key) ? "meta.\(key)" : key
                out += ",\(JSONValue.string(name).serialized):\(Self.json(metadata[key]!, key: key).serialized)"
            }
            return out + "}"
        case .text:
            var out = "\(ts) \(level.rawValue) \(label): \(Self.oneLine(message))"
            for key in keys { out += " \(key)=\(Self.textValue(metadata[key]!, key: key))" }
            return out
        }
    }

    static func json(_ value: Logger.MetadataValue, key: String) -> JSONValue {
        switch value {
        case .string(let text): return .string(LogMasking.value(forKey: key, text))
        case .stringConvertible(let item): return .string(LogMasking.value(forKey: key, item.description))
        case .array(let items): return .array(items.map { json($0, key: key) })
        case .dictionary(let members):
            return .object(Dictionary(uniqueKeysWithValues: members.map { ($0.key, json($0.value, key: $0.key)) }))
        }
    }

    static func textValue(_ value: Logger.MetadataValue, key: String) -> String {
        switch value {
        case .string, .stringConvertible:
            let text = oneLine(LogMasking.value(forKey: key, value.description))
            let plain = !text.isEmpty && !text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" })
            return plain ? text : JSONValue.string(text).serialized
        case .array, .dictionary:
            return json(value, key: key).serialized
        }
    }

    /// Newlines would split one event over several lines: shown as \n.
    static func oneLine(_ text: String) -> String {
        text.contains(where: \.isNewline) ? text.replacingOccurrences(of: "\r\n", with: "\\n").replacingOccurrences(of: "\n", with: "\\n")
            .replacingOccurrences(of: "\r", with: "\\n") : text
    }

    /// `2026-12-01T03:10:00.123Z`, as the contact log writes times.
    static func timestamp(_ date: Date) -> String { formatTimestamp(date) }

    /// Sets up swift-log for the process: every logger made after this writes through a
    /// `GatewayLogHandler` with `format` and `level`. Only `main` calls it, once.
    public static func bootstrap(format: Format, level: Logger.Level) {
        LoggingSystem.bootstrap { label in GatewayLogHandler(label: label, format: format, level: level) }
    }
}

/// Where log lines go: standard error, or (tests) a function that receives each line.
public struct LogSink: Sendable {
    private let write: @Sendable (String) -> Void

    public init(_ write: @escaping @Sendable (String) -> Void) { self.write = write }

    func write(_ line: String) { write(line) }

    /// One `write(2)` per line under a lock, so lines from several threads never interleave.
    public static let standardError = LogSink { line in
        standardErrorLock.withLock {
            var bytes = Array(line.utf8)
            bytes.append(UInt8(ascii: "\n"))
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Foundation.write(STDERR_FILENO, $0.baseAddress, $0.count) }
                if written > 0 { offset += written } else if written < 0 && errno == EINTR { continue } else { break }
            }
        }
    }
}

private let standardErrorLock = NSLock()
