import Foundation
import GatewayCore
import Testing
@testable import Templates

/// A throwaway templates folder built from (relative path, text) pairs.
func templatesFolder(_ files: [String: String]) throws -> String {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("templates-\(UUID().uuidString)").path
    for (path, text) in files {
        let full = (root as NSString).appendingPathComponent(path)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
    }
    return root
}

let repositoryTemplates = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("templates").path

@Suite struct TagScannerTests {
    @Test func readsVariablesSectionsAndPartialsWithPositions() throws {
        let nodes = try TagScanner.scan("Hi {{name}},\n{{#link}}pay: {{{link}}}{{/link}}{{! note }}{{> footer}}")
        #expect(nodes == [
            .variable(name: "name", line: 1, column: 4),
            .section(name: "link", inverted: false, children: [.variable(name: "link", line: 2, column: 15)], line: 2, column: 1),
            .partial(name: "footer", line: 2, column: 45),
        ])
    }

    @Test(arguments: [
        ("Hola {{name", "1:6: tag opened here is never closed with }}"),
        ("a\n{{#x}}b", "2:1: section {{#x}} is never closed with {{/x}}"),
        ("{{#x}}{{/y}}", "1:7: {{/y}} closes a section, but the open section is {{#x}} from line 1"),
        ("{{/x}}", "1:1: {{/x}} closes a section that was never opened"),
        ("{{=<% %>=}}", "1:1: {{=...}} tags (delimiters, blocks, parents) are not supported in message templates"),
        ("x {{}}", "1:3: empty tag {{}}"),
        ("{{first name}}", "1:1: \"first name\" is not a variable name (no spaces allowed)"),
        ("ñandú {{x", "1:7: tag opened here is never closed with }}"),
    ])
    func reportsSyntaxErrorsWithLineAndColumn(text: String, expected: String) {
        #expect(throws: TemplateSyntaxError.self) { try TagScanner.scan(text) }
        do {
            _ = try TagScanner.scan(text)
        } catch {
            #expect(error.description == expected)
        }
    }
}

@Suite struct TemplateCatalogTests {
    func render(_ catalog: TemplateCatalog, _ context: [String: Any], template: String = "t", tone: String = "neutral",
                locale: String? = "es-CR") throws(RenderError) -> RenderedMessage {
        try catalog.render(template: template, channel: .sms, tone: tone, locale: locale, defaultLocale: "es-CR", context: context)
    }

    @Test func rendersTheShippedTemplateInSpanishAndEnglish() throws {
        let catalog = try TemplateCatalog(directory: repositoryTemplates)
        var job = Job(id: "j", template: "payment-reminder", channels: [.sms],
                      contact: .init(id: "C-1", name: "ANA  MORA", phone: "+50688887777", locale: "es-CR"),
                      data: ["amount_due": .string("1250.5"), "currency": .string("USD"), "due_date": .string("2026-12-01"),
                             "pay_link": .string("https://pay.example/x?a=1&b=2")])
        let spanish = try catalog.render(template: "payment-reminder", channel: .sms, tone: "neutral", job: job, category: .collection, defaultLocale: "es-CR")
        #expect(spanish.body == "Hola Ana, le recordamos que su pago de $1 250,50 vence el 1 de diciembre de 2026. Pague en https://pay.example/x?a=1&b=2 Mensaje de un gestor de cobro. Responda STOP para no recibir mas mensajes.")
        #expect(spanish.variant == "payment-reminder/sms.es.mustache")
        #expect(spanish.sms == SMSInfo(encoding: .gsm7, units: 195, segments: 2, nonGSMCharacters: []))
        job.contact.locale = "en-US"
        let english = try catalog.render(template: "payment-reminder", channel: .sms, tone: "neutral", job: job, category: .collection, defaultLocale: "es-CR")
        #expect(english.body == "Hi Ana, a reminder that your payment of $1,250.50 is due on December 1, 2026. Pay at https://pay.example/x?a=1&b=2 This is a message from a debt collector. Reply STOP to opt out.")
        #expect(english.variant == "payment-reminder/sms.en.mustache")
        // A French speaker gets the default (Spanish) text, formatted the Costa Rican way, never half French.
        job.contact.locale = "fr-FR"
        let fallback = try catalog.render(template: "payment-reminder", channel: .sms, tone: "neutral", job: job, category: .collection, defaultLocale: "es-CR")
        #expect(fallback.body.hasPrefix("Hola Ana, le recordamos que su pago de $1 250,50 vence el 1 de diciembre de 2026."))
    }

    @Test func aMissingVariableIsAnErrorNamingItAndWhereItIsUsed() throws {
        let dir = try templatesFolder(["t/sms.mustache": "Hola {{contact.first_name}},\nsu saldo es {{amount}} {{currency}}."])
        let catalog = try TemplateCatalog(directory: dir)
        #expect(throws: RenderError(code: Reason(stored: "missing_variable"), message: "the job lacks amount (used at t/sms.mustache:2:13), currency (used at t/sms.mustache:2:24)")) {
            try render(catalog, ["contact": ["first_name": "Ana"]])
        }
    }

    @Test func anEmptyOrBlankValueIsMissingToo() throws {
        let dir = try templatesFolder(["t/sms.mustache": "Hola {{name}}, pague {{amount}}"])
        let catalog = try TemplateCatalog(directory: dir)
        #expect(throws: RenderError.self) { try render(catalog, ["name": "", "amount": "5"]) }
        #expect(throws: RenderError.self) { try render(catalog, ["name": "   ", "amount": "5"]) }
        #expect(try render(catalog, ["name": "Ana", "amount": "5"]).body == "Hola Ana, pague 5")
    }

    @Test func optionalSectionsNeedNoValueButTheirContentIsCheckedWhenShown() throws {
        let dir = try templatesFolder(["t/sms.mustache": "Pague{{#pay_link}} en {{pay_link}}{{/pay_link}}{{^pay_link}} en sucursal{{/pay_link}}.{{#promo}} Código {{code}}{{/promo}}"])
        let catalog = try TemplateCatalog(directory: dir)
        #expect(try render(catalog, [:]).body == "Pague en sucursal.")
        #expect(try render(catalog, ["pay_link": "https://p.example"]).body == "Pague en https://p.example.")
        #expect(throws: RenderError(code: Reason(stored: "missing_variable"), message: "the job lacks code (used at t/sms.mustache:1:105)")) {
            try render(catalog, ["promo": true])
        }
        #expect(try render(catalog, ["promo": ["code": "X1"]]).body == "Pague en sucursal. Código X1")
    }

    @Test func listsAreCheckedPerItem() throws {
        let dir = try templatesFolder(["t/sms.mustache": "Cuotas:{{#items}} {{date}}={{amount}}{{/items}}"])
        let catalog = try TemplateCatalog(directory: dir)
        #expect(try render(catalog, ["items": [["date": "1/12", "amount": "10"], ["date": "1/01", "amount": "10"]]]).body == "Cuotas: 1/12=10 1/01=10")
        #expect(throws: RenderError.self) { try render(catalog, ["items": [["date": "1/12", "amount": "10"], ["date": "1/01"]]]) }
    }

    @Test func nothingIsHTMLEscapedInTextMessages() throws {
        let dir = try templatesFolder(["t/sms.mustache": "{{name}} <{{link}}>"])
        let catalog = try TemplateCatalog(directory: dir)
        #expect(try render(catalog, ["name": "Tom & Jerry's \"shop\"", "link": "https://x.example/?a=1&b=<2>"]).body
                == "Tom & Jerry's \"shop\" <https://x.example/?a=1&b=<2>>")
    }

    @Test func partialsAreRenderedAndCheckedStrictly() throws {
        let dir = try templatesFolder(["t/sms.mustache": "Hola {{name}}. {{> footer}}", "_partials/footer.mustache": "Llame al {{phone}}."])
        let catalog = try TemplateCatalog(directory: dir)
        #expect(try render(catalog, ["name": "Ana", "phone": "800"]).body == "Hola Ana. Llame al 800.")
        #expect(throws: RenderError(code: Reason(stored: "missing_variable"), message: "the job lacks phone (used at _partials/footer.mustache:1:10)")) {
            try render(catalog, ["name": "Ana"])
        }
    }

    /// swift-mustache renders every partial as HTML, whatever the part including it: a name like
    /// "O'Brien" in a partial reached SMS as "O&#39;Brien". Text parts and their partials are plain
    /// text; HTML parts and their partials are escaped.
    @Test func partialsInTextPartsAreNotHTMLEscapedEither() throws {
        let dir = try templatesFolder([
            "t/sms.mustache": "{{> footer}}",
            "t/email.mustache": "--- subject\n{{> footer}}\n--- text\n{{> footer}}\n--- html\n<p>{{> footer}}</p>\n",
            "_partials/footer.mustache": "{{name}}: {{{raw}}}",
        ])
        let catalog = try TemplateCatalog(directory: dir)
        let context: [String: Any] = ["name": "Ana O'Brien & Co <x>", "raw": "<b>&</b>"]
        #expect(try render(catalog, context).body == "Ana O'Brien & Co <x>: <b>&</b>")
        let email = try catalog.render(template: "t", channel: .email, tone: "neutral", locale: "es-CR", defaultLocale: "es-CR", context: context)
        #expect(email.subject == "Ana O'Brien & Co <x>: <b>&</b>")
        #expect(email.body == "Ana O'Brien & Co <x>: <b>&</b>")
        #expect(email.html == "<p>Ana O&#39;Brien &amp; Co &lt;x&gt;: <b>&</b></p>")

        // Whitespace comes out the same from both versions of a partial, standalone tags included.
        let layout = try templatesFolder([
            "t/email.mustache": "--- subject\nS\n--- text\n[{{> block}}]\n--- html\n[{{> block}}]\n",
            "_partials/block.mustache": "{{#show}}\n  line one\n{{/show}}\n{{! note }}\nline two\n",
        ])
        let laidOut = try TemplateCatalog(directory: layout).render(template: "t", channel: .email, tone: "neutral", locale: nil,
                                                                    defaultLocale: "es-CR", context: ["show": true])
        #expect(laidOut.body == laidOut.html)
        #expect(laidOut.body == "[  line one\nline two]")
    }

    @Test func aMissingPartialIsAnErrorNotAnEmptyString() throws {
        let dir = try templatesFolder(["t/sms.mustache": "Hola {{name}}. {{> nowhere}}"])
        let catalog = try TemplateCatalog(directory: dir)
        #expect(throws: RenderError.self) { try render(catalog, ["name": "Ana"]) }
    }

    @Test func variantFallbackOrder() throws {
        let dir = try templatesFolder([
            "t/sms.firm.es-MX.mustache": "firm es-MX",
            "t/sms.firm.es.mustache": "firm es",
            "t/sms.es-CR.mustache": "neutral es-CR",
            "t/sms.en.mustache": "neutral en",
            "t/sms.neutral.es.mustache": "neutral es",
        ])
        let catalog = try TemplateCatalog(directory: dir)
        #expect(try render(catalog, [:], tone: "firm", locale: "es-MX").body == "firm es-MX")
        #expect(try render(catalog, [:], tone: "firm", locale: "es-CO").body == "firm es")
        #expect(try render(catalog, [:], tone: "firm", locale: "en-US").body == "firm es")
        #expect(try render(catalog, [:], tone: "empathetic", locale: "en-US").body == "neutral en")
        #expect(try render(catalog, [:], tone: "neutral", locale: "es-CR").body == "neutral es-CR")
        #expect(try render(catalog, [:], tone: "neutral", locale: "es-CO").body == "neutral es")
        #expect(try render(catalog, [:], tone: "neutral", locale: nil).variant == "t/sms.es-CR.mustache")
    }

    @Test func loadErrorsNameTheFile() throws {
        let broken = try templatesFolder(["t/sms.es.mustache": "ok", "u/sms.es.mustache": "Hola\n{{#x}} sin cierre"])
        #expect { try TemplateCatalog(directory: broken) } throws: { error in
            "\(error)" == "u/sms.es.mustache:2:1: section {{#x}} is never closed with {{/x}}"
        }
        let misnamed = try templatesFolder(["t/fax.mustache": "x"])
        #expect { try TemplateCatalog(directory: misnamed) } throws: { error in
            "\(error)".hasPrefix("t/fax.mustache: file name must start with a channel")
        }
        let badLocale = try templatesFolder(["t/sms.es_CR.mustache": "x"])
        #expect(throws: TemplateLoadError.self) { try TemplateCatalog(directory: badLocale) }
        #expect(throws: TemplateLoadError.self) { try TemplateCatalog(directory: "/nonexistent/templates") }
    }

    @Test func unknownTemplateAndMissingChannel() throws {
        let dir = try templatesFolder(["t/push.mustache": "--- title\nHola\n--- body\nx"])
        let catalog = try TemplateCatalog(directory: dir)
        #expect(catalog.hasTemplate("t"))
        #expect(catalog.hasVariant(template: "t", channel: .push))
        #expect(!catalog.hasVariant(template: "t", channel: .sms))
        #expect(throws: RenderError(code: Reason(stored: "unknown_template"), message: "no template folder templates/nope/")) { try render(catalog, [:], template: "nope") }
        #expect(throws: RenderError(code: Reason(stored: "no_variant"), message: "template t has no sms variant")) { try render(catalog, [:]) }
    }

    @Test func renderContextExposesDataContactAndJob() {
        let job = Job(id: "J1", template: "t", channels: [.sms], contact: .init(id: "C1", name: "María José Rodríguez", locale: "es-MX"),
                      debtID: "D1", segment: "late",
                      data: ["amount": .number(1450), "rate": .number(2.5), "flag": .bool(true), "gone": .null,
                             "nested": .object(["a": .string("b")])])
        let context = RenderContext.make(for: job, locale: "es-CR", category: .collection)
        #expect(context["amount"] as? String == "1450")
        #expect(context["rate"] as? String == "2.5")
        #expect(context["flag"] as? Bool == true)
        #expect(context["gone"] == nil)
        #expect((context["nested"] as? [String: Any])?["a"] as? String == "b")
        #expect((context["contact"] as? [String: Any])?["first_name"] as? String == "María")
        #expect((context["job"] as? [String: Any])?["debt_id"] as? String == "D1")
    }
}
