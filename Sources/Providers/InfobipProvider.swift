import Foundation
import GatewayCore

/// Infobip's SMS API, as documented: `POST /sms/2/text/advanced` with `Authorization: App <API key>`
/// and a JSON body with one entry per message (the whole batch in one request); the answer lists a
/// `messageId` and a status group per message.
public struct InfobipProvider: MessageProvider {
    public struct Configuration: Sendable, Equatable {
        public var apiKey: Secret
        public var baseURL: String
        public var from: String
        /// Where Infobip posts delivery reports (the gateway's /webhooks/infobip/reports?token=...).
        /// Where Infobip posts reports; it holds the report token, so it prints as `***` too.
        public var notifyURL: Secret?
        public var timeout: Double
        /// The secret that delivery reports must carry (Infobip does not sign them); it is part of `notifyURL`.
        public var reportToken: Secret?

        public init(apiKey: String, baseURL: String, from: String, notifyURL: String? = nil, timeout: Double = 10, reportToken: String? = nil) {
            self.apiKey = Secret(apiKey)
            self.baseURL = baseURL
            self.from = from
            self.notifyURL = notifyURL.map { Secret($0) }
            self.timeout = timeout
            self.reportToken = reportToken.map { Secret($0) }
        }
    }

    public let name: String
    /// One request carries every message of a batch (`/sms/2/text/advanced`, one entry per message).
    public var sendsInBulk: Bool { true }
    public let channels: Set<Channel> = [.sms]
    public let configuration: Configuration
    private let client: CurlHTTPClient
    public var requestTimeout: Double { configuration.timeout }

    public init(name: String, configuration: Configuration, client: CurlHTTPClient) {
        self.name = name
        self.configuration = configuration
        self.client = client
    }

    func request(for messages: [OutboundMessage]) -> HTTPRequest {
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        let entries: [JSONValue] = messages.map { message in
            var entry: [String: JSONValue] = [
                // Infobip writes numbers in international format without the plus sign.
                "destinations": .array([.object(["to": .string(String(message.to.drop { $0 == "+" }))])]),
                "from": .string(configuration.from),
                "text": .string(message.body),
                "callbackData": .string("\(message.jobID)/\(message.attempt)"),
            ]
            if let notify = configuration.notifyURL?.value {
                entry["notifyUrl"] = .string(notify)
                entry["notifyContentType"] = .string("application/json")
            }
            return .object(entry)
        }
        return HTTPRequest(
            method: "POST", url: "\(base)/sms/2/text/advanced",
            headers: [("Authorization", "App \(configuration.apiKey.value)"), ("Content-Type", "application/json"), ("Accept", "application/json")],
            body: Array(JSONValue.object(["messages": .array(entries)]).serialized.utf8),
            timeout: configuration.timeout)
    }

    public func send(_ messages: [OutboundMessage]) async -> [DispatchResult] {
        guard !messages.isEmpty else { return [] }
        do throws(HTTPClientError) {
            return Self.classify(try await client.send(request(for: messages)), count: messages.count)
        } catch {
            return messages.map { _ in error.dispatchResult }
        }
    }

    /// 2xx: one answer per message, in order; a REJECTED status group is a permanent failure.
    /// 429 and 5xx: every message retryable. Other 4xx: every message permanent.
    static func classify(_ response: HTTPResponse, count: Int) -> [DispatchResult] {
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        switch response.status {
        case 200..<300:
            let answers = json?["messages"] as? [[String: Any]] ?? []
            guard answers.count == count else {
                let result = DispatchResult.permanentFailure(code: .infobipBadResponse, message: "Infobip answered \(response.status) with \(answers.count) results for \(count) messages; not retried to avoid duplicates")
                return Array(repeating: result, count: count)
            }
            return answers.map { answer in
                let status = answer["status"] as? [String: Any]
                let group = status?["groupName"] as? String ?? ""
                let detail = [status?["name"] as? String, status?["description"] as? String].compactMap { $0 }.joined(separator: ": ")
                if group == "REJECTED" { return .permanentFailure(code: .provider("infobip", status?["name"] as? String ?? "REJECTED"), message: "Infobip rejected the message: \(detail)") }
                guard let id = answer["messageId"] as? String, !id.isEmpty else {
                    return .permanentFailure(code: .infobipNoMessageID, message: "Infobip gave no messageId (\(detail)); not retried to avoid a duplicate")
                }
                return .accepted(messageID: id, status: status?["name"] as? String)
            }
        case 429, 500..<600:
            let result = DispatchResult.retryableFailure(code: .http(response.status), message: "Infobip answered \(response.status)", retryAfter: response.retryAfter)
            return Array(repeating: result, count: count)
        default:
            let exception = ((json?["requestError"] as? [String: Any])?["serviceException"] as? [String: Any])
            let text = [exception?["messageId"] as? String, exception?["text"] as? String].compactMap { $0 }.joined(separator: ": ")
            let result = DispatchResult.permanentFailure(code: .provider("infobip", String(response.status)), message: "Infobip answered \(response.status)" + (text.isEmpty ? "" : ": \(text)"))
            return Array(repeating: result, count: count)
        }
    }
}

/// Infobip's delivery reports and inbound SMS. Infobip signs neither, so the gateway only accepts
/// those that carry the secret `report_token` in their URL (compared in constant time): the notify
/// URL it sends with each message, and the inbound URL configured on the number.
public struct InfobipReports: Sendable {
    public let provider: String
    public let token: String

    public init(provider: String, token: String) {
        self.provider = provider
        self.token = token
    }

    public func isValid(token candidate: String?) -> Bool {
        guard let candidate else { return false }
        return ConstantTime.equal(Array(candidate.utf8), Array(token.utf8))
    }

    public static func status(group: String) -> DeliveryStatus? {
        switch group {
        case "PENDING": .sent
        case "DELIVERED": .delivered
        case "UNDELIVERABLE", "EXPIRED": .undelivered
        case "REJECTED": .failed
        default: nil
        }
    }

    /// Inbound SMS as Infobip forwards them to the number's URL (format MO_JSON_2: `{"results":
    /// [{"messageId", "from", "to", "text", "keyword", "receivedAt", ...}]}`). Infobip writes the
    /// customer's number without "+"; it is given one, as the gateway sends to E.164 numbers.
    public func inbound(body: [UInt8], at: Date) -> Result<[InboundMessage], ReceiptRejection> {
        let results: [[String: JSONValue]]
        switch Self.results(body, expected: "{\"results\": [...]} as Infobip forwards inbound SMS (MO_JSON_2)") {
        case .success(let list): results = list
        case .failure(let rejection): return .failure(rejection)
        }
        var messages: [InboundMessage] = []
        for (index, result) in results.enumerated() {
            guard let id = result["messageId"]?.string, !id.isEmpty else {
                return .failure(ReceiptRejection(message: "results[\(index)].messageId is missing"))
            }
            guard var from = result["from"]?.string, !from.isEmpty else {
                return .failure(ReceiptRejection(message: "results[\(index)].from is missing"))
            }
            if from.allSatisfy(\.isASCIIDigit) { from = "+" + from }
            messages.append(InboundMessage(provider: provider, messageID: id, from: from, to: result["to"]?.string ?? "",
                                           body: result["text"]?.string ?? "", at: at, raw: JSONValue.object(result).serialized))
        }
        return .success(messages)
    }

    /// The `results` list every Infobip callback carries, read by the strict parser: a key given
    /// twice ("from" twice: which number wrote?) is refused, not guessed.
    static func results(_ body: [UInt8], expected: String) -> Result<[[String: JSONValue]], ReceiptRejection> {
        let value: JSONValue
        do { value = try JSONParser.parse(body) } catch {
            return .failure(ReceiptRejection(message: "the body is not valid JSON (\(error)); it must be \(expected)"))
        }
        guard case .array(let list)? = value["results"] else { return .failure(ReceiptRejection(message: "the body must be \(expected)")) }
        var results: [[String: JSONValue]] = []
        for (index, item) in list.enumerated() {
            guard case .object(let result) = item else { return .failure(ReceiptRejection(message: "results[\(index)] must be an object")) }
            results.append(result)
        }
        return .success(results)
    }

    public func receipts(body: [UInt8]) -> Result<[Receipt], ReceiptRejection> {
        let results: [[String: JSONValue]]
        switch Self.results(body, expected: "{\"results\": [...]} as Infobip sends it") {
        case .success(let list): results = list
        case .failure(let rejection): return .failure(rejection)
        }
        return .success(results.compactMap { result in
            guard let id = result["messageId"]?.string, let status = result["status"],
                  let group = status["groupName"]?.string, let common = Self.status(group: group) else { return nil }
            let error = result["error"]?["name"]?.string
            return Receipt(provider: provider, messageID: id, status: common, providerStatus: status["name"]?.string ?? group,
                           errorCode: error == "NO_ERROR" ? nil : error, at: Date(), raw: JSONValue.object(result).serialized)
        })
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension InfobipProvider.Configuration {
    /// A `type: infobip` file: `api_key`, `from`, and optionally `notify_url` with `report_token`,
    /// `base_url`, `timeout_seconds`.
    public init(settings: ProviderSettings) throws {
        let base = try settings.baseURL(default: "https://api.infobip.com")
        var notify = settings.take("notify_url")
        let token = try settings.secret("report_token")
        if let token {
            guard let url = notify else { throw settings.error("report_token needs notify_url: the public URL of /webhooks/infobip/reports") }
            notify = url + (url.contains("?") ? "&" : "?") + "token=" + FormEncoding.escape(token)
        } else if notify != nil {
            throw settings.error("notify_url needs report_token: Infobip does not sign reports, so the gateway only accepts reports carrying this secret")
        }
        self.init(apiKey: try settings.required("api_key"), baseURL: base, from: try settings.required("from"), notifyURL: notify,
                  timeout: try settings.timeout(), reportToken: token)
    }

    /// The delivery reports Infobip posts to the gateway, when a report token is set.
    public func webhooks(provider: String) -> [ProviderWebhook] {
        reportToken.map { [.infobipReports(InfobipReports(provider: provider, token: $0.value))] } ?? []
    }
}

extension InfobipProvider: ConfigurableProvider {
    public static func configured(_ settings: ProviderSettings, client: CurlHTTPClient) throws -> ConfiguredProvider {
        let configuration = try Configuration(settings: settings)
        return ConfiguredProvider(InfobipProvider(name: settings.name, configuration: configuration, client: client),
                                  webhooks: configuration.webhooks(provider: settings.name))
    }
}

// MARK: - Looking a send up

/// Infobip keeps the logs of sent SMS for 48 hours: `GET /sms/1/logs` with `Authorization: App
/// <key>`, filtered by `to` (international format, no plus), `from`, `sentSince` and `sentUntil`
/// (`yyyy-MM-dd'T'HH:mm:ss.SSS+0000`), at most `limit` (1000) entries, answers
/// `{"results": [{"bulkId", "messageId", "to", "from", "text", "sentAt", "doneAt", "smsCount",
/// "price", "status": {"groupId", "groupName", "id", "name", "description"}, "error"}]}`
/// (Infobip SMS API, "Get outbound SMS message logs"; the same fields in its PHP client's
/// GetSentSmsLogs). A message matches when it went to the claim's number with exactly the claim's
/// text, sent within the claim's window. Older than 48 hours, no answer is proof of absence.
extension InfobipProvider: SendLookup {
    static let lookupLimit = 1000
    static let logsKeptFor: TimeInterval = 48 * 3600

    static func logTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSZ"
        return formatter.string(from: date)
    }

    static func parseLogTime(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSZ"
        return formatter.date(from: text) ?? parseTimestamp(text)
    }

    func lookupRequest(_ send: SendInQuestion, now: Date) -> HTTPRequest {
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        let window = send.window(now: now)
        let fields: [(String, String)] = [
            ("to", String(send.address.drop { $0 == "+" })), ("from", configuration.from),
            ("sentSince", Self.logTime(window.lowerBound)), ("sentUntil", Self.logTime(window.upperBound)),
            ("limit", String(Self.lookupLimit)),
        ]
        return HTTPRequest(method: "GET", url: "\(base)/sms/1/logs?" + FormEncoding.encode(fields),
                           headers: [("Authorization", "App \(configuration.apiKey.value)"), ("Accept", "application/json")],
                           timeout: configuration.timeout)
    }

    public func lookUp(_ send: SendInQuestion) async -> LookupResult {
        await lookUp(send, now: Date())
    }

    func lookUp(_ send: SendInQuestion, now: Date) async -> LookupResult {
        guard let body = send.body else { return .cannotTell(reason: "the claim has no text to match Infobip's logs against") }
        do throws(HTTPClientError) {
            return Self.readLogs(try await client.send(lookupRequest(send, now: now)), send: send, body: body, now: now, provider: name)
        } catch {
            return LookupMatch.unreachable(error, provider: name)
        }
    }

    static func readLogs(_ response: HTTPResponse, send: SendInQuestion, body: String, now: Date, provider: String) -> LookupResult {
        guard response.status == 200 else { return LookupMatch.refused(response, provider: "Infobip") }
        guard let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any],
              let results = json["results"] as? [[String: Any]] else {
            return .cannotTell(reason: "Infobip's logs were not the documented JSON (no results array)")
        }
        let window = send.window(now: now)
        let number = String(send.address.drop { $0 == "+" })
        let matches: [(id: String, status: String)] = results.compactMap { log in
            guard let id = log["messageId"] as? String, !id.isEmpty, (log["to"] as? String).map({ $0.drop { $0 == "+" } == number[...] }) == true,
                  log["text"] as? String == body, let sent = (log["sentAt"] as? String).flatMap(parseLogTime), window.contains(sent) else { return nil }
            let status = log["status"] as? [String: Any]
            return (id, (status?["name"] as? String) ?? (status?["groupName"] as? String) ?? "unknown")
        }
        let searched = "no SMS to \(number) with this text sent \(formatTimestamp(window.lowerBound)) to \(formatTimestamp(window.upperBound))"
        if matches.isEmpty {
            if results.count >= lookupLimit {
                return .cannotTell(reason: "Infobip returned its limit of \(lookupLimit) logs for \(number) in the window and none matches; look by hand")
            }
            if window.lowerBound < now.addingTimeInterval(-logsKeptFor) {
                return .cannotTell(reason: "Infobip keeps logs 48 hours and this send is older: its absence proves nothing; look in the web interface's Logs or ask Infobip")
            }
        }
        return LookupMatch.decide(matches, searched: searched, provider: provider)
    }
}
