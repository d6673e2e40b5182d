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

@Suite struct ContactsAPITests {
    @Test func optOutsAreSetListedAndRecorded() async throws {
        let store = try temporaryStore()
        let templates = try TemplateStore(directory: repositoryRoot.appendingPathComponent("templates").path,
                                          requirements: ContactRulesFile.templateRequirements(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path),
                                          defaultLocale: "es-CR")
        let auth = TestTokens()
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templates, store: store, tokens: auth.tokens))
        try await app.test(.router) { client in
            try await client.execute(uri: "/contacts/C-9/opt-outs", method: .post, headers: auth.compliance,
                                     body: ByteBuffer(string: #"{"by": "ivr:reply", "channel": "sms", "reason": "replied STOP"}"#)) { response in
                #expect(response.status == .created)
                let mark = TemplatesAPITests.json(response.body)["opt_out"] as? [String: Any]
                #expect(mark?["channel"] as? String == "sms")
                #expect(mark?["set_by"] as? String == "ivr:reply")
            }
            try await client.execute(uri: "/contacts/C-9/opt-outs", method: .get, headers: auth.compliance) { response in
                let marks = TemplatesAPITests.json(response.body)["opt_outs"] as? [[String: Any]] ?? []
                #expect(marks.map { $0["kind"] as? String } == ["opt_out"])
            }
            let cases: [(String, String)] = [
                (#"{"channel": "sms"}"#, "by is required: who is making the change, e.g. agent:maria"),
                (#"{"by": "ana\nforged entry", "channel": "sms"}"#, "by is required: who is making the change, e.g. agent:maria"),
                (#"{"by": "x", "channel": "fax"}"#, "channel must be sms, email or push (omit it for all channels)"),
                (#"{"by": "x", "channel": "sms", "do_not_contact": true}"#, "do_not_contact covers every channel; leave out channel"),
                (#"{"by": "x", "colour": 1}"#, "unknown field \"colour\"; allowed: by, channel, do_not_contact, reason"),
                ("nope", #"the body is not valid UTF-8 JSON: invalid literal at byte 0; send an object like {"by": "agent:maria", "channel": "sms"}"#),
                ("[]", #"the body must be a JSON object like {"by": "agent:maria", "channel": "sms"}, got array"#),
            ]
            for (body, message) in cases {
                try await client.execute(uri: "/contacts/C-9/opt-outs", method: .post, headers: auth.compliance, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .badRequest)
                    #expect((TemplatesAPITests.json(response.body)["error"] as? [String: Any])?["message"] as? String == message)
                }
            }
            // Taking a mark back needs who asked, and names the token that did it.
            try await client.execute(uri: "/contacts/C-9/opt-outs?channel=sms", method: .delete, headers: auth.compliance) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/contacts/C-9/opt-outs?channel=email&by=agent:maria", method: .delete, headers: auth.compliance) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/contacts/C-9/opt-outs?channel=sms&by=agent:maria&reason=called%20to%20ask", method: .delete,
                                     headers: auth.marketing) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/contacts/C-9/opt-outs?channel=sms&by=agent:maria&reason=called%20to%20ask", method: .delete,
                                     headers: auth.compliance) { response in
                #expect(response.status == .ok)
            }
        }
        let events = try await store.events(EventFilter(contactID: "C-9")).map(\.event)
        #expect(events.map(\.kind) == [.optOut, .optIn])
        #expect(events[1].detail?.contains("agent:maria via API token compliance-ana") == true)
        #expect(try await store.optOuts(["C-9"])["C-9"] == nil)
    }
}
