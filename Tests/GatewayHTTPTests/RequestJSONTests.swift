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

/// Every JSON body is read by the jobs' strict parser: a key given twice is refused, never guessed.
@Suite struct RequestJSONTests {
    let templates = try! TemplateStore(
        directory: repositoryRoot.appendingPathComponent("templates").path,
        requirements: try! ContactRulesFile.templateRequirements(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path),
        defaultLocale: "es-CR")
    let auth = TestTokens()

    /// The answer a job with the same fault gets from the job decoder: code, and the parser's reason.
    static func jobAnswer(_ body: String) -> (code: String, reason: String) {
        guard case .failure(let rejection) = JobDecoder().decode(Array(body.utf8)) else { return ("accepted", "") }
        return (rejection.code.rawValue, String(rejection.message.dropFirst("job is not valid UTF-8 JSON: ".count)))
    }

    static func offset(ofLast needle: String, in body: String) -> Int {
        body.utf8.count - (body.components(separatedBy: needle).last!.utf8.count + needle.utf8.count)
    }

    @Test func aKeyGivenTwiceInAnOptOutIsRefusedAndNothingIsRecorded() async throws {
        let store = try temporaryStore()
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templates, store: store, tokens: auth.tokens))
        let body = #"{"by": "agent:maria", "channel": "sms", "channel": "email"}"#
        let job = Self.jobAnswer(body)
        #expect(job.code == "not_json")
        try await app.test(.router) { client in
            try await client.execute(uri: "/contacts/C-1/opt-outs", method: .post, headers: auth.compliance, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .badRequest)
                let answer = TemplatesAPITests.json(response.body)
                #expect(Array(answer.keys) == ["error"])
                let error = answer["error"] as? [String: Any] ?? [:]
                #expect(Set(error.keys) == ["code", "message"])
                #expect(error["code"] as? String == job.code)
                let at = Self.offset(ofLast: #""channel""#, in: body)
                #expect(job.reason == "the key \"channel\" appears twice at byte \(at)")
                #expect(error["message"] as? String
                        == #"the body is not valid UTF-8 JSON: the key "channel" appears twice at byte \#(at); send an object like {"by": "agent:maria", "channel": "sms"}"#)
            }
            // The same for invalid UTF-8 and for text after the object.
            for bad in [[UInt8](#"{"by": "agent:"#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8), Array(#"{"by": "x"} {}"#.utf8)] {
                try await client.execute(uri: "/contacts/C-1/opt-outs", method: .post, headers: auth.compliance, body: ByteBuffer(bytes: bad)) { response in
                    #expect(response.status == .badRequest)
                    #expect((TemplatesAPITests.json(response.body)["error"] as? [String: Any])?["code"] as? String == "not_json")
                }
            }
        }
        #expect(try await store.optOuts(["C-1"])["C-1"] == nil)
        #expect(try await store.events(EventFilter(contactID: "C-1")).isEmpty)
    }

    @Test func aKeyGivenTwiceInAPreviewIsRefusedAtAnyDepth() async throws {
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templates, store: try temporaryStore(), tokens: auth.tokens))
        let bodies = [
            #"{"channel": "sms", "channel": "email"}"#,
            #"{"channel": "sms", "data": {"contact": {"name": "Ana", "name": "Eva"}}}"#,
        ]
        try await app.test(.router) { client in
            for body in bodies {
                try await client.execute(uri: "/templates/payment-reminder/preview", method: .post, headers: auth.marketing,
                                         body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .badRequest, "\(body)")
                    let error = TemplatesAPITests.json(response.body)["error"] as? [String: Any] ?? [:]
                    #expect(error["code"] as? String == Self.jobAnswer(body).code, "\(body)")
                    #expect(error["message"] as? String
                            == "the body is not valid UTF-8 JSON: \(Self.jobAnswer(body).reason); send an object like {\"channel\": \"sms\", \"tone\": \"firm\"} (or send no body)")
                }
            }
            // An empty body still previews the template's sample.
            try await client.execute(uri: "/templates/payment-reminder/preview", method: .post, headers: auth.marketing) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
