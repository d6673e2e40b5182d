import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Replies
import Testing
import Worker
@testable import GatewayHTTP
@testable import Templates

@Suite struct RepliesAPITests {
    let templates = try! TemplateStore(
        directory: repositoryRoot.appendingPathComponent("templates").path,
        requirements: try! ContactRulesFile.templateRequirements(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path),
        defaultLocale: "es-CR")
    let auth = TestTokens()

    func withApp(replies: RepliesStore?, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templates, store: try temporaryStore(),
                                                  tokens: auth.tokens, replies: replies))
        try await app.test(.router, body)
    }

    func shipped() throws -> RepliesStore { try RepliesStore(directory: repositoryRoot.appendingPathComponent("config/replies").path) }

    static func json(_ buffer: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: buffer))) as? [String: Any] ?? [:]
    }

    @Test func classifiesOneReplyForComplianceAndMarketing() async throws {
        let store = try shipped()
        try await withApp(replies: store) { client in
            for headers in [auth.compliance, auth.marketing] {
                try await client.execute(uri: "/replies/classify", method: .post, headers: headers,
                                         body: ByteBuffer(string: #"{"text": "Quiero cancelar la deuda hoy mismo", "lang": "es"}"#)) { response in
                    #expect(response.status == .ok)
                    let body = Self.json(response.body)
                    #expect(body["label"] as? String == "willing")
                    #expect((body["intents"] as? [String])?.contains("opt_out") == false)
                    #expect((body["explain"] as? [String])?.isEmpty == false)
                    #expect(body.keys.contains("promise"))
                }
            }
            try await client.execute(uri: "/replies/classify", method: .post, headers: auth.scoring, body: ByteBuffer(string: #"{"text": "stop"}"#)) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains("compliance, marketing"))
            }
            try await client.execute(uri: "/replies/classify", method: .post, body: ByteBuffer(string: #"{"text": "stop"}"#)) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func classifiesAListInOrder() async throws {
        let store = try shipped()
        try await withApp(replies: store) { client in
            let body = #"{"replies": [{"text": "STOP"}, {"text": "I can do $25 on the 15th", "lang": "en"}]}"#
            try await client.execute(uri: "/replies/classify", method: .post, headers: auth.compliance, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .ok)
                let replies = Self.json(response.body)["replies"] as? [[String: Any]] ?? []
                #expect(replies.count == 2)
                #expect(replies.first?["intents"] as? [String] == ["opt_out"])
                let promise = replies.last?["promise"] as? [String: Any]
                #expect(promise?["amount"] as? String == "25.00")
                #expect(promise?["day"] as? Int == 15)
            }
        }
    }

    @Test(arguments: [
        (#"{"text": "a", "text": "b"}"#, "not_json"), (#"["stop"]"#, "wrong_type"), (#"{"texto": "stop"}"#, "bad_request"),
        (#"{"text": 5}"#, "bad_request"), (#"{"text": "stop", "lang": "pt"}"#, "unknown_language"), (#"{"replies": [{"text": "a"}, 3]}"#, "bad_request"),
        (#"{"replies": "stop"}"#, "bad_request"),
    ])
    func refusesBadBodiesSayingWhatToFix(_ body: String, _ code: String) async throws {
        let store = try shipped()
        try await withApp(replies: store) { client in
            try await client.execute(uri: "/replies/classify", method: .post, headers: auth.compliance, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .badRequest)
                let error = Self.json(response.body)["error"] as? [String: Any]
                #expect(error?["code"] as? String == code, "\(String(buffer: response.body))")
                #expect((error?["message"] as? String)?.isEmpty == false)
            }
        }
    }

    @Test func withoutLexiconsItSaysSo() async throws {
        try await withApp(replies: nil) { client in
            try await client.execute(uri: "/replies/classify", method: .post, headers: auth.compliance, body: ByteBuffer(string: #"{"text": "stop"}"#)) { response in
                #expect(response.status == .serviceUnavailable)
            }
        }
    }
}
