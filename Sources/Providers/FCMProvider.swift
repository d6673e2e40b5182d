import _CryptoExtras
import Crypto
import Foundation
import GatewayCore

/// Firebase Cloud Messaging HTTP v1, as documented: a service account's RS256-signed JWT is
/// exchanged at its `token_uri` for an OAuth2 access token (cached until a minute before it
/// expires, one exchange however many sends wait for it), then
/// `POST /v1/projects/{project_id}/messages:send` with `Authorization: Bearer <token>`.
public struct FCMProvider: MessageProvider {
    /// A project's service account, and where and how long to send.
    public struct Configuration: Sendable, Equatable {
        public var account: ServiceAccount
        public var baseURL: String
        public var timeout: Double

        public init(account: ServiceAccount, baseURL: String = "https://fcm.googleapis.com", timeout: Double = 10) {
            self.account = account
            self.baseURL = baseURL
            self.timeout = timeout
        }
    }

    /// The fields of a service-account JSON file that matter here.
    public struct ServiceAccount: Sendable, Equatable, Decodable {
        public var project_id: String
        public var private_key_id: String?
        public var private_key: Secret
        public var client_email: String
        public var token_uri: String

        public init(project_id: String, private_key_id: String?, private_key: String, client_email: String, token_uri: String) {
            self.project_id = project_id
            self.private_key_id = private_key_id
            self.private_key = Secret(private_key)
            self.client_email = client_email
            self.token_uri = token_uri
        }
    }

    public let name: String
    public let channels: Set<Channel> = [.push]
    public let account: ServiceAccount
    public let baseURL: String
    public let timeout: Double
    private let client: CurlHTTPClient
    private let tokens: TokenCache
    public var requestTimeout: Double { timeout * 2 }
    public var deadTokenCodes: Set<Reason> { [.fcmUnregistered] }
    public var pushPlatform: PushPlatform? { .fcm }

    public init(name: String, account: ServiceAccount, baseURL: String = "https://fcm.googleapis.com", timeout: Double = 10,
                client: CurlHTTPClient, clock: @escaping @Sendable () -> Date = Date.init) throws {
        // Fail at start-up, not at the first push, when the key is unusable.
        _ = try _RSA.Signing.PrivateKey(pemRepresentation: account.private_key.value)
        self.name = name
        self.account = account
        self.baseURL = baseURL
        self.timeout = timeout
        self.client = client
        self.tokens = TokenCache(clock: clock)
    }

    static let scope = "https://www.googleapis.com/auth/firebase.messaging"

    /// The signed assertion for the token exchange.
    static func assertion(account: ServiceAccount, now: Date) throws -> String {
        var header: [String: JSONValue] = ["alg": .string("RS256"), "typ": .string("JWT")]
        if let kid = account.private_key_id { header["kid"] = .string(kid) }
        let issued = Int(now.timeIntervalSince1970)
        let claims: [String: JSONValue] = [
            "iss": .string(account.client_email), "scope": .string(scope), "aud": .string(account.token_uri),
            "iat": .number(Double(issued)), "exp": .number(Double(issued + 3600)),
        ]
        let signingInput = Base64URL.encode(Array(JSONValue.object(header).serialized.utf8)) + "." + Base64URL.encode(Array(JSONValue.object(claims).serialized.utf8))
        let key = try _RSA.Signing.PrivateKey(pemRepresentation: account.private_key.value)
        let signature = try key.signature(for: Data(signingInput.utf8), padding: .insecurePKCS1v1_5)
        return signingInput + "." + Base64URL.encode(signature.rawRepresentation)
    }

    /// An access token, from the cache or a new exchange.
    func accessToken() async throws(HTTPClientError) -> String {
        let account = self.account
        let client = self.client
        let timeout = self.timeout
        return try await tokens.token { now throws(HTTPClientError) in
            let assertion: String
            do { assertion = try Self.assertion(account: account, now: now) } catch {
                throw HTTPClientError(kind: .other, curlCode: -1, message: "cannot sign the FCM assertion: \(error)")
            }
            let body = FormEncoding.encode([("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion)])
            let response = try await client.send(HTTPRequest(method: "POST", url: account.token_uri,
                                                             headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                                             body: Array(body.utf8), timeout: timeout))
            let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
            guard response.status == 200, let token = json?["access_token"] as? String else {
                throw HTTPClientError(kind: .other, curlCode: -1, message: "token exchange at \(account.token_uri) answered \(response.status): \(json?["error_description"] ?? json?["error"] ?? "")")
            }
            let lifetime = (json?["expires_in"] as? Double) ?? 3600
            return (token, now.addingTimeInterval(lifetime - 60))
        }
    }

    public func send(_ messages: [OutboundMessage]) async -> [DispatchResult] {
        let token: String
        do throws(HTTPClientError) {
            token = try await accessToken()
        } catch {
            return messages.map { _ in .retryableFailure(code: .fcmAuth, message: error.message, retryAfter: nil) }
        }
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        let url = "\(base)/v1/projects/\(account.project_id)/messages:send"
        let requests = messages.map { message in
            let payload: JSONValue = .object(["message": .object([
                "token": .string(message.to),
                "notification": .object(["title": .string(message.subject ?? ""), "body": .string(message.body)]),
                "data": .object(["job_id": .string(message.jobID)]),
            ])])
            return HTTPRequest(method: "POST", url: url, headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                               body: Array(payload.serialized.utf8), timeout: timeout)
        }
        return await client.sendEach(requests) { answer in
            switch answer {
            case .success(let response): Self.classify(response)
            case .failure(let error): error.dispatchResult
            }
        }
    }

    /// 200 with `name`: accepted. UNREGISTERED (the app was uninstalled, the token is dead) and other
    /// 4xx: permanent. 429, 5xx, UNAVAILABLE, INTERNAL: retry.
    static func classify(_ response: HTTPResponse) -> DispatchResult {
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        if response.status == 200, let name = json?["name"] as? String { return .accepted(messageID: name, status: nil) }
        let error = json?["error"] as? [String: Any]
        let details = error?["details"] as? [[String: Any]] ?? []
        let fcmCode = details.compactMap { $0["errorCode"] as? String }.first ?? (error?["status"] as? String) ?? "http_\(response.status)"
        let message = "FCM answered \(response.status) \(fcmCode)" + ((error?["message"] as? String).map { ": \($0)" } ?? "")
        switch response.status {
        case 429, 500..<600: return .retryableFailure(code: .provider("fcm", fcmCode), message: message, retryAfter: response.retryAfter)
        default: return .permanentFailure(code: .provider("fcm", fcmCode), message: message)
        }
    }
}

/// One access token, refreshed by a single exchange (or signature) when it nears expiry or the
/// provider refused it.
actor TokenCache {
    private let clock: @Sendable () -> Date
    private var cached: (token: String, expires: Date)?
    private var inFlight: Task<(String, Date), any Error>?

    init(clock: @escaping @Sendable () -> Date) { self.clock = clock }

    func token(fetch: @escaping @Sendable (Date) async throws(HTTPClientError) -> (String, Date)) async throws(HTTPClientError) -> String {
        let now = clock()
        if let cached, cached.expires > now { return cached.token }
        let task = inFlight ?? Task { try await fetch(now) }
        inFlight = task
        do {
            let (token, expires) = try await task.value
            cached = (token, expires)
            inFlight = nil
            return token
        } catch {
            inFlight = nil
            throw (error as? HTTPClientError) ?? HTTPClientError(kind: .other, curlCode: -1, message: "\(error)")
        }
    }

    /// Forgets `token` if it is still the cached one: the next caller gets a new one.
    func invalidate(_ token: String) {
        if cached?.token == token { cached = nil }
    }
}

public enum Base64URL {
    public static func encode(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}

extension FCMProvider.Configuration {
    /// A `type: fcm` file: `service_account_file` (the JSON key Google gives), and optionally
    /// `base_url`, `timeout_seconds`. The key is checked now, not at the first push.
    public init(settings: ProviderSettings) throws {
        let (path, data) = try settings.contents(ofFile: "service_account_file")
        let account: FCMProvider.ServiceAccount
        do { account = try JSONDecoder().decode(FCMProvider.ServiceAccount.self, from: data) } catch {
            throw settings.error("\(path) is not a service-account JSON (project_id, private_key, client_email, token_uri): \(error)")
        }
        self.init(account: account, baseURL: try settings.baseURL(default: "https://fcm.googleapis.com"), timeout: try settings.timeout())
        do { _ = try _RSA.Signing.PrivateKey(pemRepresentation: account.private_key.value) } catch {
            throw settings.error("the private_key in \(path) is not an RSA key: \(error)")
        }
    }
}

extension FCMProvider: ConfigurableProvider {
    public static func configured(_ settings: ProviderSettings, client: CurlHTTPClient) throws -> ConfiguredProvider {
        let configuration = try Configuration(settings: settings)
        return ConfiguredProvider(try FCMProvider(name: settings.name, account: configuration.account, baseURL: configuration.baseURL,
                                                  timeout: configuration.timeout, client: client))
    }
}
