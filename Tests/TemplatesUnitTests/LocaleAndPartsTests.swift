import Foundation
import GatewayCore
import Testing
@testable import Templates

@Suite struct LocaleFormatTests {
    @Test(arguments: [
        ("125.50", "USD", "es-CR", "$125,50"),
        ("1250000", "CRC", "es-CR", "₡1 250 000"),
        ("1250000.75", "CRC", "es-CR", "₡1 250 000,75"),
        ("1450", "MXN", "es-MX", "$1,450.00"),
        ("1450", "USD", "es-MX", "USD 1,450.00"),
        ("1250000", "COP", "es-CO", "$1.250.000"),
        ("1250000.5", "COP", "es-CO", "$1.250.000,50"),
        ("1250.5", "USD", "en-US", "$1,250.50"),
        ("10", "eur", "en-US", "EUR 10.00"),
        ("0.5", "USD", "en-US", "$0.50"),
        ("-5", "USD", "en-US", "-$5.00"),
        ("007", "USD", "en-US", "$7.00"),
        ("99999", "CLP", "es-CL", "$99.999"),
        ("35", "PEN", "es-PE", "S/ 35.00"),
        ("12.5", "USD", "es-AR", "USD 12,50"),
        // Extra decimals are fine when they are zero; each currency gets its ISO 4217 digits.
        ("99.990", "USD", "en-US", "$99.99"),
        ("99999.000", "CLP", "es-CL", "$99.999"),
        ("1500", "JPY", "en-US", "JPY 1,500"),
        ("12.5", "KWD", "en-US", "KWD 12.500"),
        ("12.345", "KWD", "en-US", "KWD 12.345"),
        ("1250000.00", "CRC", "es-CR", "₡1 250 000"),
    ])
    func money(amount: String, currency: String, locale: String, expected: String) {
        #expect(LocaleFormat.money(amount, currency: currency, locale: locale) == expected)
    }

    @Test(arguments: ["12,50", "abc", "1.2.3", "", "1.", ".5", "1e3", "١٢", "99.999", "0.001"])
    func unusableAmountsHaveNoValue(amount: String) {
        #expect(LocaleFormat.money(amount, currency: "USD", locale: "en-US") == nil)
    }

    @Test func currencyMustBeAnISOCode() {
        #expect(LocaleFormat.money("1", currency: "US", locale: "en-US") == nil)
        #expect(LocaleFormat.money("1", currency: "U$D", locale: "en-US") == nil)
    }

    @Test func datesAsCustomersReadThem() {
        #expect(LocaleFormat.longDate("2026-12-01", locale: "es-CR") == "1 de diciembre de 2026")
        #expect(LocaleFormat.longDate("2027-01-31", locale: "es-MX") == "31 de enero de 2027")
        #expect(LocaleFormat.longDate("2026-12-01", locale: "en-US") == "December 1, 2026")
        #expect(LocaleFormat.longDate("2026-02-30", locale: "es") == nil)
        #expect(LocaleFormat.longDate("2026-12-1", locale: "es") == nil)
        #expect(LocaleFormat.longDate("01/12/2026", locale: "es") == nil)
    }

    @Test func firstNames() {
        #expect(LocaleFormat.firstName("Ana Mora") == "Ana")
        #expect(LocaleFormat.firstName("MARÍA JOSÉ RODRÍGUEZ") == "María")
        #expect(LocaleFormat.firstName("  ") == nil)
    }

    @Test func helpersAreStrict() throws {
        let dir = try templatesFolder(["t/sms.mustache": "Debe {{money.amount_due}} al {{date.due_date}}"])
        let catalog = try TemplateCatalog(directory: dir)
        func render(_ data: [String: JSONValue]) throws(RenderError) -> String {
            let job = Job(id: "j", template: "t", channels: [.sms], contact: .init(id: "c", locale: "es-MX"), data: data)
            return try catalog.render(template: "t", channel: .sms, tone: "neutral", job: job, category: .collection, defaultLocale: "es-CR").body
        }
        #expect(try render(["amount_due": .number(1450), "currency": .string("MXN"), "due_date": .string("2026-12-05")]) == "Debe $1,450.00 al 5 de diciembre de 2026")
        #expect(throws: RenderError(code: Reason(stored: "missing_variable"), message: "the job lacks money.amount_due (used at t/sms.mustache:1:6)")) {
            try render(["amount_due": .string("1450"), "due_date": .string("2026-12-05")])
        }
        #expect(throws: RenderError(code: Reason(stored: "missing_variable"), message: "the job lacks date.due_date (used at t/sms.mustache:1:30)")) {
            try render(["amount_due": .string("1450"), "currency": .string("MXN"), "due_date": .string("5/12")])
        }
        // An amount that is there but unusable is a wrong value, named with what to send instead.
        #expect(throws: RenderError(code: Reason(stored: "invalid_value"), message: "data.amount_due \"mil\" is not a decimal amount (digits with an optional '-' and one '.', like 125.50) (used at t/sms.mustache:1:6)")) {
            try render(["amount_due": .string("mil"), "currency": .string("MXN"), "due_date": .string("5/12")])
        }
    }

    @Test(arguments: [
        ("99.999", "USD", "data.amount_due 99.999 has 3 decimals; USD has 2"),
        ("99.991", "USD", "data.amount_due 99.991 has 3 decimals; USD has 2"),
        ("99999.5", "CLP", "data.amount_due 99999.5 has 1 decimal; CLP has 0"),
        ("1500.01", "JPY", "data.amount_due 1500.01 has 2 decimals; JPY has 0"),
        ("12.3456", "KWD", "data.amount_due 12.3456 has 4 decimals; KWD has 3"),
        ("1250000.001", "COP", "data.amount_due 1250000.001 has 3 decimals; COP has 2"),
        ("10", "US$", "data.currency \"US$\" is not an ISO 4217 currency code like USD"),
    ])
    func amountsTheCurrencyCannotHoldAreRefusedNotRounded(amount: String, currency: String, message: String) throws {
        let dir = try templatesFolder(["t/sms.mustache": "Debe {{money.amount_due}}"])
        let catalog = try TemplateCatalog(directory: dir)
        let job = Job(id: "j", template: "t", channels: [.sms], contact: .init(id: "c", locale: "en-US"),
                      data: ["amount_due": .string(amount), "currency": .string(currency)])
        #expect(throws: RenderError(code: Reason(stored: "invalid_value"), message: message + " (used at t/sms.mustache:1:6)")) {
            try catalog.render(template: "t", channel: .sms, tone: "neutral", job: job, category: .collection, defaultLocale: "en-US")
        }
    }

    @Test func jsonNumbersAreMoneyOnlyWhileTheyKeepTheirDigits() throws {
        let dir = try templatesFolder(["t/sms.mustache": "Debe {{money.amount_due}}"])
        let catalog = try TemplateCatalog(directory: dir)
        func render(_ amount: Double) throws(RenderError) -> String {
            let job = Job(id: "j", template: "t", channels: [.sms], contact: .init(id: "c", locale: "en-US"),
                          data: ["amount_due": .number(amount), "currency": .string("USD")])
            return try catalog.render(template: "t", channel: .sms, tone: "neutral", job: job, category: .collection, defaultLocale: "en-US").body
        }
        #expect(try render(125.5) == "Debe $125.50")
        #expect(try render(1234567890123.45) == "Debe $1,234,567,890,123.45")
        // 17 significant digits: a double cannot say which decimal was sent.
        #expect(throws: RenderError.self) { try render(123456789012345.67) }
        #expect(throws: RenderError.self) { try render(99.999) }
    }
}

@Suite struct MessagePartsTests {
    let email = """
        --- subject
        Pago de {{name}}
        --- text
        Hola {{name}} & co.
        --- html
        <p>Hola {{name}} &amp; co.</p>
        """

    @Test func emailHasSubjectTextAndEscapedHTML() throws {
        let catalog = try TemplateCatalog(directory: try templatesFolder(["t/email.mustache": email]))
        let rendered = try catalog.render(template: "t", channel: .email, tone: "neutral", locale: nil, defaultLocale: "es-CR",
                                          context: ["name": "<Ana> \"O'Neil\" & Co"])
        #expect(rendered.subject == "Pago de <Ana> \"O'Neil\" & Co")
        #expect(rendered.body == "Hola <Ana> \"O'Neil\" & Co & co.")
        #expect(rendered.html == "<p>Hola &lt;Ana&gt; &quot;O&#39;Neil&quot; &amp; Co &amp; co.</p>")
    }

    @Test func pushHasTitleAndBodyAndAPayloadLimit() throws {
        let catalog = try TemplateCatalog(directory: try templatesFolder(["t/push.mustache": "--- title\nHola\n--- body\n{{text}}"]))
        let rendered = try catalog.render(template: "t", channel: .push, tone: "neutral", locale: nil, defaultLocale: "es-CR", context: ["text": "Su pago & más"])
        #expect(rendered.subject == "Hola")
        #expect(rendered.body == "Su pago & más")
        #expect(throws: RenderError.self) {
            try catalog.render(template: "t", channel: .push, tone: "neutral", locale: nil, defaultLocale: "es-CR", context: ["text": String(repeating: "x", count: 5000)])
        }
    }

    @Test(arguments: [
        ("--- subject\nx\n--- text\ny", "t/email.mustache: part html is missing; email files need --- subject, --- text, --- html"),
        ("Hola", "t/email.mustache:1:1: email files start with a part line: --- subject, --- text, --- html"),
        ("--- subject\nx\n--- title\ny", "t/email.mustache:3:1: \"--- title\" is not a part of a email message; email files have --- subject, --- text, --- html"),
        ("--- subject\nx\n--- subject\ny", "t/email.mustache:3:1: part subject appears twice"),
        ("--- subject\nx\n--- text\ny\n--- html\n<p>{{#a}}</p>", "t/email.mustache:6:4: section {{#a}} is never closed with {{/a}}"),
    ])
    func partErrorsNameTheFileLine(text: String, expected: String) throws {
        let dir = try templatesFolder(["t/email.mustache": text])
        #expect { try TemplateCatalog(directory: dir) } throws: { "\($0)" == expected }
    }

    @Test func tooLongSMSIsRefusedWithItsCount() throws {
        let dir = try templatesFolder(["t/sms.mustache": "{{text}}", "t/template.yml": "max_segments: 1\nsms_encoding: gsm7-transliterate\n"])
        let catalog = try TemplateCatalog(directory: dir)
        let fits = try catalog.render(template: "t", channel: .sms, tone: "neutral", locale: nil, defaultLocale: "es", context: ["text": String(repeating: "á", count: 160)])
        #expect(fits.body == String(repeating: "a", count: 160))
        #expect(throws: RenderError(code: Reason(stored: "sms_too_long"), message: "t/sms.mustache renders to 2 SMS segments (GSM-7, 161 septets); the template allows 1 (max_segments in t/template.yml)")) {
            try catalog.render(template: "t", channel: .sms, tone: "neutral", locale: nil, defaultLocale: "es", context: ["text": String(repeating: "a", count: 161)])
        }
    }

    @Test func decomposedAccentsAreSentComposedAndCountedAsSent() throws {
        let dir = try templatesFolder(["t/sms.mustache": "Hola {{name}}, {{text}}", "t/template.yml": "max_segments: 1\n"])
        let catalog = try TemplateCatalog(directory: dir)
        // "Jose" + U+0301 (as a name may arrive): sent as NFC "José", GSM-7, one segment.
        let filler = String(repeating: "a", count: 140)
        let rendered = try catalog.render(template: "t", channel: .sms, tone: "neutral", locale: nil, defaultLocale: "es",
                                          context: ["name": "Jose\u{301}", "text": filler])
        #expect(Array(rendered.body.unicodeScalars) == Array("Hola Jos\u{E9}, \(filler)".unicodeScalars))
        #expect(rendered.sms == SMSInfo(encoding: .gsm7, units: 151, segments: 1, nonGSMCharacters: []))
        // A combining mark with no composed form keeps the message UCS-2, and max_segments counts it so.
        #expect(throws: RenderError(code: Reason(stored: "sms_too_long"), message: "t/sms.mustache renders to 3 SMS segments (UCS-2, 151 UTF-16 units); the template allows 1 (max_segments in t/template.yml)")) {
            try catalog.render(template: "t", channel: .sms, tone: "neutral", locale: nil, defaultLocale: "es",
                               context: ["name": "Jox\u{301}", "text": filler])
        }
    }

    @Test(arguments: [
        ("category: marketing", "t/template.yml: category must be collection, transactional or reply (the gateway's own answers to replies)"),
        ("max_segments: 40", "t/template.yml: max_segments must be a whole number from 1 to 10"),
        ("sms_encoding: ascii", "t/template.yml: sms_encoding must be unicode or gsm7-transliterate"),
        ("colour: red", "t/template.yml: unknown key \"colour\" (known: description, category, sms_encoding, max_segments, tones)"),
    ])
    func settingsErrors(yaml: String, expected: String) throws {
        let dir = try templatesFolder(["t/sms.mustache": "x", "t/template.yml": yaml])
        #expect { try TemplateCatalog(directory: dir) } throws: { "\($0)" == expected }
    }
}

@Suite struct TonePolicyFileTests {
    @Test func theShippedPolicyPicksTonesAsDocumented() throws {
        let catalog = try TemplateCatalog(directory: repositoryTemplates)
        let policy = catalog.tonePolicy
        #expect(policy.tone(for: ToneFacts(sentimentLabel: "upset", category: .transactional)).tone == "neutral")
        #expect(policy.tone(for: ToneFacts(sentimentLabel: "hardship", daysPastDue: 60)) == ("empathetic", "distressed-customer"))
        #expect(policy.tone(for: ToneFacts(sentimentScore: -0.8)) == ("empathetic", "very-negative-score"))
        #expect(policy.tone(for: ToneFacts(segment: "broken-promise", daysPastDue: 3)) == ("firm", "broken-promise"))
        #expect(policy.tone(for: ToneFacts(daysPastDue: 45)) == ("firm", "late-stage"))
        #expect(policy.tone(for: ToneFacts(sentimentLabel: "neutral", daysPastDue: 10)) == ("neutral", "default"))
    }

    @Test(arguments: [
        ("rules: []", "tones.yml: default is required: the tone used when no rule matches, e.g. default: neutral"),
        ("default: neutral\nrules:\n  - id: a\n    tone: firm\n    when: {mood: [x]}", "tones.yml: rules[0] (a).when: unknown condition \"mood\" (known: sentiment, score, segment, days_past_due, category, reply_intents)"),
        ("default: neutral\nrules:\n  - id: a\n    tone: firm\n    when: {score: {min: -2}}", "tones.yml: rules[0] (a).when.score must stay within -1 and 1"),
        ("default: neutral\nrules:\n  - id: a\n    tone: firm\n    when: {days_past_due: {min: 90, max: 30}}", "tones.yml: rules[0] (a).when.days_past_due: min is above max"),
        ("default: neutral\nrules:\n  - {id: a, tone: firm}\n  - {id: a, tone: neutral}", "tones.yml: rules[1]: id \"a\" is used twice"),
        ("default: neutral\nrules:\n  - {id: a, tone: Firm}", "tones.yml: rules[0] (a): tone is required and must be a lower-case word of 4+ letters"),
        ("default: neutral\nrules:\n  - {id: a, tone: firm, when: {category: [marketing]}}", "tones.yml: rules[0] (a).when.category: \"marketing\" is not collection or transactional"),
    ])
    func mistakesAreExplained(yaml: String, expected: String) throws {
        let dir = try templatesFolder(["t/sms.mustache": "x", "tones.yml": yaml])
        #expect { try TemplateCatalog(directory: dir) } throws: { "\($0)" == expected }
    }
}
