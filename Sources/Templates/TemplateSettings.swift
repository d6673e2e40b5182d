import Foundation
import GatewayCore
import YAMLMessages
import Yams

/// Per-template settings, from `templates/<template>/template.yml` (all optional).
public struct TemplateSettings: Sendable, Equatable {
    public enum SMSEncodingMode: String, Sendable {
        /// Send as written: any accent turns the message into UCS-2 (70 characters a segment).
        case unicode
        /// Replace characters outside GSM-7 with their nearest GSM-7 ones (á → a) to stay at 160 a segment.
        case gsm7Transliterate = "gsm7-transliterate"
    }

    public var description: String?
    /// `collection` follows every contact rule; `transactional` (payment received) skips frequency caps.
    public var category: Category = .collection
    public var smsEncoding: SMSEncodingMode = .unicode
    /// Longest SMS allowed, in segments; a longer rendering is refused rather than sent at extra cost.
    public var maxSegments: Int?
    /// The tones this template is written in; other tones fall back to neutral without a lint error.
    public var tones: [String]?

    public init() {}

    /// - Parameter data: the file's bytes; nil when the template has no template.yml.
    static func load(_ data: Data?, relative: String) throws(TemplateLoadError) -> TemplateSettings {
        var settings = TemplateSettings()
        guard let data else { return settings }
        let mapping: [String: Node]
        do {
            mapping = try YAMLFile.mapping(data: data)
        } catch {
            throw TemplateLoadError(file: relative, message: error.message)
        }
        for (key, value) in mapping {
            switch key {
            case "description":
                settings.description = value.string
            case "category":
                guard let text = value.string, let category = Category(rawValue: text) else {
                    throw TemplateLoadError(file: relative, message: "category must be collection, transactional or reply (the gateway's own answers to replies)")
                }
                settings.category = category
            case "sms_encoding":
                guard let text = value.string, let mode = SMSEncodingMode(rawValue: text) else {
                    throw TemplateLoadError(file: relative, message: "sms_encoding must be unicode or gsm7-transliterate")
                }
                settings.smsEncoding = mode
            case "max_segments":
                guard let number = value.int, (1...10).contains(number) else {
                    throw TemplateLoadError(file: relative, message: "max_segments must be a whole number from 1 to 10")
                }
                settings.maxSegments = number
            case "tones":
                guard let list = value.sequence?.compactMap(\.string), list.count == value.sequence?.count, !list.isEmpty else {
                    throw TemplateLoadError(file: relative, message: "tones must be a list of tone names, like [neutral, empathetic]")
                }
                settings.tones = list
            default:
                throw TemplateLoadError(file: relative, message: "unknown key \"\(key)\" (known: description, category, sms_encoding, max_segments, tones)")
            }
        }
        return settings
    }
}

/// Small YAML reading helpers with errors that say what to fix.
enum YAMLFile {
    struct Problem: Error {
        var message: String
    }

    static func mapping(path: String) throws(Problem) -> [String: Node] {
        guard let data = FileManager.default.contents(atPath: path) else { throw Problem(message: "cannot read file as UTF-8 text") }
        return try mapping(data: data)
    }

    static func mapping(data: Data) throws(Problem) -> [String: Node] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw Problem(message: "cannot read file as UTF-8 text")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw Problem(message: "not valid YAML: \(YAMLMessages.describe(error))")
        }
        guard let node else { return [:] }
        guard let mapping = node.mapping else { throw Problem(message: "must be a mapping of key: value lines") }
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw Problem(message: "keys must be plain words") }
            result[name] = value
        }
        return result
    }
}
