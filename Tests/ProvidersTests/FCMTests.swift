import _CryptoExtras
import Crypto
import Foundation
import GatewayCore
import Hummingbird
import NIOCore
import Testing
import TestSupport
@testable import Providers

/// A loopback Google token endpoint and FCM: the token endpoint verifies the JWT's RS256 signature
/// with the service account's public key and its claims; FCM checks the bearer token.
final class FakeGoogle: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    private let lock = NSLock()
    private var exchanges = 0
    private var sends: [[String: Any]] = []
    var exchangeCount: Int { lock.withLock { exchanges } }
    var sent: [[String: Any]] { lock.withLock { sends } }

    func account(_ base: String) -> FCMProvider.ServiceAccount {
        FCMProvider.ServiceAccount(project_id: "bank-app", private_key_id: "kid-1", private_key: key.pkcs8PEMRepresentation,
                                   client_email: "gateway@bank-app.iam.gserviceaccount.com", token_uri: base + "/token")
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/token") { request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let form = Dictionary(FormEncoding.decode(body), uniquingKeysWith: { a, _ in a })
            guard form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer", let jwt = form["assertion"] else {
                return Self.json(400, ["error": "unsupported_grant_type"])
            }
            let parts = jwt.split(separator: ".").map(String.init)
            guard parts.count == 3, let signature = Base64URL.decode(parts[2]),
                  self.key.publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: Data((parts[0] + "." + parts[1]).utf8), padding: .insecurePKCS1v1_5),
                  let header = Base64URL.decode(parts[0]).flatMap({ try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }),
                  let claims = Base64URL.decode(parts[1]).flatMap({ try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }),
                  header["alg"] as? String == "RS256", header["kid"] as? String == "kid-1",
                  claims["iss"] as? String == "gateway@bank-app.iam.gserviceaccount.com",
                  claims["scope"] as? String == "https://www.googleapis.com/auth/firebase.messaging",
                  (claims["aud"] as? String)?.hasSuffix("/token") == true,
                  let iat = claims["iat"] as? Int, let exp = claims["exp"] as? Int, exp - iat == 3600 else {
                return Self.json(400, ["error": "invalid_grant", "error_description": "Invalid JWT Signature."])
            }
            let n = self.lock.withLock { () -> Int in self.exchanges += 1; return self.exchanges }
            return Self.json(200, ["access_token": "ya29.token-\(n)", "expires_in": 3599, "token_type": "Bearer"])
        }
        router.post("/v1/projects/bank-app/messages:send") { request, _ -> Response in
            let body = try JSONSerialization.jsonObject(with: Data(buffer: try await request.body.collect(upTo: 1 << 20))) as? [String: Any] ?? [:]
            guard request.headers[.authorization]?.hasPrefix("Bearer ya29.token-") == true else {
                return Self.json(401, ["error": ["code": 401, "status": "UNAUTHENTICATED", "message": "Request had invalid authentication credentials."]])
            }
            self.lock.withLock { self.sends.append(body) }
            let token = (body["message"] as? [String: Any])?["token"] as? String ?? ""
            if token.hasPrefix("dead") {
                return Self.json(404, ["error": ["code": 404, "status": "NOT_FOUND", "message": "Requested entity was not found.",
                                                 "details": [["@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"]]]])
            }
            return Self.json(200, ["name": "projects/bank-app/messages/0:\(UUID().uuidString.prefix(8))"])
        }
        return router
    }

    static func json(_ status: Int, _ object: Any) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: (try? JSONSerialization.data(withJSONObject: object)) ?? Data())))
    }
}

final class MovableClock: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var now = Date(timeIntervalSince1970: 1_796_000_000)
    var current: Date { lock.withLock { now } }
    func advance(_ seconds: TimeInterval) { lock.withLock { now = now.addingTimeInterval(seconds) } }
}

@Suite struct FCMTests {
    func push(_ n: Int, token: String = "fcm-token") -> OutboundMessage {
        OutboundMessage(jobID: "P\(n)", contactID: "C\(n)", channel: .push, to: token, subject: "Pago pendiente", body: "Toque para pagar")
    }

    @Test func signsTheAssertionCachesTheTokenAndSends() async throws {
        let google = FakeGoogle()
        let clock = MovableClock()
        let results = try await LoopbackServer.serve(google.router()) { base in
            let fcm = try FCMProvider(name: "fcm", account: google.account(base), baseURL: base, client: CurlHTTPClient(), clock: { clock.current })
            var all = await fcm.send((0..<10).map { push($0) })          // ten at once: one exchange
            all += await fcm.send([push(10), push(11, token: "dead-token")])
            clock.advance(3600)                                             // the token has expired: a new exchange
            all += await fcm.send([push(12)])
            return all
        }
        #expect(google.exchangeCount == 2)
        #expect(results.prefix(11).allSatisfy { if case .accepted = $0 { true } else { false } })
        #expect(results[11] == .permanentFailure(code: "fcm_UNREGISTERED", message: "FCM answered 404 UNREGISTERED: Requested entity was not found."))
        let first = try #require(google.sent.first?["message"] as? [String: Any])
        #expect((first["notification"] as? [String: String]) == ["title": "Pago pendiente", "body": "Toque para pagar"])
    }

    @Test func aBadKeyIsRefusedAtStartUpAndABadExchangeIsRetryable() async throws {
        let google = FakeGoogle()
        var account = google.account("http://127.0.0.1:1")
        account.private_key = "not a key"
        #expect(throws: (any Error).self) { try FCMProvider(name: "fcm", account: account, client: CurlHTTPClient()) }
        // A key Google does not know: the exchange fails, the push is retried later.
        let other = FakeGoogle()
        let results = try await LoopbackServer.serve(google.router()) { base in
            var stranger = google.account(base)
            stranger.private_key = other.key.pkcs8PEMRepresentation
            return await (try FCMProvider(name: "fcm", account: stranger, baseURL: base, client: CurlHTTPClient())).send([push(1)])
        }
        guard case .retryableFailure(code: "fcm_auth", let message, _) = results[0] else {
            Issue.record("\(results[0])")
            return
        }
        #expect(message.contains("Invalid JWT Signature"))
    }
}
