import Foundation
import GatewayCore
import Hummingbird
import NIOCore
import Testing
import TestSupport
@testable import Providers

@Suite struct WebhookProviderTests {
    @Test func postsSignedJSONAndReadsTheReceiversID() async throws {
        let secret = "0123456789abcdef-secret"
        let seen = Received()
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = Array(buffer: try await request.body.collect(upTo: 1 << 20))
            let header = request.headers[.init("X-Gateway-Signature")!] ?? ""
            let parts = Dictionary(uniqueKeysWithValues: header.split(separator: ",").map { pair -> (String, String) in
                let kv = pair.split(separator: "=", maxSplits: 1)
                return (String(kv[0]), String(kv[1]))
            })
            let valid = parts["v1"] == WebhookProvider.signature(secret: secret, timestamp: Int(parts["t"] ?? "") ?? 0, body: body)
            seen.add(body: body, valid: valid, idempotency: request.headers[.init("Idempotency-Key")!])
            guard valid else { return Response(status: .unauthorized) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: #"{"id": "app-msg-7"}"#)))
        }
        let results = try await LoopbackServer.serve(router) { base in
            let provider = WebhookProvider(name: "app", configuration: .init(url: base + "/hook", secret: secret, channels: [.push], timeout: 120), client: CurlHTTPClient())
            let good = await provider.send([OutboundMessage(jobID: "J1", contactID: "C1", attempt: 2, channel: .push, to: "tok", subject: "Pago", body: "Hola")])
            let forged = WebhookProvider(name: "app", configuration: .init(url: base + "/hook", secret: "another-secret-of-16", channels: [.push], timeout: 120), client: CurlHTTPClient())
            let bad = await forged.send([OutboundMessage(jobID: "J2", contactID: "C2", channel: .push, to: "tok", body: "Hola")])
            return good + bad
        }
        #expect(results[0] == .accepted(messageID: "app-msg-7", status: nil))
        #expect(results[1] == .permanentFailure(code: Reason(stored: "webhook_401"), message: "webhook answered 401: "))
        let first = try #require(seen.all.first)
        #expect(first.valid)
        #expect(first.idempotency == "J1/2")
        let json = try JSONSerialization.jsonObject(with: Data(first.body)) as? [String: Any]
        #expect(json?["channel"] as? String == "push" && json?["subject"] as? String == "Pago" && json?["attempt"] as? Int == 2)
    }
}

final class Received: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var items: [(body: [UInt8], valid: Bool, idempotency: String?)] = []
    func add(body: [UInt8], valid: Bool, idempotency: String?) { lock.withLock { items.append((body, valid, idempotency)) } }
    var all: [(body: [UInt8], valid: Bool, idempotency: String?)] { lock.withLock { items } }
}
