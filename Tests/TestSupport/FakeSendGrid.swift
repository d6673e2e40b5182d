import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A loopback stand-in for SendGrid's v3 Mail Send API: checks the bearer key, the JSON content
/// type and the body as SendGrid validates it (personalizations with a recipient, from, subject,
/// text/plain before text/html), answers 202 with X-Message-Id, or SendGrid's error shapes.
public final class FakeSendGrid: @unchecked Sendable {
    // @unchecked: mutable state is behind `lock`.
    public enum Behavior: Sendable {
        case accept
        case error(status: Int, message: String, field: String?)
    }

    public let apiKey: String
    private let lock = NSLock()
    private var script: [Behavior] = []
    private var received: [[String: Any]] = []
    private var counter = 0

    public init(apiKey: String = "SG.test-\(UUID().uuidString)") {
        self.apiKey = apiKey
    }

    public func enqueue(_ behaviors: Behavior...) { lock.withLock { script += behaviors } }
    /// The JSON bodies received, as dictionaries (not Sendable: read them in the test only).
    public var bodies: [[String: Any]] { lock.withLock { received } }

    static func error(_ status: Int, _ message: String, _ field: String?) -> Response {
        var error: [String: Any] = ["message": message]
        if let field { error["field"] = field }
        let json = (try? JSONSerialization.data(withJSONObject: ["errors": [error]])) ?? Data()
        return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }

    func respond(_ request: Request) async throws -> Response {
        let bytes = try await request.body.collect(upTo: 1 << 22)
        guard request.uri.path == "/v3/mail/send" else { return Self.error(404, "not found", nil) }
        guard request.headers[.authorization] == "Bearer \(apiKey)" else {
            return Self.error(401, "The provided authorization grant is invalid, expired, or revoked", nil)
        }
        guard request.headers[.contentType]?.hasPrefix("application/json") == true else { return Self.error(415, "Content-Type should be application/json.", nil) }
        guard let body = (try? JSONSerialization.jsonObject(with: Data(buffer: bytes))) as? [String: Any] else {
            return Self.error(400, "Bad Request", nil)
        }
        lock.withLock { received.append(body) }
        let personalizations = body["personalizations"] as? [[String: Any]] ?? []
        guard let to = (personalizations.first?["to"] as? [[String: Any]])?.first?["email"] as? String, to.contains("@") else {
            return Self.error(400, "The to array is required for all personalization objects, and must have at least one email object with a valid email address.", "personalizations.0.to")
        }
        guard ((body["from"] as? [String: Any])?["email"] as? String)?.contains("@") == true else {
            return Self.error(400, "The from object must be provided for every email send.", "from")
        }
        guard (body["subject"] as? String)?.isEmpty == false else {
            return Self.error(400, "The subject is required.", "subject")
        }
        let content = body["content"] as? [[String: Any]] ?? []
        guard content.first?["type"] as? String == "text/plain" else {
            return Self.error(400, "If present, text/plain must be first, followed by text/html.", "content")
        }
        let behavior = lock.withLock { script.isEmpty ? Behavior.accept : script.removeFirst() }
        if case .error(let status, let message, let field) = behavior { return Self.error(status, message, field) }
        let number = lock.withLock { () -> Int in
            counter += 1
            return counter
        }
        return Response(status: .accepted, headers: [HTTPField.Name("X-Message-Id")!: "sg\(number)-\(UUID().uuidString.prefix(8))"])
    }

    public func serve<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/**") { request, _ in try await self.respond(request) }
        return try await LoopbackServer.serve(router, body)
    }
}
