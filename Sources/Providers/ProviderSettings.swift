import Foundation
import GatewayCore

/// The settings of one `providers/<name>.yml` file, as flat keys with `${ENV}` references already
/// expanded. Each provider type's `Configuration.init(settings:)` takes the keys it knows; a key no
/// one took is then reported by `finish(type:)`, so a misspelt setting is an error, never ignored.
/// Errors name the file and the key, and say what to write instead.
public final class ProviderSettings {
    /// The provider's name: the file name without `.yml`.
    public let name: String
    /// The file, for messages.
    public let file: String
    /// Where the sandbox provider writes when its file names no outbox.
    public let defaultOutbox: String
    private var values: [String: String]

    public init(name: String, file: String, values: [String: String], defaultOutbox: String = "var/outbox.jsonl") {
        self.name = name
        self.file = file
        self.values = values
        self.defaultOutbox = defaultOutbox
    }

    /// An error about this file.
    public func error(_ message: String) -> ConfigurationError { ConfigurationError("\(file): \(message)") }

    /// The value of an optional key, taken: it will not be reported as unknown.
    public func take(_ key: String) -> String? { values.removeValue(forKey: key) }

    /// The value of a key that must be present and not empty.
    public func required(_ key: String) throws -> String {
        guard let value = take(key), !value.isEmpty else { throw error("\(key) is required") }
        return value
    }

    /// `timeout_seconds`: how long one request may take, 0 to 120 seconds.
    public func timeout(default fallback: Double = 10) throws -> Double {
        let text = take("timeout_seconds") ?? Self.plain(fallback)
        guard let timeout = Double(text), timeout > 0, timeout <= 120 else {
            throw error("timeout_seconds must be a number from 0 to 120, got \"\(text)\"")
        }
        return timeout
    }

    /// `base_url`: the vendor's API, or a local fake over http://.
    public func baseURL(default fallback: String) throws -> String {
        let url = take("base_url") ?? fallback
        guard Self.isHTTP(url) else {
            throw error("base_url must start with https:// (or http:// for a local fake), got \"\(LogMasking.url(url))\"")
        }
        return url
    }

    /// A `true` / `false` key.
    public func flag(_ key: String, default fallback: Bool) throws -> Bool {
        guard let text = take(key) else { return fallback }
        guard text == "true" || text == "false" else { throw error("\(key) must be true or false") }
        return text == "true"
    }

    /// A key naming a file that must exist (a CA bundle).
    public func existingFile(_ key: String) throws -> String? {
        guard let path = take(key) else { return nil }
        guard FileManager.default.fileExists(atPath: path) else { throw error("\(key) \(path) does not exist") }
        return path
    }

    /// A key naming a file whose contents are needed (a key, a service account).
    public func contents(ofFile key: String) throws -> (path: String, data: Data) {
        let path = try required(key)
        guard let data = FileManager.default.contents(atPath: path) else { throw error("\(key) \(path) cannot be read") }
        return (path, data)
    }

    /// A secret shared with the vendor (a webhook token): at least 16 characters.
    public func secret(_ key: String, purpose: String = "") throws -> String? {
        guard let value = take(key) else { return nil }
        guard value.utf8.count >= 16 else { throw error("\(key) must be at least 16 characters (use ${ENV_VAR})\(purpose)") }
        return value
    }

    /// After the type took its keys: `channels` is fixed by every type but the webhook's, and any
    /// other key left is unknown.
    public func finish(type: String) throws {
        if let channels = take("channels") {
            throw error("channels is fixed by the provider type; remove \"channels: \(channels)\"")
        }
        if let unknown = values.keys.sorted().first {
            throw error("unknown key \"\(unknown)\" for a \(type) provider")
        }
    }

    public static func isHTTP(_ url: String) -> Bool { url.hasPrefix("https://") || url.hasPrefix("http://") }

    /// 10 for 10.0, as a YAML author would write it.
    static func plain(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(value) }
}

/// A provider type that a `providers/*.yml` file can name.
public protocol ConfigurableProvider: MessageProvider {
    /// Builds the provider from its file, taking the keys its type knows.
    static func configured(_ settings: ProviderSettings, client: CurlHTTPClient) throws -> ConfiguredProvider
}

/// A webhook a configured provider asks the gateway to receive, with what checks its requests.
public enum ProviderWebhook: Sendable {
    /// Twilio's delivery reports (status callbacks), signed with the auth token.
    case twilioStatus(TwilioReceipts)
    /// Twilio's incoming-message webhook, signed with the auth token.
    case twilioInbound(TwilioReceipts)
    /// Infobip's delivery reports, carrying the report token.
    case infobipReports(InfobipReports)
    /// SendGrid's Event Webhook, ECDSA-signed.
    case sendGridEvents(SendGridEvents)
    /// SendGrid's Inbound Parse, carrying the inbound token.
    case sendGridInbound(SendGridInboundRoute)
}

/// A provider built from its file, with the webhooks it needs.
public struct ConfiguredProvider: Sendable {
    public var provider: any MessageProvider
    public var webhooks: [ProviderWebhook]

    public init(_ provider: any MessageProvider, webhooks: [ProviderWebhook] = []) {
        self.provider = provider
        self.webhooks = webhooks
    }
}
