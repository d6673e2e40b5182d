import Foundation
import Hummingbird
import Logging
import NIOCore

/// A loopback stand-in for Twilio's Messages API that checks what Twilio checks: the path
/// `/2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic auth with the Account SID and
/// Auth Token, a form-encoded body with To, Body and From or MessagingServiceSid. It answers as
/// Twilio documents (201 with a message resource; errors as {code, message, more_info, status}),
/// and can be told to answer errors, rate limits or slowly.
public final class FakeTwilio: @unchecked Sendable {
    // @unchecked: all mutable state is behind `lock`.
    public enum Behavior: Sendable {
        case accept
        /// An error answer with Twilio's error code (e.g. 400 / 21211).
        case error(status: Int, code: Int, message: String)
        case rateLimited(retryAfter: Int)
        case serverError
        case slow(seconds: Double)
        /// Answers the first request at once (libcurl waits for its first connection's answer
        /// to learn whether the host multiplexes before opening more), then holds each request
        /// until `count` are being handled at the same moment (then answers them all), or until
        /// `limit` seconds pass (then answers 503): a client that sends one request at a time never
        /// gets past it, however fast or slow the machine is.
        case gate(count: Int, limit: Double)
        /// Holds the request until `releaseHeld()` (then accepts it), or until `limit` seconds pass
        /// (then answers 503): a send whose answer the test decides when to give.
        case hold(limit: Double)
    }

    public struct Received: Sendable {
        public var path: String
        public var authorization: String?
        public var contentType: String?
        public var form: [String: String]
    }

    public let accountSID: String
    public let authToken: String
    private let lock = NSLock()
    private var script: [Behavior] = []
    private var defaultBehavior: Behavior = .accept
    private var received: [Received] = []
    private var counter = 0
    private var inFlight = 0
    private var mostInFlight = 0
    private var holding = 0
    private var releaseCount = 0

    public init(accountSID: String = "AC" + String(repeating: "a1", count: 16), authToken: String = "test-token-\(UUID().uuidString)") {
        self.accountSID = accountSID
        self.authToken = authToken
    }

    /// Answers for the next requests, in order; after them, `default`.
    public func enqueue(_ behaviors: Behavior...) { lock.withLock { script += behaviors } }
    public func setDefault(_ behavior: Behavior) { lock.withLock { defaultBehavior = behavior } }
    public var requests: [Received] { lock.withLock { received } }
    /// The largest number of requests this server was handling at the same moment.
    public var peakInFlight: Int { lock.withLock { mostInFlight } }
    /// Requests being held now (`.hold`).
    public var heldCount: Int { lock.withLock { holding } }
    /// Lets every request held now (and any held later) be accepted.
    public func releaseHeld() { lock.withLock { releaseCount += 1 } }

    private func next() -> Behavior {
        lock.withLock { script.isEmpty ? defaultBehavior : script.removeFirst() }
    }

    private func record(_ r: Received) -> Int {
        lock.withLock {
            received.append(r)
            counter += 1
            return counter
        }
    }

    func respond(_ request: Request) async throws -> Response {
        lock.withLock {
            inFlight += 1
            mostInFlight = max(mostInFlight, inFlight)
        }
        defer { lock.withLock { inFlight -= 1 } }
        let bytes = try await request.body.collect(upTo: 1 << 20)
        let body = String(buffer: bytes)
        let path = request.uri.path
        let authorization = request.headers[.authorization]
        let contentType = request.headers[.contentType]
        let form = Self.parseForm(body)
        let number = record(Received(path: path, authorization: authorization, contentType: contentType, form: form))

        let expectedPath = "/2010-04-01/Accounts/\(accountSID)/Messages.json"
        guard path == expectedPath else {
            return Self.error(404, 20404, "The requested resource \(path) was not found")
        }
        let expectedAuth = "Basic " + Data("\(accountSID):\(authToken)".utf8).base64EncodedString()
        guard authorization == expectedAuth else {
            return Self.error(401, 20003, "Authenticate")
        }
        guard contentType?.hasPrefix("application/x-www-form-urlencoded") == true else {
            return Self.error(400, 20001, "Content-Type must be application/x-www-form-urlencoded")
        }
        guard let to = form["To"] else { return Self.error(400, 21604, "A 'To' phone number is required.") }
        guard form["Body"]?.isEmpty == false else { return Self.error(400, 21602, "Message body is required.") }
        guard form["From"] != nil || form["MessagingServiceSid"] != nil else {
            return Self.error(400, 21603, "A 'From' phone number is required.")
        }
        guard to.hasPrefix("+"), to.dropFirst().allSatisfy(\.isNumber) else {
            return Self.error(400, 21211, "The 'To' number \(to) is not a valid phone number.")
        }
        switch next() {
        case .accept:
            break
        case .error(let status, let code, let message):
            return Self.error(status, code, message)
        case .rateLimited(let retryAfter):
            var response = Self.error(429, 20429, "Too Many Requests")
            response.headers[.retryAfter] = String(retryAfter)
            return response
        case .serverError:
            return Self.error(500, 20500, "Internal Server Error")
        case .slow(let seconds):
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        case .gate(let count, let limit):
            let deadline = Date().addingTimeInterval(limit)
            while number > 1, lock.withLock({ mostInFlight }) < count {
                guard Date() < deadline else { return Self.error(503, 20503, "gate: never \(count) requests at once") }
                try await Task.sleep(for: .milliseconds(5))
            }
        case .hold(let limit):
            let deadline = Date().addingTimeInterval(limit)
            lock.withLock { holding += 1 }
            defer { lock.withLock { holding -= 1 } }
            while lock.withLock({ releaseCount }) == 0 {
                guard Date() < deadline else { return Self.error(503, 20503, "hold: never released") }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        let sid = "SM" + String(format: "%032x", number)
        let resource: [String: Any] = [
            "sid": sid, "account_sid": accountSID, "to": to, "from": form["From"] as Any? ?? NSNull(),
            "messaging_service_sid": form["MessagingServiceSid"] as Any? ?? NSNull(), "body": form["Body"] ?? "",
            "status": form["MessagingServiceSid"] != nil ? "accepted" : "queued", "num_segments": "1",
            "direction": "outbound-api", "api_version": "2010-04-01", "error_code": NSNull(), "error_message": NSNull(),
            "uri": "/2010-04-01/Accounts/\(accountSID)/Messages/\(sid).json",
        ]
        let json = try JSONSerialization.data(withJSONObject: resource)
        return Response(status: .created, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }

    static func error(_ status: Int, _ code: Int, _ message: String) -> Response {
        let object: [String: Any] = ["code": code, "message": message, "more_info": "https://www.twilio.com/docs/errors/\(code)", "status": status]
        let json = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }

    /// application/x-www-form-urlencoded, '+' as space.
    public static func parseForm(_ body: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            result[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return result
    }

    /// Serves on a free loopback port for the duration of `body`, which gets the base URL.
    public func serve<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/**") { request, _ in try await self.respond(request) }
        return try await LoopbackServer.serve(router, body)
    }
}

/// Runs a Hummingbird router on a free loopback port while `body` runs.
public enum LoopbackServer {
    public static func serve<T: Sendable>(_ router: Router<BasicRequestContext>, _ body: @Sendable (String) async throws -> T) async throws -> T {
        let port = PortBox()
        var logger = Logger(label: "fake-server")
        logger.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in port.set(channel.localAddress?.port ?? 0) }, logger: logger)
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        defer { server.cancel() }
        let bound = try await port.wait()
        return try await body("http://127.0.0.1:\(bound)")
    }
}

/// The port a server bound to, handed from its start-up callback to the test.
final class PortBox: @unchecked Sendable {
    // @unchecked: `value` is behind `lock`.
    private let lock = NSLock()
    private var value: Int?

    func set(_ port: Int) { lock.withLock { value = port } }

    func wait() async throws -> Int {
        for _ in 0..<500 {
            if let port = lock.withLock({ value }), port > 0 { return port }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw CancellationError()
    }
}
