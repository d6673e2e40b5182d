import GatewayCore

/// A way out for messages. Takes a batch so an adapter can keep many requests in flight (or
/// write a file once); returns one result per message, in order.
public protocol MessageProvider: Sendable {
    /// The configured name (the file name under providers/), recorded in the contact log.
    var name: String { get }
    var channels: Set<Channel> { get }
    /// The longest one request to this provider may take, in seconds.
    var requestTimeout: Double { get }
    func send(_ messages: [OutboundMessage]) async -> [DispatchResult]
    /// Failure codes that mean the recipient unsubscribed at the provider (Twilio 21610): the
    /// gateway records an opt-out for the channel.
    var unsubscribedCodes: Set<Reason> { get }
    /// Failure codes that mean the push token is dead (FCM UNREGISTERED, APNs 410).
    var deadTokenCodes: Set<Reason> { get }
    /// The push service whose device tokens this provider takes (FCM, APNs); nil when it takes
    /// any address it is given (a webhook, the sandbox).
    var pushPlatform: PushPlatform? { get }
    /// Whether messages are better sent together, in one request (Infobip's bulk API): then the
    /// worker hands this provider a batch's share at once and records the answers when all are in.
    /// Otherwise each message is handed over on its own, so its answer is recorded as soon as it arrives.
    var sendsInBulk: Bool { get }
    /// Sends the messages and hands each answer to `answer` (with the message's index) as soon as
    /// it arrives, from any thread, exactly once per message; returns when every message has had
    /// its answer. The worker uses this one. The default sends a bulk provider's messages in one
    /// `send` and answers them together, and any other provider's messages each in a `send` of its
    /// own, all at once; an adapter over `CurlHTTPClient` overrides it to hand the curl thread all
    /// its requests in one go (no task and no wake-up per message).
    func send(_ messages: [OutboundMessage], answer: @escaping @Sendable (Int, DispatchResult) -> Void) async
}

extension MessageProvider {
    public var unsubscribedCodes: Set<Reason> { [] }
    public var deadTokenCodes: Set<Reason> { [] }
    public var pushPlatform: PushPlatform? { nil }
    public var sendsInBulk: Bool { false }

    public func send(_ messages: [OutboundMessage], answer: @escaping @Sendable (Int, DispatchResult) -> Void) async {
        if sendsInBulk {
            let results = await send(messages)
            for index in messages.indices { answer(index, index < results.count ? results[index] : noAnswer) }
            return
        }
        await withTaskGroup(of: Void.self) { group in
            for (index, message) in messages.enumerated() {
                group.addTask { answer(index, await self.send([message]).first ?? self.noAnswer) }
            }
        }
    }

    /// What a message gets when its provider's `send` returned fewer results than messages.
    public var noAnswer: DispatchResult {
        .retryableFailure(code: .notDispatched, message: "\(name) gave no answer for this message", retryAfter: nil)
    }

    /// The address of a job on a channel for this provider: for push, the token of this
    /// provider's push service. nil when the job has none this provider can use.
    public func address(of job: Job, on channel: Channel) -> String? {
        job.address(for: channel, platform: channel == .push ? pushPlatform : nil)
    }
}

extension HTTPClientError {
    /// How a provider adapter reports a transfer that got no HTTP answer: worth retrying, unless the
    /// whole request went out before the connection failed (then it may have been delivered).
    var dispatchResult: DispatchResult {
        switch kind {
        case .connect: .retryableFailure(code: .connectError, message: "could not connect: \(message)", retryAfter: nil)
        case .timeout: .retryableFailure(code: .timeout, message: "out of time before the request went out: \(message)", retryAfter: nil)
        case .possiblyDelivered:
            .possiblyDelivered(code: .possiblyDelivered, message: "no answer after the whole request went out (\(description)): the provider may have taken the message")
        case .other: .retryableFailure(code: .transportError, message: description, retryAfter: nil)
        }
    }
}

extension DispatchResult {
    /// An HTTP answer as `classify` reads it, or what a transfer that got none comes to.
    static func of(_ answer: Result<HTTPResponse, HTTPClientError>, _ classify: (HTTPResponse) -> DispatchResult) -> DispatchResult {
        switch answer {
        case .success(let response): classify(response)
        case .failure(let error): error.dispatchResult
        }
    }
}

extension CurlHTTPClient {
    /// One request per message, all in flight at once; the answers come back in message order.
    func sendEach(_ requests: [HTTPRequest],
                  classify: @escaping @Sendable (Result<HTTPResponse, HTTPClientError>) -> DispatchResult) async -> [DispatchResult] {
        await sendAll(requests).map(classify)
    }

    /// One request per message, all in flight at once; each answer classified and handed to
    /// `answer` as it arrives (on the curl thread).
    func sendEach(_ requests: [HTTPRequest],
                  classify: @escaping @Sendable (Result<HTTPResponse, HTTPClientError>) -> DispatchResult,
                  answer: @escaping @Sendable (Int, DispatchResult) -> Void) async {
        await sendAll(requests) { index, result in answer(index, classify(result)) }
    }
}

/// Form encoding as application/x-www-form-urlencoded specifies it (space as '+').
public enum FormEncoding {
    private static let unreserved: Set<UInt8> = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._*".utf8)

    /// Decodes a form body, keeping the order and every field ('+' is a space).
    public static func decode(_ body: String) -> [(String, String)] {
        body.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func unescape(_ s: Substring) -> String { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            return (unescape(parts[0]), parts.count > 1 ? unescape(parts[1]) : "")
        }
    }

    static func encode(_ fields: [(String, String)]) -> String {
        String(decoding: encodeBytes(fields), as: UTF8.self)
    }

    /// `name=value&...`, escaped, straight into the bytes of a request body.
    static func encodeBytes(_ fields: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(fields.reduce(16) { $0 + $1.0.utf8.count + $1.1.utf8.count + 2 })
        for (index, (name, value)) in fields.enumerated() {
            if index > 0 { out.append(UInt8(ascii: "&")) }
            appendEscaped(name, to: &out)
            out.append(UInt8(ascii: "="))
            appendEscaped(value, to: &out)
        }
        return out
    }

    public static func escape(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 16)
        appendEscaped(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static let upperHex: [UInt8] = Array("0123456789ABCDEF".utf8)

    static func appendEscaped(_ text: String, to out: inout [UInt8]) {
        for byte in text.utf8 {
            if unreservedTable[Int(byte)] {
                out.append(byte)
            } else if byte == UInt8(ascii: " ") {
                out.append(UInt8(ascii: "+"))
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(upperHex[Int(byte >> 4)])
                out.append(upperHex[Int(byte & 0x0F)])
            }
        }
    }

    private static let unreservedTable: [Bool] = (0..<256).map { unreserved.contains(UInt8($0)) }
}
