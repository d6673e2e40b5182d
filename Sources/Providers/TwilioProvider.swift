import Foundation
import GatewayCore

/// Twilio's Programmable Messaging API, as documented: a form-encoded POST to
/// `/2010-04-01/Accounts/{AccountSid}/Messages.json` with HTTP Basic auth (Account SID : Auth Token).
public struct TwilioProvider: MessageProvider {
    public struct Configuration: Sendable, Equatable {
        public var accountSID: String
        public var authToken: Secret
        /// Exactly one of `from` and `messagingServiceSID`.
        public var from: String?
        public var messagingServiceSID: String?
        public var baseURL: String
        public var statusCallback: String?
        public var timeout: Double
        /// The public URL of /webhooks/twilio/inbound as set on the number's messaging webhook:
        /// Twilio signs incoming messages over it.
        public var inboundURL: String?
        /// Accept webhooks without a valid X-Twilio-Signature (a test rig behind a rewriting proxy).
        public var acceptUnsignedWebhooks: Bool

        public init(accountSID: String, authToken: String, from: String? = nil, messagingServiceSID: String? = nil,
                    baseURL: String = "https://api.twilio.com", statusCallback: String? = nil, timeout: Double = 10,
                    inboundURL: String? = nil, acceptUnsignedWebhooks: Bool = false) {
            self.accountSID = accountSID
            self.authToken = Secret(authToken)
            self.from = from
            self.messagingServiceSID = messagingServiceSID
            self.baseURL = baseURL
            self.statusCallback = statusCallback
            self.timeout = timeout
            self.inboundURL = inboundURL
            self.acceptUnsignedWebhooks = acceptUnsignedWebhooks
        }
    }

    public let name: String
    public let channels: Set<Channel> = [.sms]
    public let configuration: Configuration
    private let client: CurlHTTPClient
    public var requestTimeout: Double { configuration.timeout }
    /// 21610: "Attempt to send to unsubscribed recipient" (the number replied STOP to this sender).
    public var unsubscribedCodes: Set<Reason> { [.twilioUnsubscribed] }

    public init(name: String, configuration: Configuration, client: CurlHTTPClient) {
        self.name = name
        self.configuration = configuration
        self.client = client
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        messagesURL = "\(base)/2010-04-01/Accounts/\(FormEncoding.escape(configuration.accountSID))/Messages.json"
    }

    let messagesURL: String

    func request(for message: OutboundMessage) -> HTTPRequest {
        var fields: [(String, String)] = [("To", message.to)]
        if let service = configuration.messagingServiceSID {
            fields.append(("MessagingServiceSid", service))
        } else if let from = configuration.from {
            fields.append(("From", from))
        }
        fields.append(("Body", message.body))
        if let callback = configuration.statusCallback { fields.append(("StatusCallback", callback)) }
        return HTTPRequest(
            method: "POST", url: messagesURL,
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
            body: FormEncoding.encodeBytes(fields),
            basicAuth: (configuration.accountSID, configuration.authToken.value),
            timeout: configuration.timeout)
    }

    public func send(_ messages: [OutboundMessage]) async -> [DispatchResult] {
        await client.sendEach(messages.map(request(for:))) { .of($0, Self.classify) }
    }

    public func send(_ messages: [OutboundMessage], answer: @escaping @Sendable (Int, DispatchResult) -> Void) async {
        await client.sendEach(messages.map(request(for:)), classify: { .of($0, Self.classify) }, answer: answer)
    }

    /// Twilio's answer → outcome. 2xx with a sid: accepted. 429 and 5xx: retry (honouring
    /// Retry-After). Other 4xx: permanent, with Twilio's error code (e.g. 21211 invalid number,
    /// 21610 recipient unsubscribed, 20003 bad credentials).
    static func classify(_ response: HTTPResponse) -> DispatchResult {
        let json = AnswerFields(response.body)
        switch response.status {
        case 200..<300:
            guard let sid = json.sid, !sid.isEmpty else {
                // Twilio took something but did not say what: never resend, or the customer may get it twice.
                return .permanentFailure(code: .twilioNoSID, message: "Twilio answered \(response.status) without a message sid; not retried to avoid a duplicate")
            }
            return .accepted(messageID: sid, status: json.status)
        case 429, 500..<600:
            let retryAfter = response.retryAfter
            let detail = json.message.map { ": \($0)" } ?? ""
            return .retryableFailure(code: .http(response.status), message: "Twilio answered \(response.status)\(detail)", retryAfter: retryAfter)
        default:
            let code = json.code.map { Reason.provider("twilio", String($0)) } ?? .http(response.status)
            let text = json.message ?? String(decoding: response.body.prefix(300), as: UTF8.self)
            return .permanentFailure(code: code, message: "Twilio answered \(response.status): \(text)")
        }
    }
}

/// What `classify` reads of a Twilio answer's JSON body. Parsed by the gateway's own parser (a
/// tenth of Foundation's cost, and every sent SMS has an answer); a body that parser refuses (a key
/// given twice, nesting over its limit) is read by Foundation's, so its strictness never changes
/// how an answer is understood.
struct AnswerFields {
    var sid: String?
    var status: String?
    var message: String?
    var code: Int?

    init(_ body: [UInt8]) {
        if case .object(let object)? = try? JSONParser.parse(body) {
            sid = object["sid"]?.string
            status = object["status"]?.string
            message = object["message"]?.string
            if case .number(let number)? = object["code"] { code = Int(exactly: number) }
        } else if let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] {
            sid = json["sid"] as? String
            status = json["status"] as? String
            message = json["message"] as? String
            code = json["code"] as? Int
        }
    }
}

extension TwilioProvider.Configuration {
    /// A `type: twilio` file: `account_sid`, `auth_token`, one of `from` and `messaging_service_sid`,
    /// and optionally `status_callback`, `inbound_url`, `accept_unsigned_receipts`, `base_url`,
    /// `timeout_seconds`.
    public init(settings: ProviderSettings) throws {
        let sid = try settings.required("account_sid")
        guard sid.hasPrefix("AC"), sid.count == 34 else {
            throw settings.error("account_sid must be a Twilio Account SID (AC followed by 32 characters), got \"\(sid)\"")
        }
        let from = settings.take("from")
        let service = settings.take("messaging_service_sid")
        guard (from == nil) != (service == nil) else {
            throw settings.error("give exactly one of from (an E.164 number) or messaging_service_sid (MG...)")
        }
        if let from, !JobDecoder.isE164(from), !from.allSatisfy({ $0.isLetter || $0.isNumber }) {
            throw settings.error("from must be an E.164 number like +15005550006 or an alphanumeric sender id, got \"\(from)\"")
        }
        let base = try settings.baseURL(default: "https://api.twilio.com")
        let timeout = try settings.timeout()
        let token = try settings.required("auth_token")
        let callback = settings.take("status_callback")
        let unsigned = try settings.flag("accept_unsigned_receipts", default: false)
        if let callback, !ProviderSettings.isHTTP(callback) {
            throw settings.error("status_callback must be the full public URL of /webhooks/twilio/status, like https://gateway.example.com/webhooks/twilio/status")
        }
        let inbound = settings.take("inbound_url")
        if let inbound, !ProviderSettings.isHTTP(inbound) {
            throw settings.error("inbound_url must be the full public URL of /webhooks/twilio/inbound, as set on the Twilio number's messaging webhook")
        }
        self.init(accountSID: sid, authToken: token, from: from, messagingServiceSID: service, baseURL: base,
                  statusCallback: callback, timeout: timeout, inboundURL: inbound, acceptUnsignedWebhooks: unsigned)
    }

    /// The delivery reports and incoming messages this account sends to the gateway.
    public func webhooks(provider: String) -> [ProviderWebhook] {
        var webhooks: [ProviderWebhook] = []
        if let statusCallback {
            webhooks.append(.twilioStatus(TwilioReceipts(provider: provider, authToken: authToken.value, callbackURL: statusCallback,
                                                         acceptUnsigned: acceptUnsignedWebhooks)))
        }
        if let inboundURL {
            webhooks.append(.twilioInbound(TwilioReceipts(provider: provider, authToken: authToken.value, callbackURL: inboundURL,
                                                          acceptUnsigned: acceptUnsignedWebhooks)))
        }
        return webhooks
    }
}

extension TwilioProvider: ConfigurableProvider {
    public static func configured(_ settings: ProviderSettings, client: CurlHTTPClient) throws -> ConfiguredProvider {
        let configuration = try Configuration(settings: settings)
        return ConfiguredProvider(TwilioProvider(name: settings.name, configuration: configuration, client: client),
                                  webhooks: configuration.webhooks(provider: settings.name))
    }
}

// MARK: - Looking a send up

/// Twilio keeps every message it took. `GET /2010-04-01/Accounts/{AccountSid}/Messages.json` with
/// HTTP Basic auth (as sending) lists them, newest first, filtered by `To`, `From` and
/// `DateSent>=` / `DateSent<=` (YYYY-MM-DD, UTC days), `PageSize` up to 1000 a page; the answer is
/// `{"messages": [...], "next_page_uri": "/2010-04-01/...&PageToken=..." or null, ...}`, each
/// message with `sid`, `to`, `from`, `body`, `status`, `direction` and `date_created` (RFC 2822,
/// "Tue, 01 Dec 2026 05:20:01 +0000"). (Twilio REST API, Message resource: "Read multiple Message
/// resources" and the list's paging properties.) A message matches when it went out to the claim's
/// address with exactly the claim's body, created within the claim's window.
extension TwilioProvider: SendLookup {
    /// At most this many pages (of `lookupPageSize`) are read for one send.
    static let lookupPageLimit = 10
    static let lookupPageSize = 1000

    /// The first page's request: the days of the claim's window, and the day after.
    func lookupRequest(_ send: SendInQuestion, now: Date) -> HTTPRequest {
        let window = send.window(now: now)
        var fields: [(String, String)] = [("To", send.address)]
        if let from = configuration.from { fields.append(("From", from)) }
        fields.append(("DateSent>", LookupMatch.day(window.lowerBound)))
        fields.append(("DateSent<", LookupMatch.day(window.upperBound.addingTimeInterval(86_400))))
        fields.append(("PageSize", String(Self.lookupPageSize)))
        return lookupPage(messagesURL + "?" + FormEncoding.encode(fields))
    }

    func lookupPage(_ url: String) -> HTTPRequest {
        HTTPRequest(method: "GET", url: url, headers: [("Accept", "application/json")],
                    basicAuth: (configuration.accountSID, configuration.authToken.value), timeout: configuration.timeout)
    }

    public func lookUp(_ send: SendInQuestion) async -> LookupResult {
        await lookUp(send, now: Date())
    }

    func lookUp(_ send: SendInQuestion, now: Date) async -> LookupResult {
        guard let body = send.body else { return .cannotTell(reason: "the claim has no text to match Twilio's messages against") }
        var request = lookupRequest(send, now: now)
        var matches: [(id: String, status: String)] = []
        let searched = "no message to \(send.address) with this text created \(formatTimestamp(send.window(now: now).lowerBound)) to \(formatTimestamp(send.window(now: now).upperBound))"
        for _ in 0..<Self.lookupPageLimit {
            let response: HTTPResponse
            do throws(HTTPClientError) { response = try await client.send(request) } catch { return LookupMatch.unreachable(error, provider: name) }
            switch Self.readPage(response, send: send, body: body, window: send.window(now: now)) {
            case .failure(let error): return error.result
            case .success(let page):
                matches += page.matches
                guard let next = page.next else { return LookupMatch.decide(matches, searched: searched, provider: name) }
                request = lookupPage(baseURL + next)
            }
        }
        return matches.isEmpty
            ? .cannotTell(reason: "more than \(Self.lookupPageLimit * Self.lookupPageSize) messages to \(send.address) in those days at \(name); look by hand")
            : LookupMatch.decide(matches, searched: searched, provider: name)
    }

    var baseURL: String {
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    struct LookupPage {
        var matches: [(id: String, status: String)]
        /// The next page's path (on the same host), nil on the last page.
        var next: String?
    }

    /// One page of Twilio's list: the messages that match, and the next page. An answer that is
    /// not the list (an error, another shape, a next page elsewhere) cannot tell.
    static func readPage(_ response: HTTPResponse, send: SendInQuestion, body: String, window: ClosedRange<Date>) -> Result<LookupPage, LookupResultError> {
        guard response.status == 200 else { return .failure(LookupResultError(LookupMatch.refused(response, provider: "Twilio"))) }
        guard let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any],
              let messages = json["messages"] as? [[String: Any]] else {
            return .failure(LookupResultError(.cannotTell(reason: "Twilio's message list was not the documented JSON (no messages array)")))
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        var matches: [(id: String, status: String)] = []
        for message in messages {
            guard let sid = message["sid"] as? String, !sid.isEmpty, message["to"] as? String == send.address,
                  message["body"] as? String == body, (message["direction"] as? String)?.hasPrefix("outbound") ?? true,
                  let created = (message["date_created"] as? String).flatMap(formatter.date(from:)), window.contains(created) else { continue }
            matches.append((sid, message["status"] as? String ?? "unknown"))
        }
        var next: String?
        if let uri = json["next_page_uri"] as? String, !uri.isEmpty {
            // Only a path on the same host: credentials are never sent anywhere the answer names.
            guard uri.hasPrefix("/2010-04-01/Accounts/"), !uri.hasPrefix("//"), !uri.contains("://") else {
                return .failure(LookupResultError(.cannotTell(reason: "Twilio's next_page_uri \(uri.prefix(120)) is not a path of its API; not followed")))
            }
            next = uri
        }
        return .success(LookupPage(matches: matches, next: next))
    }
}

/// A lookup's answer carried as an error (a page that cannot be read ends the lookup with it).
struct LookupResultError: Error {
    var result: LookupResult
    init(_ result: LookupResult) { self.result = result }
}
