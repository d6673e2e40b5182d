import Foundation
import GatewayCore

/// Plain SMTP through libcurl: `smtp://` with STARTTLS (required by default) or `smtps://`, AUTH
/// when a user is configured, and a MIME multipart/alternative message (text and HTML, UTF-8,
/// base64) with RFC 2047 encoded subjects and `List-Unsubscribe` headers.
public struct SMTPProvider: MessageProvider {
    public struct Configuration: Sendable, Equatable {
        /// smtp://host:587 or smtps://host:465
        public var url: String
        public var fromEmail: String
        public var fromName: String?
        public var username: String?
        public var password: Secret?
        /// smtp:// only: refuse to send without STARTTLS (default true).
        public var requireTLS: Bool
        public var caFile: String?
        public var listUnsubscribe: String?
        public var timeout: Double

        public init(url: String, fromEmail: String, fromName: String? = nil, username: String? = nil, password: String? = nil,
                    requireTLS: Bool = true, caFile: String? = nil, listUnsubscribe: String? = nil, timeout: Double = 30) {
            self.url = url
            self.fromEmail = fromEmail
            self.fromName = fromName
            self.username = username
            self.password = password.map { Secret($0) }
            self.requireTLS = requireTLS
            self.caFile = caFile
            self.listUnsubscribe = listUnsubscribe
            self.timeout = timeout
        }
    }

    public let name: String
    public let channels: Set<Channel> = [.email]
    public let configuration: Configuration
    private let client: CurlHTTPClient
    private let clock: @Sendable () -> Date
    public var requestTimeout: Double { configuration.timeout }

    public init(name: String, configuration: Configuration, client: CurlHTTPClient, clock: @escaping @Sendable () -> Date = Date.init) {
        self.name = name
        self.configuration = configuration
        self.client = client
        self.clock = clock
    }

    var domain: String { String(configuration.fromEmail.split(separator: "@").last ?? "gateway.local") }

    /// The whole message as it goes on the wire (CRLF line ends).
    func mime(_ message: OutboundMessage, messageID: String, boundary: String) -> String {
        var headers: [String] = []
        let from = configuration.fromName.map { "\(MIME.encodeWord($0)) <\(configuration.fromEmail)>" } ?? "<\(configuration.fromEmail)>"
        headers.append("From: \(from)")
        headers.append("To: <\(message.to)>")
        headers.append("Subject: \(MIME.encodeWord(message.subject ?? ""))")
        headers.append("Date: \(MIME.date(clock()))")
        headers.append("Message-ID: <\(messageID)>")
        headers.append("MIME-Version: 1.0")
        if let unsubscribe = configuration.listUnsubscribe {
            headers.append("List-Unsubscribe: \(unsubscribe)")
            headers.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
        }
        headers.append("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
        var lines = headers + [""]
        for (type, content) in [("text/plain", message.body), ("text/html", message.html)] {
            guard let content else { continue }
            lines += ["--\(boundary)", "Content-Type: \(type); charset=UTF-8", "Content-Transfer-Encoding: base64", ""]
            lines += MIME.base64Lines(Data(content.utf8))
        }
        lines.append("--\(boundary)--")
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    public func send(_ messages: [OutboundMessage]) async -> [DispatchResult] {
        let envelopes = messages.map { message -> (id: String, request: HTTPRequest) in
            let messageID = "\(message.jobID.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.map(String.init).joined()).\(message.attempt).\(UUID().uuidString.prefix(8))@\(domain)"
            let body = mime(message, messageID: messageID, boundary: "gw-\(UUID().uuidString)")
            let auth = configuration.username.map { (user: $0, password: configuration.password?.value ?? "") }
            return (messageID, HTTPRequest(method: "POST", url: configuration.url, body: Array(body.utf8), basicAuth: auth, timeout: configuration.timeout,
                                           mail: MailEnvelope(from: configuration.fromEmail, recipients: [message.to],
                                                              requireTLS: configuration.requireTLS && configuration.url.hasPrefix("smtp://")),
                                           caFile: configuration.caFile))
        }
        let answers = await client.sendEach(envelopes.map(\.request)) { answer in
            switch answer {
            case .success: .accepted(messageID: "", status: "250")
            case .failure(let error): Self.classify(error)
            }
        }
        return zip(envelopes, answers).map { envelope, answer in
            if case .accepted(_, let status) = answer { return .accepted(messageID: envelope.id, status: status) }
            return answer
        }
    }

    /// A 5xx reply (mailbox unknown, relay refused) or refused credentials: permanent. 4xx (greylisting,
    /// mailbox busy), timeouts and connection errors: retry.
    static func classify(_ error: HTTPClientError) -> DispatchResult {
        let reply = error.responseCode
        if error.curlCode == 67 { return .permanentFailure(code: .smtpAuth, message: "the SMTP server refused the credentials (\(error.message))") }
        if (500..<600).contains(reply) { return .permanentFailure(code: .provider("smtp", String(reply)), message: "the SMTP server answered \(reply): \(error.message)") }
        if (400..<500).contains(reply) { return .retryableFailure(code: .provider("smtp", String(reply)), message: "the SMTP server answered \(reply): \(error.message)", retryAfter: nil) }
        return error.dispatchResult
    }
}

enum MIME {
    /// RFC 2047 encoded-words for non-ASCII (or control-bearing) text; plain ASCII is left as it is.
    /// CR and LF can never reach a header: they would let a template inject headers.
    static func encodeWord(_ text: String) -> String {
        let clean = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if clean.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0 != "=" && $0 != "?" }) { return clean }
        // Each encoded-word at most 75 characters: split the UTF-8 bytes on character boundaries.
        var words: [String] = []
        var chunk = Data()
        for character in clean {
            let bytes = Data(String(character).utf8)
            if (chunk.count + bytes.count + 2) / 3 * 4 > 60 {
                words.append("=?UTF-8?B?\(chunk.base64EncodedString())?=")
                chunk = Data()
            }
            chunk.append(bytes)
        }
        if !chunk.isEmpty || words.isEmpty { words.append("=?UTF-8?B?\(chunk.base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    static func base64Lines(_ data: Data) -> [String] {
        let encoded = data.base64EncodedString()
        return stride(from: 0, to: encoded.count, by: 76).map { start in
            let from = encoded.index(encoded.startIndex, offsetBy: start)
            let to = encoded.index(from, offsetBy: min(76, encoded.count - start))
            return String(encoded[from..<to])
        }
    }

    static func date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}

extension SMTPProvider.Configuration {
    /// A `type: smtp` file: `url` (smtp:// or smtps://), `from_email`, and optionally `from_name`,
    /// `username` with `password`, `require_starttls`, `ca_file`, `list_unsubscribe`, `timeout_seconds`.
    public init(settings: ProviderSettings) throws {
        let url = try settings.required("url")
        guard url.hasPrefix("smtp://") || url.hasPrefix("smtps://") else {
            throw settings.error("url must be smtp://host:587 (STARTTLS) or smtps://host:465, got \"\(LogMasking.url(url))\"")
        }
        let from = try settings.required("from_email")
        guard JobDecoder.isEmailAddress(from) else { throw settings.error("from_email is not an e-mail address: \"\(from)\"") }
        let starttls = try settings.flag("require_starttls", default: true)
        let ca = try settings.existingFile("ca_file")
        let user = settings.take("username")
        let password = settings.take("password")
        if (user == nil) != (password == nil) { throw settings.error("give both username and password (or neither)") }
        self.init(url: url, fromEmail: from, fromName: settings.take("from_name"), username: user, password: password, requireTLS: starttls,
                  caFile: ca, listUnsubscribe: settings.take("list_unsubscribe"), timeout: try settings.timeout())
    }
}

extension SMTPProvider: ConfigurableProvider {
    public static func configured(_ settings: ProviderSettings, client: CurlHTTPClient) throws -> ConfiguredProvider {
        ConfiguredProvider(SMTPProvider(name: settings.name, configuration: try Configuration(settings: settings), client: client))
    }
}
