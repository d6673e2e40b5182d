import ContactLog
import Foundation
import GatewayCore
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import Worker
@testable import GatewayHTTP
@testable import Templates

/// Ids in the path arrive percent-encoded; every route must act on the decoded id.
@Suite struct PathDecodingTests {
    /// Encoded as a client would send them, and what they mean.
    static let ids: [(encoded: String, decoded: String)] = [
        ("C%20N%C3%BA%C3%B1ez%207", "C Núñez 7"),   // spaces and accents
        ("C+7", "C+7"),                               // a plus sign is a plus sign in a path
        ("C%2B8", "C+8"),
        ("ops%2FC-9", "ops/C-9"),                     // an encoded slash does not split the path
        ("k=v%3D1", "k=v=1"),
    ]

    let templates = try! TemplateStore(
        directory: repositoryRoot.appendingPathComponent("templates").path,
        requirements: try! ContactRulesFile.templateRequirements(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path),
        defaultLocale: "es-CR")
    let auth = TestTokens()

    @Test(arguments: ids)
    func optOutsAndTimelinesUseTheDecodedID(encoded: String, decoded: String) async throws {
        let store = try temporaryStore()
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templates, store: store, tokens: auth.tokens))
        try await app.test(.router) { client in
            try await client.execute(uri: "/contacts/\(encoded)/opt-outs", method: .post, headers: auth.compliance,
                                     body: ByteBuffer(string: #"{"by": "agent:maria", "channel": "sms"}"#)) { response in
                #expect(response.status == .created)
                #expect(TemplatesAPITests.json(response.body)["contact_id"] as? String == decoded)
            }
            // The mark is the decoded contact's: the worker looks opt-outs up by the job's contact id.
            #expect(try await store.optOuts([decoded])[decoded]?.map(\.channel) == [.sms])
            if encoded != decoded { #expect(try await store.optOuts([encoded])[encoded] == nil) }
            try await client.execute(uri: "/contacts/\(encoded)/opt-outs", method: .get, headers: auth.compliance) { response in
                let body = TemplatesAPITests.json(response.body)
                #expect(body["contact_id"] as? String == decoded)
                #expect((body["opt_outs"] as? [[String: Any]])?.count == 1)
            }
            try await client.execute(uri: "/contacts/\(encoded)/timeline", method: .get, headers: auth.compliance) { response in
                let events = TemplatesAPITests.json(response.body)["events"] as? [[String: Any]] ?? []
                #expect(events.map { $0["contact_id"] as? String } == [decoded])
                #expect(events.map { $0["kind"] as? String } == ["opt_out"])
            }
            try await client.execute(uri: "/contacts/\(encoded)/opt-outs?by=agent:maria&channel=sms", method: .delete, headers: auth.compliance) { response in
                #expect(response.status == .ok)
                #expect(TemplatesAPITests.json(response.body)["contact_id"] as? String == decoded)
            }
        }
        #expect(try await store.optOuts([decoded])[decoded] == nil)
    }

    @Test func theTemplateNameIsDecodedToo() async throws {
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templates, store: try temporaryStore(), tokens: auth.tokens))
        try await app.test(.router) { client in
            try await client.execute(uri: "/templates/payment%2Dreminder/preview", method: .post, headers: auth.marketing,
                                     body: ByteBuffer(string: #"{"channel": "sms"}"#)) { response in
                #expect(response.status == .ok)
                #expect(TemplatesAPITests.json(response.body)["template"] as? String == "payment-reminder")
            }
            try await client.execute(uri: "/templates/no%20such%2Fthing/preview", method: .post, headers: auth.marketing) { response in
                #expect(response.status == .notFound)
                let error = TemplatesAPITests.json(response.body)["error"] as? [String: Any]
                #expect(error?["message"] as? String == "no template \"no such/thing\"; GET /templates lists them")
            }
        }
    }

    @Test func badEncodingIsRefusedOnEveryRouteWithAnID() async throws {
        let store = try temporaryStore()
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templates, store: store, tokens: auth.tokens))
        let bad: [(String, String)] = [
            ("C%2", "has a '%' that is not followed by two hexadecimal digits (write a literal % as %25)"),
            ("C%ZZ", "has a '%' that is not followed by two hexadecimal digits (write a literal % as %25)"),
            ("C%C3", "does not decode to valid UTF-8 (percent-encode the UTF-8 bytes of each character, e.g. ú as %C3%BA)"),
            ("C%FF%FE", "does not decode to valid UTF-8 (percent-encode the UTF-8 bytes of each character, e.g. ú as %C3%BA)"),
            ("C%00", "decodes to text with a control character"),
        ]
        try await app.test(.router) { client in
            for (raw, reason) in bad {
                let routes: [(String, HTTPRequest.Method, HTTPFields, String?)] = [
                    ("/contacts/\(raw)/opt-outs", .post, auth.compliance, #"{"by": "agent:maria"}"#),
                    ("/contacts/\(raw)/opt-outs", .get, auth.compliance, nil),
                    ("/contacts/\(raw)/opt-outs?by=agent:maria", .delete, auth.compliance, nil),
                    ("/contacts/\(raw)/timeline", .get, auth.compliance, nil),
                    ("/templates/\(raw)/preview", .post, auth.marketing, nil),
                ]
                for (uri, method, headers, body) in routes {
                    try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
                        #expect(response.status == .badRequest, "\(method) \(uri)")
                        let error = TemplatesAPITests.json(response.body)["error"] as? [String: Any]
                        #expect(error?["code"] as? String == "bad_path", "\(method) \(uri)")
                        let name = uri.hasPrefix("/templates") ? "name" : "id"
                        #expect(error?["message"] as? String == "the {\(name)} part of the path, \"\(raw)\", \(reason)", "\(method) \(uri)")
                    }
                }
            }
        }
        // Nothing was recorded under any of them.
        #expect(try await store.events(EventFilter()).filter { $0.event.kind != .logRead }.isEmpty)
    }
}
