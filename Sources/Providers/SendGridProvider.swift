import Foundation
import GatewayCore

/// SendGrid's v3 Mail Send API, as documented: `POST /v3/mail/send` with `Authorization: Bearer
/// <API key>`, a JSON body with personalizations, from, subject and text + HTML content; 202 with the
/// message id in `X-Message-Id`.
public struct SendGridProvider: MessageProvider {
    public struct Configuration: Sendable, Equatable {
        public var apiKey: Secret
        public var fromEmail: String
        public var fromName: String?
        /// `List-Unsubscribe` value, e.g. "<mailto:unsubscribe@bank.example>, <https://bank.example/unsub>".
        public var listUnsubscribe: String?
        public var baseURL: String
        public var timeout: Double
        /// The Event Webhook's verification key (base64 DER or PEM), as SendGrid shows it.
        public var eventWebhookPublicKey: String?
        /// Accept events without a signature (a test rig); without a key or this, events are not received.
        public var acceptUnsignedWebhooks: Bool
        /// The secret in the Inbound Parse URL; without it, inbound e-mail is not received.
        public var inboundToken: Secret?

        public init(apiKey: String, fromEmail: String, fromName: String? = nil, listUnsubscribe: String? = nil,
                    baseURL: String = "https://api.sendgrid.com", timeout: Double = 10, eventWebhookPublicKey: String? = nil,
                    acceptUnsignedWebhooks: Bool = false, inboundToken: String? = nil) {
            self.apiKey = Secret(apiKey)
            self.fromEmail = fromEmail
            self.fromName = fromName
            self.listUnsubscribe = listUnsubscribe
            self.baseURL = baseURL
            self.timeout = timeout
            self.eventWebhookPublicKey = eventWebhookPublicKey
            self.acceptUnsignedWebhooks = acceptUnsignedWebhooks
            self.inboundToken = inboundToken.map { Secret($0) }
        }
    }

    public let name: String
    public let channels: Set<Channel> = [.email]
    public let configuration: Configuration
    private let client: CurlHTTPClient
    public var requestTimeout: Double { configuration.timeout }

    public init(name: String, configuration: Configuration, client: CurlHTTPClient) {
        self.name = name
        self.configuration = configuration
        self.client = client
    }

    func request(for message: OutboundMessage) -> HTTPRequest {
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        var from: [String: JSONValue] = ["email": .string(configuration.fromEmail)]
        if let name = configuration.fromName { from["name"] = .string(name) }
        var content: [JSONValue] = [.object(["type": .string("text/plain"), "value": .string(message.body)])]
        if let html = message.html { content.append(.object(["type": .string("text/html"), "value": .string(html)])) }
        var body: [String: JSONValue] = [
            "personalizations": .array([.object([
                "to": .array([.object(["email": .string(message.to)])]),
                // Echoed back in every event: ties a report to the job even before the message id is known.
                "custom_args": .object(["job_id": .string(message.jobID), "contact_id": .string(message.contactID)]),
            ])]),
            "from": .object(from),
            "subject": .string(message.subject ?? ""),
            "content": .array(content),
        ]
        if let unsubscribe = configuration.listUnsubscribe {
            body["headers"] = .object(["List-Unsubscribe": .string(unsubscribe), "List-Unsubscribe-Post": .string("List-Unsubscribe=One-Click")])
        }
        return HTTPRequest(
            method: "POST", url: "\(base)/v3/mail/send",
            headers: [("Authorization", "Bearer \(configuration.apiKey.value)"), ("Content-Type", "application/json")],
            body: Array(JSONValue.object(body).serialized.utf8), timeout: configuration.timeout)
    }

    public func send(_ messages: [OutboundMessage]) async -> [DispatchResult] {
        await client.sendEach(messages.map(request(for:))) { .of($0, Self.classify) }
    }

    public func send(_ messages: [OutboundMessage], answer: @escaping @Sendable (Int, DispatchResult) -> Void) async {
        await client.sendEach(messages.map(request(for:)), classify: { .of($0, Self.classify) }, answer: answer)
    }

    /// 202 + X-Message-Id: accepted. 429 and 5xx: retry. Other 4xx: permanent, with SendGrid's message.
    static func classify(_ response: HTTPResponse) -> DispatchResult {
        let errors = ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any])?["errors"] as? [[String: Any]]
        let detail = errors?.compactMap { error -> String? in
            guard let message = error["message"] as? String else { return nil }
            return (error["field"] as? String).map { "\($0): \(message)" } ?? message
        }.joined(separator: "; ")
        switch response.status {
        case 200..<300:
            guard let id = response.header("x-message-id"), !id.isEmpty else {
                return .permanentFailure(code: .sendGridNoMessageID, message: "SendGrid answered \(response.status) without X-Message-Id; not retried to avoid a duplicate")
            }
            return .accepted(messageID: id, status: "accepted")
        case 429, 500..<600:
            let retryAfter = response.retryAfter
                ?? response.header("x-ratelimit-reset").flatMap(Double.init).map { max(0, $0 - Date().timeIntervalSince1970) }
            return .retryableFailure(code: .http(response.status), message: "SendGrid answered \(response.status)" + (detail.map { ": \($0)" } ?? ""), retryAfter: retryAfter)
        default:
            return .permanentFailure(code: .provider("sendgrid", String(response.status)), message: "SendGrid answered \(response.status)" + (detail.map { ": \($0)" } ?? ""))
        }
    }
}

extension SendGridProvider.Configuration {
    /// A `type: sendgrid` file: `api_key`, `from_email`, and optionally `from_name`,
    /// `list_unsubscribe`, `event_webhook_public_key` or `accept_unsigned_receipts`, `inbound_token`,
    /// `base_url`, `timeout_seconds`.
    public init(settings: ProviderSettings) throws {
        let from = try settings.required("from_email")
        guard JobDecoder.isEmailAddress(from) else { throw settings.error("from_email is not an e-mail address: \"\(from)\"") }
        let key = settings.take("event_webhook_public_key")
        let unsigned = try settings.flag("accept_unsigned_receipts", default: false)
        do { _ = try SendGridEvents(provider: settings.name, publicKey: key, acceptUnsigned: unsigned) } catch {
            throw settings.error("event_webhook_public_key: \((error as? ReceiptRejection)?.message ?? "\(error)")")
        }
        let token = try settings.secret("inbound_token", purpose: "; it is the secret in the Inbound Parse URL")
        self.init(apiKey: try settings.required("api_key"), fromEmail: from, fromName: settings.take("from_name"),
                  listUnsubscribe: settings.take("list_unsubscribe"), baseURL: try settings.baseURL(default: "https://api.sendgrid.com"),
                  timeout: try settings.timeout(), eventWebhookPublicKey: key, acceptUnsignedWebhooks: unsigned, inboundToken: token)
    }

    /// The Event Webhook (when a key is set or unsigned events are accepted) and Inbound Parse (when a token is set).
    public func webhooks(provider: String) throws -> [ProviderWebhook] {
        var webhooks: [ProviderWebhook] = []
        if eventWebhookPublicKey != nil || acceptUnsignedWebhooks {
            webhooks.append(.sendGridEvents(try SendGridEvents(provider: provider, publicKey: eventWebhookPublicKey, acceptUnsigned: acceptUnsignedWebhooks)))
        }
        if let inboundToken {
            let parser = SendGridInbound(provider: provider)
            webhooks.append(.sendGridInbound(SendGridInboundRoute(provider: provider, token: inboundToken.value) { body, type, at in
                parser.parse(body: body, contentType: type, at: at)
            }))
        }
        return webhooks
    }
}

extension SendGridProvider: ConfigurableProvider {
    public static func configured(_ settings: ProviderSettings, client: CurlHTTPClient) throws -> ConfiguredProvider {
        let configuration = try Configuration(settings: settings)
        return ConfiguredProvider(SendGridProvider(name: settings.name, configuration: configuration, client: client),
                                  webhooks: try configuration.webhooks(provider: settings.name))
    }
}

// MARK: - Looking a send up

/// SendGrid's Email Activity API (a paid add-on, and the API key needs Email Activity access):
/// `GET /v3/messages?query=to_email%3D%22<address>%22&limit=<n>` with `Authorization: Bearer <key>`
/// answers `{"messages": [{"from_email", "msg_id", "subject", "to_email", "status", "opens_count",
/// "clicks_count", "last_event_time"}]}` (Twilio SendGrid API reference, Email Activity, "Filter
/// all messages", and "Getting Started with the Email Activity Feed API"). Without the add-on it
/// answers 403 (or 404): cannot tell, said so. A message matches when it went to the claim's
/// address with the claim's subject and its last event is not before the claim. The message id
/// recorded is `msg_id` up to its first '.', the X-Message-Id the send returns and receipts carry.
extension SendGridProvider: SendLookup {
    static let lookupLimit = 1000

    func lookupRequest(_ send: SendInQuestion) -> HTTPRequest {
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        let fields: [(String, String)] = [("query", "to_email=\"\(send.address)\""), ("limit", String(Self.lookupLimit))]
        return HTTPRequest(method: "GET", url: "\(base)/v3/messages?" + FormEncoding.encode(fields),
                           headers: [("Authorization", "Bearer \(configuration.apiKey.value)"), ("Accept", "application/json")],
                           timeout: configuration.timeout)
    }

    public func lookUp(_ send: SendInQuestion) async -> LookupResult {
        await lookUp(send, now: Date())
    }

    func lookUp(_ send: SendInQuestion, now: Date) async -> LookupResult {
        guard !send.address.contains("\""), !send.address.contains("\\") else {
            return .cannotTell(reason: "the address has a quote or backslash, which SendGrid's activity query cannot hold")
        }
        do throws(HTTPClientError) {
            return Self.readActivity(try await client.send(lookupRequest(send)), send: send, now: now, provider: name)
        } catch {
            return LookupMatch.unreachable(error, provider: name)
        }
    }

    static func readActivity(_ response: HTTPResponse, send: SendInQuestion, now: Date, provider: String) -> LookupResult {
        if response.status == 403 || response.status == 404 {
            return .cannotTell(reason: "SendGrid answered \(response.status) to the Email Activity API: the account needs the Email Activity add-on and the API key Email Activity access (or look in the console's Activity feed)")
        }
        guard response.status == 200 else { return LookupMatch.refused(response, provider: "SendGrid") }
        guard let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any],
              let messages = json["messages"] as? [[String: Any]] else {
            return .cannotTell(reason: "SendGrid's activity was not the documented JSON (no messages array)")
        }
        let since = send.window(now: now).lowerBound
        let matches: [(id: String, status: String)] = messages.compactMap { message in
            guard let msgID = message["msg_id"] as? String, let id = msgID.split(separator: ".").first.map(String.init), !id.isEmpty,
                  (message["to_email"] as? String)?.lowercased() == send.address.lowercased(),
                  send.subject == nil || message["subject"] as? String == send.subject,
                  let last = (message["last_event_time"] as? String).flatMap(parseTimestamp), last >= since else { return nil }
            return (id, message["status"] as? String ?? "unknown")
        }
        if matches.isEmpty, messages.count >= lookupLimit {
            return .cannotTell(reason: "SendGrid returned its limit of \(lookupLimit) messages to \(send.address) and none matches; look by hand")
        }
        let subject = send.subject.map { " with the subject \"\($0)\"" } ?? ""
        return LookupMatch.decide(matches, searched: "no message to \(send.address)\(subject) with events since \(formatTimestamp(since))", provider: provider)
    }
}
