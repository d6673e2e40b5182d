import Crypto
import Foundation
import GatewayCore

/// A signed JSON POST for in-house channels (a bank's own app backend, a chat platform bridge).
/// Header `X-Gateway-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`,
/// so a receiver can check who sent it and refuse replays.
public struct WebhookProvider: MessageProvider {
    public struct Configuration: Sendable, Equatable {
        public var url: String
        public var secret: Secret
        public var channels: Set<Channel>
        public var timeout: Double

        public init(url: String, secret: String, channels: Set<Channel>, timeout: Double = 10) {
            self.url = url
            self.secret = Secret(secret)
            self.channels = channels
            self.timeout = timeout
        }
    }

    public let name: String
    public let configuration: Configuration
    private let client: CurlHTTPClient
    private let clock: @Sendable () -> Date
    public var channels: Set<Channel> { configuration.channels }
    public var requestTimeout: Double { configuration.timeout }

    public init(name: String, configuration: Configuration, client: CurlHTTPClient, clock: @escaping @Sendable () -> Date = Date.init) {
        self.name = name
        self.configuration = configuration
        self.client = client
        self.clock = clock
    }

    public static func signature(secret: String, timestamp: Int, body: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).".utf8) + Data(body), using: SymmetricKey(data: Data(secret.utf8)))
        return mac.hexString
    }

    func request(for message: OutboundMessage) -> HTTPRequest {
        var payload: [String: JSONValue] = [
            "job_id": .string(message.jobID), "contact_id": .string(message.contactID), "attempt": .number(Double(message.attempt)),
            "channel": .string(message.channel.rawValue), "to": .string(message.to), "body": .string(message.body),
        ]
        if let subject = message.subject { payload["subject"] = .string(subject) }
        if let html = message.html { payload["html"] = .string(html) }
        let body = Array(JSONValue.object(payload).serialized.utf8)
        let timestamp = Int(clock().timeIntervalSince1970)
        return HTTPRequest(method: "POST", url: configuration.url, headers: [
            ("Content-Type", "application/json"),
            ("X-Gateway-Signature", "t=\(timestamp),v1=\(Self.signature(secret: configuration.secret.value, timestamp: timestamp, body: body))"),
            ("Idempotency-Key", "\(message.jobID)/\(message.attempt)"),
        ], body: body, timeout: configuration.timeout)
    }

    public func send(_ messages: [OutboundMessage]) async -> [DispatchResult] {
        zip(messages, await client.sendEach(messages.map(request(for:))) { .of($0, Self.classify) }).map(Self.named)
    }

    public func send(_ messages: [OutboundMessage], answer: @escaping @Sendable (Int, DispatchResult) -> Void) async {
        await client.sendEach(messages.map(request(for:)), classify: { .of($0, Self.classify) }) { index, result in
            answer(index, Self.named(messages[index], result))
        }
    }

    static func classify(_ response: HTTPResponse) -> DispatchResult { classify(response, fallbackID: nil) }

    /// Without an id from the receiver, the job and attempt name the message.
    static func named(_ message: OutboundMessage, _ result: DispatchResult) -> DispatchResult {
        if case .accepted(messageID: "", let status) = result {
            return .accepted(messageID: "\(message.jobID)/\(message.attempt)", status: status)
        }
        return result
    }

    /// 2xx: accepted (the receiver's `id` if it gives one). 429 and 5xx: retry. Other 4xx: permanent.
    static func classify(_ response: HTTPResponse, fallbackID: String?) -> DispatchResult {
        let text = String(decoding: response.body.prefix(300), as: UTF8.self)
        switch response.status {
        case 200..<300:
            let id = ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any])?["id"] as? String
            return .accepted(messageID: id ?? response.header("x-message-id") ?? fallbackID ?? "", status: nil)
        case 429, 500..<600:
            return .retryableFailure(code: .http(response.status), message: "webhook answered \(response.status): \(text)", retryAfter: response.retryAfter)
        default:
            return .permanentFailure(code: .provider("webhook", String(response.status)), message: "webhook answered \(response.status): \(text)")
        }
    }
}

extension WebhookProvider.Configuration {
    /// A `type: webhook` file: `url`, `secret` (signs each request), `channels` (sms, email and/or
    /// push), and optionally `timeout_seconds`.
    public init(settings: ProviderSettings) throws {
        let url = try settings.required("url")
        guard ProviderSettings.isHTTP(url) else {
            throw settings.error("url must start with https:// (or http:// on a private network), got \"\(LogMasking.url(url))\"")
        }
        let secret = try settings.required("secret")
        guard secret.utf8.count >= 16 else { throw settings.error("secret must be at least 16 characters (use ${ENV_VAR})") }
        guard let list = settings.take("channels") else { throw settings.error("channels is required for a webhook provider, like channels: sms, push") }
        let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let channels = names.compactMap(Channel.init(rawValue:))
        guard !channels.isEmpty, channels.count == names.count else {
            throw settings.error("channels must list sms, email and/or push, comma-separated; got \"\(list)\"")
        }
        self.init(url: url, secret: secret, channels: Set(channels), timeout: try settings.timeout())
    }
}

extension WebhookProvider: ConfigurableProvider {
    public static func configured(_ settings: ProviderSettings, client: CurlHTTPClient) throws -> ConfiguredProvider {
        ConfiguredProvider(WebhookProvider(name: settings.name, configuration: try Configuration(settings: settings), client: client))
    }
}
