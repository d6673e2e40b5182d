import _CryptoExtras
import Crypto
import Foundation
import Hummingbird
import NIOCore
import Providers

/// A loopback Google token endpoint and FCM: the token endpoint verifies the JWT's RS256 signature
/// with the service account's public key and its claims; FCM checks the bearer token.
public final class FakeGoogle: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    public let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    public init() {}
    private let lock = NSLock()
    private var exchanges = 0
    private var sends: [[String: Any]] = []
    public var exchangeCount: Int { lock.withLock { exchanges } }
    public var sent: [[String: Any]] { lock.withLock { sends } }

    public func account(_ base: String) -> FCMProvider.ServiceAccount {
        FCMProvider.ServiceAccount(project_id: "bank-app", private_key_id: "kid-1", private_key: key.pkcs8PEMRepresentation,
                                   client_email: "gateway@bank-app.iam.gserviceaccount.com", token_uri: base + "/token")
    }

    public func router() -> Router<BasicRequestContext> {
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

public final class MovableClock: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var now = Date(timeIntervalSince1970: 1_796_000_000)
    public init() {}
    public var current: Date { lock.withLock { now } }
    public func advance(_ seconds: TimeInterval) { lock.withLock { now = now.addingTimeInterval(seconds) } }
}

