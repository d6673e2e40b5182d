import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdHTTP2
import Logging
import NIOCore
import Providers

/// A loopback APNs: HTTP/2 over TLS (ALPN h2, as api.push.apple.com), `POST /3/device/<token>`.
/// It checks what Apple checks: the provider token's ES256 signature with the key's public half, its
/// `kid`, `iss` and age; `apns-topic`, `apns-push-type`, `apns-id`, `apns-priority`,
/// `apns-expiration`, and the JSON payload. It answers with Apple's status codes and reasons.
/// Tokens starting with `dead` are unregistered (410), with `5003` unavailable (503).
public final class FakeAPNs: @unchecked Sendable {
    // @unchecked: mutable state is guarded by `lock`.
    public let key = P256.Signing.PrivateKey()
    public let keyID = "KEY1234567"
    public let teamID = "TEAM123456"
    public let topic = "com.bank.app"
    public let certificate: TestCertificate
    /// The fake's idea of now (for the provider token's age); nil: the real time.
    public let clock: MovableClock?
    private let lock = NSLock()
    private var received: [Received] = []
    private var expired: Set<String> = []

    public struct Received: @unchecked Sendable {
        // @unchecked: `payload` is a JSON object, only read.
        public var token: String
        public var headers: [String: String]
        public var payload: [String: Any]
        public var providerToken: String
    }

    public init(clock: MovableClock? = nil) throws {
        self.clock = clock
        certificate = try TestCertificate()
    }

    public var requests: [Received] { lock.withLock { received } }
    /// APNs will answer 403 ExpiredProviderToken to this provider token from now on.
    public func expire(_ providerToken: String) { lock.withLock { _ = expired.insert(providerToken) } }

    public func configuration(_ base: String) -> APNsProvider.Configuration {
        APNsProvider.Configuration(keyID: keyID, teamID: teamID, topic: topic, privateKeyPEM: key.pemRepresentation,
                                   baseURL: base, timeToLive: 600, timeout: 120, caFile: certificate.cert)  // a safety net: a busy CI machine can stall for seconds
    }

    static func reason(_ status: Int, _ reason: String) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: "{\"reason\":\"\(reason)\"}")))
    }

    func respond(_ request: Request, token: String) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 16)
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { request.headers[$0] } }
        // The provider token.
        guard let authorization = header("authorization"), authorization.hasPrefix("bearer ") else {
            return Self.reason(403, "MissingProviderToken")
        }
        let jwt = String(authorization.dropFirst("bearer ".count))
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let signature = Base64URL.decode(parts[2]),
              let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature),
              key.publicKey.isValidSignature(ecdsa, for: Data((parts[0] + "." + parts[1]).utf8)),
              let jwtHeader = Base64URL.decode(parts[0]).flatMap({ try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }),
              let claims = Base64URL.decode(parts[1]).flatMap({ try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }),
              jwtHeader["alg"] as? String == "ES256", jwtHeader["kid"] as? String == keyID,
              claims["iss"] as? String == teamID, let iat = claims["iat"] as? Int else {
            return Self.reason(403, "InvalidProviderToken")
        }
        let now = clock?.current ?? Date()
        let age = now.timeIntervalSince1970 - Double(iat)
        if age > 3600 || lock.withLock({ expired.contains(jwt) }) { return Self.reason(403, "ExpiredProviderToken") }
        // The headers.
        guard header("apns-topic") == topic else { return Self.reason(400, header("apns-topic") == nil ? "MissingTopic" : "TopicDisallowed") }
        guard header("apns-push-type") == "alert" else { return Self.reason(400, "InvalidPushType") }
        guard let id = header("apns-id"), UUID(uuidString: id) != nil else { return Self.reason(400, "BadMessageId") }
        guard let priority = header("apns-priority"), ["5", "10"].contains(priority) else { return Self.reason(400, "BadPriority") }
        guard let expiration = header("apns-expiration").flatMap(Int.init), expiration >= 0 else { return Self.reason(400, "BadExpirationDate") }
        if let collapse = header("apns-collapse-id"), collapse.utf8.count > 64 { return Self.reason(400, "BadCollapseId") }
        // The payload.
        guard body.readableBytes <= 4096 else { return Self.reason(413, "PayloadTooLarge") }
        guard let payload = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
              let aps = payload["aps"] as? [String: Any], aps["alert"] != nil else { return Self.reason(400, "PayloadEmpty") }
        guard token.count >= 64, token.allSatisfy(\.isHexDigit) else { return Self.reason(400, "BadDeviceToken") }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        lock.withLock { received.append(Received(token: token, headers: headers, payload: payload, providerToken: jwt)) }
        if token.hasPrefix("dead") {
            return Response(status: .gone, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: "{\"reason\":\"Unregistered\",\"timestamp\":\(Int(now.timeIntervalSince1970 * 1000))}")))
        }
        if token.hasPrefix("5003") { return Self.reason(503, "ServiceUnavailable") }
        return Response(status: .ok, headers: [HTTPField.Name("apns-id")!: id])
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/3/device/:token") { request, context in
            try await self.respond(request, token: context.parameters.get("token") ?? "")
        }
        return router
    }

    /// Serves HTTP/2 over TLS on a free loopback port while `body` runs; `body` gets the https base URL.
    public func serve<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let port = PortBox()
        var logger = Logger(label: "fake-apns")
        logger.logLevel = .critical
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate.cert).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: certificate.key, format: .pem)))
        let app = Application(router: router(), server: try .http2Upgrade(tlsConfiguration: tls),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in port.set(channel.localAddress?.port ?? 0) }, logger: logger)
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        defer { server.cancel() }
        let bound = try await port.wait()
        return try await body("https://127.0.0.1:\(bound)")
    }
}
