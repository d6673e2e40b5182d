import Foundation
import Hummingbird
import NIOCore

/// Loopback stand-ins for what providers keep of the messages they took, as `gateway reconcile
/// --ask-providers` reads it: Twilio's message list, Infobip's SMS logs, SendGrid's Email Activity.
/// Each checks the path, the query and the credentials as the provider does, and answers in the
/// provider's documented format.
public final class FakeProviderLogs: @unchecked Sendable {
    // @unchecked: mutable state is behind `lock`.
    public struct Received: Sendable {
        public var path: String
        /// The query string as sent (still encoded), and decoded into fields.
        public var rawQuery: String
        public var query: [String: String]
        public var authorization: String?
    }

    /// A message Twilio has, as its list shows it.
    public struct TwilioMessage: Sendable {
        public var sid: String
        public var to: String
        public var from: String
        public var body: String
        public var status: String
        public var dateCreated: Date
        public init(sid: String, to: String, from: String, body: String, status: String, dateCreated: Date) {
            self.sid = sid
            self.to = to
            self.from = from
            self.body = body
            self.status = status
            self.dateCreated = dateCreated
        }
    }

    public let accountSID: String
    public let authToken: String
    public let infobipKey: String
    public let sendGridKey: String
    private let lock = NSLock()
    private var received: [Received] = []
    private var twilioMessages: [TwilioMessage] = []
    private var infobipBody: (status: Int, json: String) = (200, #"{"results": []}"#)
    private var sendGridBody: (status: Int, json: String) = (200, #"{"messages": []}"#)
    private var pageCap = 1000

    public init(accountSID: String = "AC" + String(repeating: "b2", count: 16), authToken: String = "tok-\(UUID().uuidString)",
                infobipKey: String = "ib-\(UUID().uuidString)", sendGridKey: String = "SG.\(UUID().uuidString)") {
        self.accountSID = accountSID
        self.authToken = authToken
        self.infobipKey = infobipKey
        self.sendGridKey = sendGridKey
    }

    public var requests: [Received] { lock.withLock { received } }
    public func setTwilioMessages(_ messages: [TwilioMessage]) { lock.withLock { twilioMessages = messages } }
    /// The largest page Twilio's list gives, whatever PageSize asks (Twilio's is 1000).
    public func capTwilioPages(at size: Int) { lock.withLock { pageCap = size } }
    /// Infobip's answer to GET /sms/1/logs, as given.
    public func setInfobipLogs(status: Int = 200, _ json: String) { lock.withLock { infobipBody = (status, json) } }
    /// SendGrid's answer to GET /v3/messages, as given.
    public func setSendGridActivity(status: Int = 200, _ json: String) { lock.withLock { sendGridBody = (status, json) } }

    static func json(_ status: Int, _ text: String) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ status: Int, object: Any) -> Response {
        json(status, String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data(), as: UTF8.self))
    }

    func respond(_ request: Request) async throws -> Response {
        let raw = request.uri.query ?? ""
        let query = FakeTwilio.parseForm(raw)
        let path = request.uri.path
        lock.withLock { received.append(Received(path: path, rawQuery: raw, query: query, authorization: request.headers[.authorization])) }
        if path == "/2010-04-01/Accounts/\(accountSID)/Messages.json" { return twilio(request, query) }
        if path == "/sms/1/logs" {
            guard request.headers[.authorization] == "App \(infobipKey)" else {
                return Self.json(401, object: ["requestError": ["serviceException": ["messageId": "UNAUTHORIZED", "text": "Invalid login details"]]])
            }
            let (status, body) = lock.withLock { infobipBody }
            return Self.json(status, body)
        }
        if path == "/v3/messages" {
            guard request.headers[.authorization] == "Bearer \(sendGridKey)" else {
                return Self.json(401, object: ["errors": [["field": NSNull(), "message": "authorization required"]]])
            }
            guard query["query"] != nil else { return Self.json(400, object: ["errors": [["field": "query", "message": "query is required"]]]) }
            let (status, body) = lock.withLock { sendGridBody }
            return Self.json(status, body)
        }
        return Self.json(404, object: ["code": 20404, "message": "The requested resource \(path) was not found", "status": 404])
    }

    /// Twilio's list: Basic auth, `To` required here (the gateway always filters), `From`,
    /// `DateSent>` / `DateSent<` days (inclusive), `PageSize`, `Page`, `PageToken`; newest first.
    func twilio(_ request: Request, _ query: [String: String]) -> Response {
        guard request.headers[.authorization] == "Basic " + Data("\(accountSID):\(authToken)".utf8).base64EncodedString() else {
            return Self.json(401, object: ["code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401])
        }
        func day(_ text: String?) -> String? { text.flatMap { $0.count == 10 ? $0 : nil } }
        guard let to = query["To"], let since = day(query["DateSent>"]), let until = day(query["DateSent<"]) else {
            return Self.json(400, object: ["code": 20001, "message": "To, DateSent>= and DateSent<= are expected here", "status": 400])
        }
        let pageSize = min(Int(query["PageSize"] ?? "50") ?? 50, lock.withLock { pageCap })
        let page = Int(query["Page"] ?? "0") ?? 0
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        let listed = lock.withLock { twilioMessages }.filter { message in
            let sent = formatter.string(from: message.dateCreated)
            return message.to == to && (query["From"] == nil || query["From"] == message.from) && sent >= since && sent <= until
        }.sorted { $0.dateCreated > $1.dateCreated }
        let slice = listed.dropFirst(page * pageSize).prefix(pageSize)
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let messages: [[String: Any]] = slice.map { message in
            ["sid": message.sid, "account_sid": accountSID, "to": message.to, "from": message.from, "body": message.body,
             "status": message.status, "direction": "outbound-api", "num_segments": "1", "api_version": "2010-04-01",
             "date_created": formatter.string(from: message.dateCreated), "date_sent": formatter.string(from: message.dateCreated),
             "date_updated": formatter.string(from: message.dateCreated), "error_code": NSNull(), "error_message": NSNull(),
             "uri": "/2010-04-01/Accounts/\(accountSID)/Messages/\(message.sid).json"]
        }
        let base = "/2010-04-01/Accounts/\(accountSID)/Messages.json"
        let keep = query.filter { ["To", "From", "DateSent>", "DateSent<"].contains($0.key) }.sorted { $0.key < $1.key }
            .map { "\(FakeProviderLogs.escape($0.key))=\(FakeProviderLogs.escape($0.value))" }.joined(separator: "&")
        let more = (page + 1) * pageSize < listed.count
        let object: [String: Any] = [
            "messages": messages, "page": page, "page_size": pageSize, "start": page * pageSize, "end": page * pageSize + messages.count,
            "uri": "\(base)?\(keep)&PageSize=\(pageSize)&Page=\(page)",
            "first_page_uri": "\(base)?\(keep)&PageSize=\(pageSize)&Page=0",
            "previous_page_uri": page > 0 ? "\(base)?\(keep)&PageSize=\(pageSize)&Page=\(page - 1)" : NSNull(),
            "next_page_uri": more ? "\(base)?\(keep)&PageSize=\(pageSize)&Page=\(page + 1)&PageToken=PA\(slice.last?.sid ?? "")" : NSNull(),
        ]
        return Self.json(200, object: object)
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? text
    }

    /// Serves on a free loopback port for the duration of `body`, which gets the base URL.
    public func serve<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.get("/**") { request, _ in try await self.respond(request) }
        return try await LoopbackServer.serve(router, body)
    }
}
