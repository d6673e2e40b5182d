import Crypto
import Foundation
import GatewayCore

/// Apple Push Notification service over HTTP/2, with token-based authentication as Apple documents
/// it: `POST /3/device/<device token>` with `authorization: bearer <ES256 JWT>` (header `alg`
/// ES256 and `kid` the key id; claims `iss` the team id and `iat`), `apns-topic` (the app's bundle
/// id), `apns-push-type: alert`, `apns-id`, `apns-priority` and `apns-expiration`. The JWT is signed
/// once and reused for 50 minutes (Apple refuses one older than an hour and throttles a provider
/// that signs too often); a 403 ExpiredProviderToken makes the next send sign a new one.
public struct APNsProvider: MessageProvider {
    public struct Configuration: Sendable {
        /// The 10-character key id of the .p8 signing key.
        public var keyID: String
        /// The 10-character Apple Developer team id.
        public var teamID: String
        /// The app's bundle id.
        public var topic: String
        /// The .p8 file's text (a PKCS#8 P-256 private key).
        public var privateKeyPEM: Secret
        /// https://api.push.apple.com, or https://api.sandbox.push.apple.com for development builds.
        public var baseURL: String
        /// How long APNs may hold a notification for an offline device. Kept short: a reminder
        /// stored for a day could reach the customer in the middle of the night.
        public var timeToLive: Double
        public var timeout: Double
        /// A CA bundle to trust instead of the system's (a staging endpoint, a loopback fake).
        public var caFile: String?

        public init(keyID: String, teamID: String, topic: String, privateKeyPEM: String, baseURL: String = "https://api.push.apple.com",
                    timeToLive: Double = 3600, timeout: Double = 10, caFile: String? = nil) {
            self.keyID = keyID
            self.teamID = teamID
            self.topic = topic
            self.privateKeyPEM = Secret(privateKeyPEM)
            self.baseURL = baseURL
            self.timeToLive = timeToLive
            self.timeout = timeout
            self.caFile = caFile
        }
    }

    public let name: String
    public let channels: Set<Channel> = [.push]
    public let configuration: Configuration
    /// The signing key's raw bytes (swift-crypto's key type is not Sendable).
    private let keyBytes: Data
    private let client: CurlHTTPClient
    private let clock: @Sendable () -> Date
    private let tokens: TokenCache
    public var requestTimeout: Double { configuration.timeout * 2 }
    public var pushPlatform: PushPlatform? { .apns }
    /// 410: the token is no longer active for the topic (the app was removed).
    public var deadTokenCodes: Set<Reason> { [.apnsUnregistered] }

    /// How long one provider token is used before a new one is signed.
    public static let tokenLifetime: TimeInterval = 50 * 60
    /// APNs refuses a payload larger than this for an alert.
    public static let maximumPayload = 4096

    public init(name: String, configuration: Configuration, client: CurlHTTPClient, clock: @escaping @Sendable () -> Date = Date.init) throws {
        // Fail at start-up, not at the first push, when the key is unusable.
        keyBytes = try P256.Signing.PrivateKey(pemRepresentation: configuration.privateKeyPEM.value).rawRepresentation
        self.name = name
        self.configuration = configuration
        self.client = client
        self.clock = clock
        self.tokens = TokenCache(clock: clock)
    }

    /// The provider token: `base64url(header).base64url(claims).base64url(r || s)`.
    static func providerToken(keyBytes: Data, keyID: String, teamID: String, now: Date) throws -> String {
        let key = try P256.Signing.PrivateKey(rawRepresentation: keyBytes)
        let header: JSONValue = .object(["alg": .string("ES256"), "kid": .string(keyID)])
        let claims: JSONValue = .object(["iss": .string(teamID), "iat": .number(Double(Int(now.timeIntervalSince1970)))])
        let signingInput = Base64URL.encode(Array(header.serialized.utf8)) + "." + Base64URL.encode(Array(claims.serialized.utf8))
        let signature = try key.signature(for: Data(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature.rawRepresentation)
    }

    /// A stable apns-id per job attempt (a name-based UUID), so APNs' answer and the contact log
    /// name the same notification.
    static func notificationID(_ message: OutboundMessage) -> String {
        var bytes = Array(SHA256.hash(data: Data("\(message.jobID)/\(message.attempt)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80   // version 8: custom
        bytes[8] = (bytes[8] & 0x3F) | 0x80   // RFC 9562 variant
        let uuid = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                               bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        return uuid.uuidString.lowercased()
    }

    /// The same job collapses to one notification on the device, so a retry after a lost answer
    /// cannot show the customer the reminder twice (apns-collapse-id: at most 64 bytes).
    static func collapseID(_ message: OutboundMessage) -> String {
        message.jobID.utf8.count <= 64 ? message.jobID
            : SHA256.hash(data: Data(message.jobID.utf8)).hexString
    }

    static func isDeviceToken(_ token: String) -> Bool {
        !token.isEmpty && token.utf8.count <= 200 && token.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) || (65...70).contains($0) }
    }

    enum Prepared {
        case request(HTTPRequest)
        /// Refused before sending, with the reason.
        case refused(DispatchResult)
    }

    func request(for message: OutboundMessage, token: String, now: Date) -> Prepared {
        guard Self.isDeviceToken(message.to) else {
            return .refused(.permanentFailure(code: .apnsBadDeviceToken, message: "an APNs device token is hexadecimal; \"\(message.to.prefix(20))…\" is not one"))
        }
        var alert: [String: JSONValue] = ["body": .string(message.body)]
        if let title = message.subject { alert["title"] = .string(title) }
        let payload: JSONValue = .object([
            "aps": .object(["alert": .object(alert), "sound": .string("default")]),
            "job_id": .string(message.jobID),
        ])
        let body = Array(payload.serialized.utf8)
        guard body.count <= Self.maximumPayload else {
            return .refused(.permanentFailure(code: .apnsPayloadTooLarge, message: "the notification is \(body.count) bytes; APNs takes at most \(Self.maximumPayload)"))
        }
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return .request(HTTPRequest(method: "POST", url: "\(base)/3/device/\(message.to.lowercased())", headers: [
            ("authorization", "bearer \(token)"),
            ("apns-topic", configuration.topic),
            ("apns-push-type", "alert"),
            ("apns-id", Self.notificationID(message)),
            ("apns-collapse-id", Self.collapseID(message)),
            ("apns-priority", "10"),
            ("apns-expiration", "\(Int(now.timeIntervalSince1970 + configuration.timeToLive))"),
            ("content-type", "application/json"),
        ], body: body, timeout: configuration.timeout, caFile: configuration.caFile))
    }

    public func send(_ messages: [OutboundMessage]) async -> [DispatchResult] {
        let keyBytes = self.keyBytes
        let configuration = self.configuration
        let token: String
        do throws(HTTPClientError) {
            token = try await tokens.token { now throws(HTTPClientError) in
                do {
                    return (try Self.providerToken(keyBytes: keyBytes, keyID: configuration.keyID, teamID: configuration.teamID, now: now),
                            now.addingTimeInterval(Self.tokenLifetime))
                } catch {
                    throw HTTPClientError(kind: .other, curlCode: -1, message: "cannot sign the APNs provider token: \(error)")
                }
            }
        } catch {
            return messages.map { _ in .retryableFailure(code: .apnsAuth, message: error.message, retryAfter: nil) }
        }
        let now = clock()
        var results = [DispatchResult?](repeating: nil, count: messages.count)
        var requests: [(Int, HTTPRequest)] = []
        for (index, message) in messages.enumerated() {
            switch request(for: message, token: token, now: now) {
            case .request(let request): requests.append((index, request))
            case .refused(let refusal): results[index] = refusal
            }
        }
        let answers = await client.sendEach(requests.map(\.1)) { answer in
            switch answer {
            case .success(let response): Self.classify(response)
            case .failure(let error): error.dispatchResult
            }
        }
        for ((index, _), answer) in zip(requests, answers) {
            results[index] = answer
            if case .retryableFailure(let code, _, _) = answer, code == .apnsExpiredProviderToken { await tokens.invalidate(token) }
        }
        return results.map { $0! }
    }

    /// As Apple documents the answers: 200 sent; 410 the token is no longer active; 403 a provider
    /// token problem (ours, so retried with a new token); 429 and 5xx retry; other 4xx are permanent.
    static func classify(_ response: HTTPResponse) -> DispatchResult {
        if response.status == 200 {
            return .accepted(messageID: response.header("apns-id") ?? "", status: nil)
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        let reason = (json?["reason"] as? String).flatMap { $0.allSatisfy { $0.isLetter } ? $0 : nil } ?? "http_\(response.status)"
        let message = "APNs answered \(response.status) \(reason)"
        switch response.status {
        case 410:
            return .permanentFailure(code: .apnsUnregistered, message: message)
        case 403, 429, 500..<600:
            return .retryableFailure(code: .provider("apns", reason), message: message, retryAfter: response.retryAfter)
        default:
            return .permanentFailure(code: .provider("apns", reason), message: message)
        }
    }
}

extension APNsProvider.Configuration {
    /// A `type: apns` file: `key_id`, `team_id`, `topic` (the bundle id), `private_key_file` (the
    /// .p8), and optionally `environment` (production or sandbox), `base_url`, `ca_file`,
    /// `ttl_seconds`, `timeout_seconds`. The key is checked now, not at the first push.
    public init(settings: ProviderSettings) throws {
        let keyID = try settings.required("key_id")
        let teamID = try settings.required("team_id")
        for (field, value) in [("key_id", keyID), ("team_id", teamID)] where value.count != 10 || !value.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) }) {
            throw settings.error("\(field) must be Apple's 10-character id (capital letters and digits), got \"\(value)\"")
        }
        let topic = try settings.required("topic")
        guard topic.contains("."), !topic.contains(" ") else {
            throw settings.error("topic must be the app's bundle id, like com.bank.app, got \"\(topic)\"")
        }
        let (keyPath, keyData) = try settings.contents(ofFile: "private_key_file")
        let environment = settings.take("environment") ?? "production"
        let defaultBase: String
        switch environment {
        case "production": defaultBase = "https://api.push.apple.com"
        case "sandbox": defaultBase = "https://api.sandbox.push.apple.com"
        default: throw settings.error("environment must be production or sandbox (development builds of the app), got \"\(environment)\"")
        }
        let base = try settings.baseURL(default: defaultBase)
        guard base.hasPrefix("https://") else {
            throw settings.error("base_url must start with https://: APNs speaks only HTTP/2, which the gateway negotiates over TLS")
        }
        let ca = try settings.existingFile("ca_file")
        let ttlText = settings.take("ttl_seconds") ?? "3600"
        guard let ttl = Double(ttlText), ttl >= 0, ttl <= 86_400 else {
            throw settings.error("ttl_seconds must be a number of seconds from 0 to 86400, got \"\(ttlText)\"")
        }
        let pem = String(decoding: keyData, as: UTF8.self)
        self.init(keyID: keyID, teamID: teamID, topic: topic, privateKeyPEM: pem, baseURL: base, timeToLive: ttl,
                  timeout: try settings.timeout(), caFile: ca)
        do { _ = try P256.Signing.PrivateKey(pemRepresentation: pem) } catch {
            throw settings.error("\(keyPath) is not an APNs signing key (the .p8 file, a P-256 private key): \(error)")
        }
    }
}

extension APNsProvider: ConfigurableProvider {
    public static func configured(_ settings: ProviderSettings, client: CurlHTTPClient) throws -> ConfiguredProvider {
        ConfiguredProvider(try APNsProvider(name: settings.name, configuration: try Configuration(settings: settings), client: client))
    }
}
