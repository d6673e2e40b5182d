import ContactLog
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Templates
import Testing
@testable import Console
@testable import GatewayHTTP

@Suite struct TemplateEditorTests {
    static let file = "due-today/sms.es.mustache"
    static let editor = "/console/templates/due-today/sms.es.mustache"

    func source(_ harness: ConsoleHarness) throws -> String {
        try String(contentsOfFile: harness.templatesDirectory + "/" + Self.file, encoding: .utf8)
    }

    func changes(_ harness: ConsoleHarness) async throws -> [ContactEvent] {
        try await harness.store.events(EventFilter(kinds: [.templateChanged], limit: 100)).map(\.event)
    }

    /// Opens the editor; returns the page's CSRF token and the file's hash (the `base` field).
    func open(_ client: any TestClientProtocol, _ browser: inout Browser) async throws -> (csrf: String, base: String, html: String) {
        let page = try await browser.get(client, Self.editor)
        #expect(page.status == .ok)
        let html = String(buffer: page.body)
        let base = html.range(of: "name=\"base\" value=\"").map { range in String(html[range.upperBound...].prefix(64)) } ?? ""
        return (Browser.csrf(in: html) ?? "", base, html)
    }

    @Test func theEditorShowsTheSourceThePreviewAndTheSMSCost() async throws {
        let harness = try ConsoleHarness()
        try await harness.withApp { client in
            var browser = Browser(cookies: [Console.languageCookie: "en"])
            _ = try await browser.signIn(client, token: harness.tokens.plain["marketing-luis"]!)
            let (_, base, html) = try await open(client, &browser)
            #expect(base == TemplateEditing.sha256(Data(try source(harness).utf8)))
            #expect(html.contains("<textarea class=\"textarea\" id=\"source\" name=\"source\""))
            #expect(html.contains("hoy vence su pago de {{money.amount_due}}"))
            #expect(html.contains("<code id=\"preview-variant\">due-today/sms.es.mustache</code>"))
            #expect(html.contains("id=\"sms-encoding\">GSM-7</strong>"))
            #expect(html.contains("Hola Ana, hoy vence su pago"))
            // The list links to the template, the template to its files.
            #expect(String(buffer: try await browser.get(client, "/console/templates").body).contains("href=\"/console/templates/due-today\""))
            #expect(String(buffer: try await browser.get(client, "/console/templates/due-today").body).contains("href=\"\(Self.editor)\""))
            #expect(try await browser.get(client, "/console/templates/due-today/..%2Ftones.yml").status == .notFound)
            #expect(try await browser.get(client, "/console/templates/nope/sms.es.mustache").status == .notFound)
        }
    }

    @Test func theLivePreviewRendersTheUnsavedTextAndCountsItsSMS() async throws {
        let harness = try ConsoleHarness()
        try await harness.withApp { client in
            var browser = Browser()
            _ = try await browser.signIn(client, token: harness.tokens.plain["marketing-luis"]!)
            let (csrf, _, _) = try await open(client, &browser)
            func preview(_ body: String, csrf: String?) async throws -> TestResponse {
                var headers = browser.headers([.contentType: "application/json"])
                if let csrf { headers[HTTPField.Name("X-CSRF-Token")!] = csrf }
                return try await client.execute(uri: "/console/api/templates/due-today/preview", method: .post, headers: headers,
                                                body: ByteBuffer(string: body))
            }
            // ő has no GSM-7 form and no transliteration: the whole SMS becomes UCS-2 (a short text, so that it
            // stays within the template's max_segments: a preview over it is refused like a send).
            let text = "Hőla {{contact.first_name}}, pague {{money.amount_due}}. STOP"
            let body = String(decoding: try JSONEncoder().encode(["file": "sms.es.mustache", "source": text, "channel": "sms", "tone": "", "locale": "es-CR"]), as: UTF8.self)
            let answer = try await preview(body, csrf: csrf)
            #expect(answer.status == .ok)
            let json = try JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any] ?? [:]
            let rendered = json["preview"] as? [String: Any] ?? [:]
            #expect((rendered["body"] as? String)?.hasPrefix("Hőla Ana") == true)
            let sms = rendered["sms"] as? [String: Any] ?? [:]
            #expect(sms["encoding"] as? String == "UCS-2")
            #expect(sms["non_gsm_characters"] as? [String] == ["ő"])
            #expect(sms["segments"] as? Int == 1)
            #expect(sms["units"] as? Int == "Hőla Ana, pague $125.50. STOP".unicodeScalars.count)
            // The file on disk is untouched by a preview.
            #expect(!(try source(harness)).contains("Hőla"))
            #expect(try await preview(body, csrf: nil).status == .forbidden)
            #expect(try await preview(body, csrf: "wrong").status == .forbidden)
            #expect(try await preview("{\"file\": \"sms.es.mustache\", \"file\": \"x\"}", csrf: csrf).status == .badRequest)
        }
    }

    @Test func aBrokenEditIsRefusedWithItsLineAndNothingIsWritten() async throws {
        let harness = try ConsoleHarness(copyTemplates: true)
        try await harness.withApp { client in
            var browser = Browser(cookies: [Console.languageCookie: "en"])
            _ = try await browser.signIn(client, token: harness.tokens.plain["marketing-luis"]!)
            let (csrf, base, _) = try await open(client, &browser)
            let before = try source(harness)
            let broken = "Hola {{contact.first_name}},\n{{#pay_link}}pague en {{pay_link}}\nSTOP"
            let response = try await browser.post(client, Self.editor, form: [("csrf", csrf), ("base", base), ("intent", "save"), ("source", broken)])
            #expect(response.status == .unprocessableContent)
            let html = String(buffer: response.body)
            #expect(html.contains("There is a problem"))
            #expect(html.contains("<a href=\"#line-2\">Line 2:"), "the error summary links to the line: \(html.prefix(3000))")
            #expect(html.contains("id=\"line-2\""))
            #expect(try source(harness) == before)
            #expect(try await changes(harness).isEmpty)
            let folder = try FileManager.default.contentsOfDirectory(atPath: harness.templatesDirectory + "/due-today")
            #expect(!folder.contains { $0.hasSuffix(".tmp") })
        }
    }

    @Test func aSaveIsWrittenAtomicallyRecordedAndServed() async throws {
        let harness = try ConsoleHarness(copyTemplates: true)
        try await harness.withApp { client in
            var browser = Browser(cookies: [Console.languageCookie: "en"])
            _ = try await browser.signIn(client, token: harness.tokens.plain["marketing-luis"]!)
            let (csrf, base, _) = try await open(client, &browser)
            let edited = try source(harness).replacingOccurrences(of: "Hola", with: "Buenos días")
            // A browser sends the textarea with CRLF line ends; the file keeps LF.
            let response = try await browser.post(client, Self.editor, form: [("csrf", csrf), ("base", base), ("intent", "save"),
                                                                                ("source", edited.replacingOccurrences(of: "\n", with: "\r\n"))])
            #expect(response.status == .ok)
            #expect(String(buffer: response.body).contains("id=\"save-status\""))
            #expect(try source(harness) == edited)
            let after = TemplateEditing.sha256(Data(edited.utf8))
            let events = try await changes(harness)
            #expect(events.count == 1)
            let event = try #require(events.first)
            #expect(event.template == "due-today")
            #expect(event.variant == Self.file)
            let data = try JSONSerialization.jsonObject(with: Data((event.data ?? "").utf8)) as? [String: Any] ?? [:]
            #expect(data["who"] as? String == "marketing-luis")
            #expect(data["file"] as? String == Self.file)
            #expect(data["sha256_before"] as? String == base)
            #expect(data["sha256_after"] as? String == after)
            // This process serves it at once.
            let job = try TemplatePreview.sampleJob(catalog: harness.templateStore.current, template: "due-today")
            let rendered = try TemplatePreview.render(catalog: harness.templateStore.current, job: job, template: "due-today", channel: .sms,
                                                      tone: nil, locale: nil, defaultLocale: "es-CR")
            #expect(rendered.body.hasPrefix("Buenos dias Ana"))   // gsm7-transliterate: í → i
            let folder = try FileManager.default.contentsOfDirectory(atPath: harness.templatesDirectory + "/due-today")
            #expect(!folder.contains { $0.hasPrefix(".") })
            // Saving again from the page opened before the save: refused, nothing written.
            let stale = try await browser.post(client, Self.editor, form: [("csrf", csrf), ("base", base), ("intent", "save"), ("source", "Otro texto STOP")])
            #expect(stale.status == .conflict)
            #expect(try source(harness) == edited)
            #expect(try await changes(harness).count == 1)
            // The compliance role cannot save.
            var compliance = Browser()
            _ = try await compliance.signIn(client, token: harness.tokens.plain["compliance-ana"]!)
            let theirs = Browser.csrf(in: String(buffer: try await compliance.get(client, "/console/").body)) ?? ""
            let refused = try await compliance.post(client, Self.editor, form: [("csrf", theirs), ("base", after), ("intent", "save"), ("source", "x")])
            #expect(refused.status == .forbidden)
            #expect(try source(harness) == edited)
        }
    }

    @Test func previewWithoutJavaScriptShowsTheEditedTextUnsaved() async throws {
        let harness = try ConsoleHarness(copyTemplates: true)
        try await harness.withApp { client in
            var browser = Browser()
            _ = try await browser.signIn(client, token: harness.tokens.plain["marketing-luis"]!)
            let (csrf, base, _) = try await open(client, &browser)
            let edited = try source(harness).replacingOccurrences(of: "Hola", with: "Saludos")
            let response = try await browser.post(client, Self.editor, form: [("csrf", csrf), ("base", base), ("intent", "preview"), ("source", edited),
                                                                                ("channel", "sms"), ("tone", ""), ("locale", "es-CR"), ("job", "")])
            #expect(response.status == .ok)
            let html = String(buffer: response.body)
            #expect(html.contains("Saludos Ana"))
            #expect(try source(harness) != edited)
            #expect(try await changes(harness).isEmpty)
        }
    }

    @Test func theHistoryShowsEachChangeAsADiffAndRestoresAnEarlierText() async throws {
        let harness = try ConsoleHarness(copyTemplates: true)
        try await harness.withApp { client in
            var browser = Browser(cookies: [Console.languageCookie: "en"])
            _ = try await browser.signIn(client, token: harness.tokens.plain["marketing-luis"]!)
            let empty = String(buffer: try await browser.get(client, Self.editor + "/history").body)
            #expect(empty.contains("id=\"history-empty\""))
            let (csrf, base, _) = try await open(client, &browser)
            let original = try source(harness)
            let edited = original.replacingOccurrences(of: "Hola", with: "Saludos")
            _ = try await browser.post(client, Self.editor, form: [("csrf", csrf), ("base", base), ("intent", "save"), ("source", edited)])
            #expect(try source(harness) == edited)
            let history = String(buffer: try await browser.get(client, Self.editor + "/history").body)
            let recorded = try await harness.store.events(EventFilter(kinds: [.templateChanged], limit: 10))
            let sequence = try #require(recorded.first?.sequence)
            #expect(history.contains("href=\"\(Self.editor)/history/\(sequence)\""))
            #expect(history.contains("marketing-luis"))
            let change = String(buffer: try await browser.get(client, "\(Self.editor)/history/\(sequence)").body)
            #expect(change.contains("<del><span class=\"visually-hidden\">removed: </span>Hola {{contact.first_name}}"))
            #expect(change.contains("<ins><span class=\"visually-hidden\">added: </span>Saludos {{contact.first_name}}"))
            // Reading the history is a read of the log, on the record like any other.
            let reads = try await harness.store.events(EventFilter(kinds: [.logRead], limit: 100))
            #expect(reads.contains { $0.event.detail?.contains("/history") == true })
            // Compliance may read it but not restore.
            var compliance = Browser()
            _ = try await compliance.signIn(client, token: harness.tokens.plain["compliance-ana"]!)
            let theirs = String(buffer: try await compliance.get(client, "\(Self.editor)/history/\(sequence)").body)
            #expect(theirs.contains("id=\"diff\""))
            #expect(!theirs.contains("id=\"restore\""))
            // Restore: a new save of the text from before the change, linted and recorded as console_revert.
            let token = try #require(Browser.csrf(in: change))
            let current = TemplateEditing.sha256(Data(edited.utf8))
            let restored = try await browser.post(client, "\(Self.editor)/history/\(sequence)/restore", form: [("csrf", token), ("base", current)])
            #expect(restored.status == .seeOther)
            #expect(restored.headers[.location] == Self.editor + "?restored=1")
            #expect(try source(harness) == original)
            let all = try await changes(harness)
            #expect(all.count == 2)
            #expect(all.last?.reason == "console_revert")
            // A restore from a page opened before that: refused, nothing written.
            let stale = try await browser.post(client, "\(Self.editor)/history/\(sequence)/restore", form: [("csrf", token), ("base", current)])
            #expect(stale.status == .conflict)
            #expect(try await changes(harness).count == 2)
        }
    }
}
