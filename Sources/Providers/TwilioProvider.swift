import Foundation
import GatewayCore

/// Twilio's Programmable Messaging API, as documented: a form-encoded POST to
/// `/2010-04-01/Accounts/{AccountSid}/Messages.json` with HTTP Basic auth (Account SID : Auth Token).
public struct TwilioProvider: MessageProvider {
    public struct Configuration: Sendable, Equatable {
        public var accountSID: String
        public var authToken: String
        /// Exactly one of `from` and `messagingServiceSID`.
        public var from: String?
        public var messagingServiceSID: String?
        public var baseURL: String
        public var statusCallback: String?
        public var timeout: Double

        public init(accountSID: String, authToken: String, from: String? = nil, messagingServiceSID: String? = nil,
                    baseURL: String = "https://api.twilio.com", statusCallback: String? = nil, timeout: Double = 10) {
            self.accountSID = accountSID
            self.authToken = authToken
            self.from = from
            self.messagingServiceSID = messagingServiceSID
            self.baseURL = baseURL
            self.statusCallback = statusCallback
            self.timeout = timeout
        }
    }

    public let name: String
    public let channels: Set<Channel> = [.sms]
    public let configuration: Configuration
    private let client: CurlHTTPClient
    public var requestTimeout: Double { configuration.timeout }
    /// 21610: "Attempt to send to unsubscribed recipient" (the number replied STOP to this sender).
    public var unsubscribedCodes: Set<String> { ["twilio_21610"] }

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
            basicAuth: (configuration.accountSID, configuration.authToken),
            timeout: configuration.timeout)
    }

    public func send(_ messages: [OutboundMessage]) async -> [DispatchResult] {
        await client.sendEach(messages.map(request(for:))) { answer in
            switch answer {
            case .success(let response): Self.classify(response)
            case .failure(let error): error.dispatchResult
            }
        }
    }

    /// Twilio's answer → outcome. 2xx with a sid: accepted. 429 and 5xx: retry (honouring
    /// Retry-After). Other 4xx: permanent, with Twilio's error code (e.g. 21211 invalid number,
    /// 21610 recipient unsubscribed, 20003 bad credentials).
    static func classify(_ response: HTTPResponse) -> DispatchResult {
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        switch response.status {
        case 200..<300:
            guard let sid = json?["sid"] as? String, !sid.isEmpty else {
                // Twilio took something but did not say what: never resend, or the customer may get it twice.
                return .permanentFailure(code: "twilio_no_sid", message: "Twilio answered \(response.status) without a message sid; not retried to avoid a duplicate")
            }
            return .accepted(messageID: sid, status: json?["status"] as? String)
        case 429, 500..<600:
            let retryAfter = response.retryAfter
            let detail = (json?["message"] as? String).map { ": \($0)" } ?? ""
            return .retryableFailure(code: "http_\(response.status)", message: "Twilio answered \(response.status)\(detail)", retryAfter: retryAfter)
        default:
            let code = (json?["code"] as? Int).map { "twilio_\($0)" } ?? "http_\(response.status)"
            let text = json?["message"] as? String ?? String(decoding: response.body.prefix(300), as: UTF8.self)
            return .permanentFailure(code: code, message: "Twilio answered \(response.status): \(text)")
        }
    }
}
