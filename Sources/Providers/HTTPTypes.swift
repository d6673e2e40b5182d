import Foundation

/// An HTTP request for the provider client. Bodies are bytes; headers keep their order.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// HTTP Basic credentials, sent by libcurl (never logged).
    public var basicAuth: (user: String, password: String)?
    public var timeout: Double
    public var connectTimeout: Double
    /// Set for an SMTP transfer (smtp:// or smtps:// URL): `body` is the whole message, uploaded.
    public var mail: MailEnvelope?
    /// A CA bundle to trust for TLS (a private CA); nil: the system's.
    public var caFile: String?

    public init(method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8] = [],
                basicAuth: (user: String, password: String)? = nil, timeout: Double = 10, connectTimeout: Double = 5,
                mail: MailEnvelope? = nil, caFile: String? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.basicAuth = basicAuth
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.mail = mail
        self.caFile = caFile
    }
}

/// The SMTP envelope: who the message is from and to, and whether STARTTLS is required.
public struct MailEnvelope: Sendable, Equatable {
    public var from: String
    public var recipients: [String]
    /// smtp:// only: refuse to send unless the server upgrades the connection with STARTTLS.
    public var requireTLS: Bool

    public init(from: String, recipients: [String], requireTLS: Bool) {
        self.from = from
        self.recipients = recipients
        self.requireTLS = requireTLS
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lower-cased.
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// Connections libcurl had to open for this request: 0 when it reused a kept-alive one.
    public var newConnections: Int = 0
    /// The HTTP version the answer came over: "1.1", "2" or "3".
    public var httpVersion: String = "1.1"

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.last { $0.0 == lower }?.1
    }

    /// How long the server asked to wait before the next request (Retry-After, RFC 9110 10.2.3),
    /// in seconds: a whole number of seconds, or an HTTP date counted from the answer's own Date
    /// header (the provider's clock, so a skewed local clock does not matter; without one, from
    /// now). nil when the header is absent or is neither (`inf`, `-5`, `1.5`, a malformed date).
    public var retryAfter: Double? {
        guard let value = header("retry-after")?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) { return Double(value) }
        guard let until = Self.httpDate(value) else { return nil }
        return max(0, until.timeIntervalSince(header("date").flatMap(Self.httpDate) ?? Date()))
    }

    /// An HTTP date in any of the three forms a recipient must accept (RFC 9110 5.6.7):
    /// "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994".
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        let collapsed = text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        for format in ["EEE, dd MMM yyyy HH:mm:ss 'GMT'", "EEEE, dd-MMM-yy HH:mm:ss 'GMT'", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: collapsed) { return date }
        }
        return nil
    }
}

/// A transfer that did not produce an HTTP response.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// No connection could be made: the request was certainly not received.
        case connect
        /// The time limit passed before the whole request went out: it was not received whole.
        case timeout
        /// The request went out whole and no complete answer came (the connection closed or reset,
        /// libcurl would have had to send it again, or the time limit passed): the server may have
        /// acted on it. The client never sends a request twice within one call.
        case possiblyDelivered
        /// Anything else (TLS, protocol, shutdown...).
        case other
    }

    public var kind: Kind
    public var curlCode: Int
    public var message: String
    /// The server's last reply code when the protocol has one (an SMTP 550, say); 0 when none.
    public var responseCode: Int = 0
    public var description: String { "\(message) (curl \(curlCode))" }
}
