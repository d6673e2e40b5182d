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

func temporaryStore() throws -> SQLiteContactLog {
    try SQLiteContactLog(path: FileManager.default.temporaryDirectory.appendingPathComponent("api-\(UUID().uuidString)/log.sqlite").path)
}

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite struct TemplatesAPITests {
    let store = try! TemplateStore(
        directory: repositoryRoot.appendingPathComponent("templates").path,
        requirements: try! ContactRulesFile.templateRequirements(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path),
        defaultLocale: "es-CR")
    let auth = TestTokens()

    func withApp(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: store, store: try temporaryStore(), tokens: auth.tokens))
        try await app.test(.router, body)
    }

    static func json(_ buffer: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: buffer))) as? [String: Any] ?? [:]
    }

    @Test func health() async throws {
        try await withApp { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(Self.json(response.body)["status"] as? String == "ok")
            }
        }
    }

    @Test func listsTemplatesTonesAndReloadStatus() async throws {
        try await withApp { client in
            try await client.execute(uri: "/templates", method: .get, headers: auth.marketing) { response in
                #expect(response.status == .ok)
                let body = Self.json(response.body)
                let templates = body["templates"] as? [[String: Any]] ?? []
                #expect(templates.map { $0["name"] as? String } == ["due-today", "early-delinquency", "late-delinquency", "opt-out-confirmation", "payment-received", "payment-reminder", "reply-help", "restructuring-offer"])
                let receipt = templates.first { $0["name"] as? String == "payment-received" }
                #expect(receipt?["category"] as? String == "transactional")
                #expect(receipt?["channels"] as? [String] == ["sms", "email", "push"])
                #expect((body["reload"] as? [String: Any])?["status"] as? String == "ok")
                #expect((body["tones"] as? [String: Any])?["default"] as? String == "neutral")
            }
        }
    }

    @Test func aRefusedEditShowsUpWithItsErrors() async throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("api-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: repositoryRoot.appendingPathComponent("templates").path, toPath: copy)
        let store = try TemplateStore(directory: copy, requirements: self.store.requirements, defaultLocale: "es-CR")
        try "Hola {{#roto}}".write(toFile: copy + "/due-today/sms.es.mustache", atomically: true, encoding: .utf8)
        #expect(store.reloadIfChanged() != .reloaded)
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: store, store: try temporaryStore(), tokens: auth.tokens))
        try await app.test(.router) { client in
            try await client.execute(uri: "/templates", method: .get, headers: auth.marketing) { response in
                let reload = Self.json(response.body)["reload"] as? [String: Any]
                #expect(reload?["status"] as? String == "edit_refused")
                #expect(reload?["errors"] as? [String] == ["due-today/sms.es.mustache:1:6: error: section {{#roto}} is never closed with {{/roto}}"])
            }
            // The last good version is still what previews (and the worker) use.
            try await client.execute(uri: "/templates/due-today/preview", method: .post, headers: auth.marketing, body: ByteBuffer(string: #"{"channel": "sms"}"#)) { response in
                let previews = Self.json(response.body)["previews"] as? [[String: Any]] ?? []
                #expect((previews.first?["body"] as? String)?.hasPrefix("Hola Ana, hoy vence su pago") == true)
            }
        }
    }

    @Test func previewsEveryChannelOfTheSample() async throws {
        try await withApp { client in
            try await client.execute(uri: "/templates/early-delinquency/preview", method: .post, headers: auth.marketing) { response in
                #expect(response.status == .ok)
                let previews = Self.json(response.body)["previews"] as? [[String: Any]] ?? []
                #expect(previews.map { $0["channel"] as? String } == ["sms", "email", "push"])
                #expect(previews.allSatisfy { $0["tone"] as? String == "empathetic" && $0["tone_rule"] as? String == "distressed-customer" })
                #expect((previews[0]["sms"] as? [String: Any])?["segments"] as? Int == 2)
                #expect((previews[1]["html"] as? String)?.contains("<p>Hola Ana:</p>") == true)
                #expect(previews[2]["push_payload_bytes"] as? Int != nil)
            }
        }
    }

    @Test func previewWithToneLocaleAndData() async throws {
        let body = #"{"channel": "sms", "tone": "firm", "locale": "en-US", "data": {"amount_due": "99", "currency": "USD", "due_date": "2026-11-01", "days_past_due": 23, "pay_link": "https://p.example"}}"#
        try await withApp { client in
            try await client.execute(uri: "/templates/early-delinquency/preview", method: .post, headers: auth.marketing, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .ok)
                let previews = Self.json(response.body)["previews"] as? [[String: Any]] ?? []
                #expect(previews.count == 1)
                #expect(previews[0]["variant"] as? String == "early-delinquency/sms.firm.en.mustache")
                #expect((previews[0]["body"] as? String)?.hasPrefix("Ana, your payment of $99.00 is 23 days late.") == true)
            }
        }
    }

    @Test func aVariantThatCannotRenderSaysWhyWithoutFailingTheOthers() async throws {
        let body = #"{"data": {"currency": "USD"}}"#
        try await withApp { client in
            try await client.execute(uri: "/templates/payment-reminder/preview", method: .post, headers: auth.marketing, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .ok)
                let previews = Self.json(response.body)["previews"] as? [[String: Any]] ?? []
                let error = previews.first?["error"] as? [String: Any]
                #expect(error?["code"] as? String == "missing_variable")
                #expect((error?["message"] as? String)?.contains("money.amount_due (used at payment-reminder/sms.es.mustache:1:59)") == true)
            }
        }
    }

    @Test func malformedRequestsGet400WithTheReason() async throws {
        let cases: [(String, String, HTTPResponse.Status, String)] = [
            ("/templates/early-delinquency/preview", "{not json", .badRequest,
             #"the body is not valid UTF-8 JSON: expected a quoted key at byte 1; send an object like {"channel": "sms", "tone": "firm"} (or send no body)"#),
            ("/templates/early-delinquency/preview", "[1]", .badRequest,
             #"the body must be a JSON object like {"channel": "sms", "tone": "firm"} (or send no body), got array"#),
            ("/templates/early-delinquency/preview", #"{"colour": "red"}"#, .badRequest, "unknown field \"colour\"; allowed: channel, channels, data, job, locale, tone"),
            ("/templates/early-delinquency/preview", #"{"channel": "fax"}"#, .badRequest, "channels must be sms, email or push"),
            ("/templates/early-delinquency/preview", #"{"tone": 3}"#, .badRequest, "tone must be a string, got number"),
            ("/templates/early-delinquency/preview", #"{"data": [1]}"#, .badRequest, "data must be an object, got array"),
            ("/templates/early-delinquency/preview", #"{"job": {"id": "x"}}"#, .badRequest, "template is required"),
            ("/templates/nope/preview", "", .notFound, "no template \"nope\"; GET /templates lists them"),
        ]
        try await withApp { client in
            for (uri, body, status, message) in cases {
                try await client.execute(uri: uri, method: .post, headers: auth.marketing, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == status, "\(body)")
                    let error = Self.json(response.body)["error"] as? [String: Any]
                    #expect(error?["message"] as? String == message, "\(body)")
                }
            }
        }
    }
}
