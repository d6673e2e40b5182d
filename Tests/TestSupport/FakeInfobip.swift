import Foundation
import Hummingbird
import NIOCore

/// A loopback stand-in for Infobip's `POST /sms/2/text/advanced`: checks `Authorization: App <key>`
/// and the JSON body, answers one result per message (numbers starting 999 are REJECTED), or an error.
public final class FakeInfobip: @unchecked Sendable {
    // @unchecked: mutable state is behind `lock`.
    public let apiKey: String
    private let lock = NSLock()
    private var received: [[String: Any]] = []
    private var failNext: Int?

    public init(apiKey: String = "ib-\(UUID().uuidString)") { self.apiKey = apiKey }

    public var bodies: [[String: Any]] { lock.withLock { received } }
    /// The next request gets this HTTP status.
    public func fail(with status: Int) { lock.withLock { failNext = status } }

    func respond(_ request: Request) async throws -> Response {
        let bytes = try await request.body.collect(upTo: 1 << 22)
        func json(_ status: Int, _ object: Any) -> Response {
            Response(status: .init(code: status), headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(bytes: (try? JSONSerialization.data(withJSONObject: object)) ?? Data())))
        }
        guard request.uri.path == "/sms/2/text/advanced" else { return json(404, ["requestError": ["serviceException": ["messageId": "NOT_FOUND"]]]) }
        guard request.headers[.authorization] == "App \(apiKey)" else {
            return json(401, ["requestError": ["serviceException": ["messageId": "UNAUTHORIZED", "text": "Invalid login details"]]])
        }
        if let status = lock.withLock({ () -> Int? in defer { failNext = nil }; return failNext }) {
            return json(status, ["requestError": ["serviceException": ["messageId": "GENERAL_ERROR", "text": "Something went wrong"]]])
        }
        guard let body = (try? JSONSerialization.jsonObject(with: Data(buffer: bytes))) as? [String: Any],
              let messages = body["messages"] as? [[String: Any]], !messages.isEmpty else {
            return json(400, ["requestError": ["serviceException": ["messageId": "BAD_REQUEST", "text": "Bad request"]]])
        }
        lock.withLock { received.append(body) }
        let results: [[String: Any]] = messages.map { message in
            let to = ((message["destinations"] as? [[String: Any]])?.first?["to"] as? String) ?? ""
            if to.hasPrefix("999") {
                return ["to": to, "status": ["groupId": 5, "groupName": "REJECTED", "id": 51, "name": "REJECTED_DESTINATION", "description": "Invalid destination address"]]
            }
            return ["to": to, "messageId": "ib-\(UUID().uuidString.prefix(12))",
                    "status": ["groupId": 1, "groupName": "PENDING", "id": 26, "name": "PENDING_ACCEPTED", "description": "Message sent to next instance"]]
        }
        return json(200, ["bulkId": "bulk-1", "messages": results])
    }

    public func serve<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/**") { request, _ in try await self.respond(request) }
        return try await LoopbackServer.serve(router, body)
    }
}
