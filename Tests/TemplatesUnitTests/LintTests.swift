import Foundation
import GatewayCore
import Testing
import Worker
@testable import Templates

let repositoryRules = URL(fileURLWithPath: repositoryTemplates).deletingLastPathComponent().appendingPathComponent("config/contact-rules.yml").path

/// A copy of the shipped templates with some files changed, for the linter to find fault with.
func shippedTemplatesCopy(_ edits: [String: (String) -> String?]) throws -> String {
    let copy = FileManager.default.temporaryDirectory.appendingPathComponent("lint-\(UUID().uuidString)").path
    try FileManager.default.copyItem(atPath: repositoryTemplates, toPath: copy)
    for (file, edit) in edits {
        let path = (copy as NSString).appendingPathComponent(file)
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        if let changed = edit(text) {
            try changed.write(toFile: path, atomically: true, encoding: .utf8)
        } else {
            try FileManager.default.removeItem(atPath: path)
        }
    }
    return copy
}

@Suite struct LintTests {
    let requirements = try! ContactRulesFile.templateRequirements(path: repositoryRules)

    @Test func theShippedRequirementsAreRead() {
        #expect(requirements.optOutKeywords[.sms] == ["STOP"])
        #expect(requirements.optOutKeywords[.email] == ["BAJA", "UNSUBSCRIBE"])
        #expect(requirements.disclosurePartials == ["disclosure", "disclosure-short"])
    }

    @Test func theShippedTemplatesAreClean() {
        #expect(TemplateLinter.lint(directory: repositoryTemplates, requirements: requirements, defaultLocale: "es-CR") == [])
    }

    @Test func reportsAllSyntaxErrorsAtOnce() throws {
        let dir = try shippedTemplatesCopy([
            "due-today/sms.en.mustache": { _ in "Hi {{contact.first_name}} {{#x}} unclosed" },
            "due-today/push.es.mustache": { _ in "--- title\nHola\n--- cuerpo\nx" },
            "tones.yml": { $0.replacingOccurrences(of: "default: neutral", with: "") },
        ])
        let findings = TemplateLinter.lint(directory: dir, requirements: requirements, defaultLocale: "es-CR").map(\.description)
        #expect(findings.contains("tones.yml: error: default is required: the tone used when no rule matches, e.g. default: neutral"))
        #expect(findings.contains("due-today/sms.en.mustache:1:27: error: section {{#x}} is never closed with {{/x}}"))
        #expect(findings.contains { $0.hasPrefix("due-today/push.es.mustache:3:1: error: \"--- cuerpo\" is not a part of a push message") })
        #expect(findings.count == 3)
    }

    @Test func reportsEveryKindOfContentProblem() throws {
        let dir = try shippedTemplatesCopy([
            // A variable the sample does not have.
            "due-today/sms.es.mustache": { $0.replacingOccurrences(of: "para evitar", with: "y {{penalty_fee}} para evitar") },
            // No opt-out instruction, no disclosure.
            "payment-reminder/sms.en.mustache": { $0.replacingOccurrences(of: " {{> opt-out-sms.en}}", with: "") },
            "payment-reminder/sms.es.mustache": { $0.replacingOccurrences(of: "{{> disclosure-short.es}} ", with: "") },
            // Broken HTML.
            "payment-reminder/email.es.mustache": { $0.replacingOccurrences(of: "<p>Hola {{contact.first_name}}:</p>", with: "<p>Hola <b>{{contact.first_name}}:</p>") },
            // Too long for its max_segments once accents stay.
            "restructuring-offer/template.yml": { $0.replacingOccurrences(of: "gsm7-transliterate", with: "unicode").replacingOccurrences(of: "max_segments: 3", with: "max_segments: 2") },
            // A tone the policy can choose, with no file.
            "early-delinquency/sms.firm.en.mustache": { _ in nil },
            // A push payload over 4 KB.
            "due-today/push.en.mustache": { $0 + String(repeating: "{{contact.first_name}} ", count: 1500) },
            // UCS-2 where it need not be: a warning.
            "payment-received/template.yml": { $0.replacingOccurrences(of: "gsm7-transliterate", with: "unicode").replacingOccurrences(of: "max_segments: 2", with: "max_segments: 3") },
            // No sample.
            "late-delinquency/sample.json": { _ in nil },
        ])
        let findings = TemplateLinter.lint(directory: dir, requirements: requirements, defaultLocale: "es-CR")
        let text = findings.map(\.description)
        let expected = [
            "due-today/sms.es.mustache:1:97: error: penalty_fee is not in sample.json",
            "payment-reminder/sms.en.mustache: error: the message has no opt-out instruction (one of STOP, from config/contact-rules.yml)",
            "payment-reminder/sms.es.mustache: error: collection messages must include the debt-collector disclosure",
            "payment-reminder/email.es.mustache:21:35: error: HTML: </p> found, but <b> from 21:9 is still open",
            "restructuring-offer/sms.empathetic.es.mustache: error: restructuring-offer/sms.empathetic.es.mustache renders to 4 SMS segments (UCS-2, ",
            "early-delinquency/sms.firm.en.mustache: error: missing: tones.yml rule broken-promise can choose tone firm for this template",
            "due-today/push.en.mustache: error: due-today/push.en.mustache renders to a",
            "payment-received/sms.es.mustache: warning: SMS is UCS-2 (3 segments of 67 UTF-16 units) because of \"á\"",
            "late-delinquency/sample.json: error: missing: every template needs a sample.json",
        ]
        for prefix in expected {
            #expect(text.contains { $0.hasPrefix(prefix) }, "no finding starting \(prefix)\nfindings:\n\(text.joined(separator: "\n"))")
        }
        #expect(findings.filter { $0.severity == .warning }.count == 1)
    }

    @Test func declaringATemplatesTonesSilencesTheFallback() throws {
        let dir = try shippedTemplatesCopy([
            "early-delinquency/sms.firm.en.mustache": { _ in nil },
            "early-delinquency/sms.firm.es.mustache": { _ in nil },
            "early-delinquency/email.firm.en.mustache": { _ in nil },
            "early-delinquency/email.firm.es.mustache": { _ in nil },
            "early-delinquency/push.firm.en.mustache": { _ in nil },
            "early-delinquency/push.firm.es.mustache": { _ in nil },
            "early-delinquency/template.yml": { $0.replacingOccurrences(of: "tones: [empathetic, neutral, firm]", with: "tones: [empathetic, neutral]") },
        ])
        #expect(TemplateLinter.lint(directory: dir, requirements: requirements, defaultLocale: "es-CR") == [])
    }

    @Test func reachableTonesFollowTheRuleOrder() throws {
        let policy = try TemplateCatalog(directory: repositoryTemplates).tonePolicy
        #expect(TemplateLinter.reachableTones(policy, category: .transactional).map(\.0) == ["neutral"])
        #expect(TemplateLinter.reachableTones(policy, category: .collection).map(\.0) == ["empathetic", "firm", "neutral"])
    }
}

@Suite struct HTMLCheckTests {
    @Test func wellFormedHTMLPasses() {
        #expect(HTMLCheck.problems("<!DOCTYPE html>\n<html><body><p>a<br>b<img src=\"x>y\"/></p><!-- <p> --></body></html>") == [])
    }

    @Test(arguments: [
        ("<p>a", "1:1 <p> is never closed"),
        ("<div><p>a</div>", "1:10 </div> found, but <p> from 1:6 is still open"),
        ("</p>", "1:1 </p> closes nothing"),
        ("<p>\n<a href=\"x>y</a></p>", "2:1 attribute quote is never closed in this tag"),
        ("<p>3 < 4</p>", "1:6 a literal < must be written &lt;"),
        ("<p><3></p>", "1:4 a literal < must be written &lt;"),
        ("<p><!-- x </p>", "1:4 comment is never closed with -->"),
    ])
    func findsMistakes(html: String, expected: String) {
        let problems = HTMLCheck.problems(html)
        #expect(problems.first.map { "\($0.line):\($0.column) \($0.message)" } == expected, "\(problems)")
    }
}

@Suite struct HTMLPositionTests {
    /// An e-mail whose HTML includes a three-line partial above a mistake, and a variable before it.
    func lint(html: String, partials: [String: String] = [:]) throws -> [String] {
        var files = ["t/email.mustache": "--- subject\nS\n--- text\nT\n--- html\n" + html,
                     "t/sample.json": #"{"id": "j", "template": "t", "channel": "email", "contact": {"id": "c", "email": "a@example.com"}, "data": {"name": "Ana María Mora"}}"#,
                     "_partials/head.mustache": "<p>one</p>\n<p>two</p>\n<p>three</p>\n"]
        for (name, text) in partials { files["_partials/\(name).mustache"] = text }
        let dir = try templatesFolder(files)
        return TemplateLinter.lint(directory: dir, requirements: ComplianceRequirements(), defaultLocale: "es").map(\.description)
    }

    @Test func problemsAreReportedWhereTheyAreWritten() throws {
        // Line 8 of the file; rendered, it is line 10 and the "<" has moved by the name's length.
        let findings = try lint(html: "<html><body>\n{{> head}}\n<p>Hola {{name}}, 3 < 4</p>\n</body></html>")
        #expect(findings == ["t/email.mustache:8:21: error: HTML: a literal < must be written &lt;"])
    }

    @Test func anOpenTagIsNamedAtItsSourcePosition() throws {
        let findings = try lint(html: "<html><body>\n{{> head}}\n<p>{{name}} <b>{{name}}</p>\n</body></html>")
        #expect(findings == ["t/email.mustache:8:24: error: HTML: </p> found, but <b> from 8:13 is still open"])
    }

    @Test func aProblemInsideAPartialNamesThePartialAndWhereItIsIncluded() throws {
        let findings = try lint(html: "<html><body>\n{{> head}}\n<p>{{name}}</p>\n  {{> foot}}\n</body></html>",
                                partials: ["foot": "<div>\n<b>x</div>"])
        #expect(findings == [
            "t/email.mustache:9:3: error: HTML: </div> found, but <b> from 2:1 of partial _partials/foot.mustache is still open (inside partial _partials/foot.mustache, at its 2:5)",
        ])
    }

    @Test func textAVariableInsertsPointsAtTheVariable() throws {
        // A triple-stash inserts its value unescaped: a "<" in it is the tag's doing.
        let dir = try templatesFolder(["t/email.mustache": "--- subject\nS\n--- text\nT\n--- html\n<p>{{name}}: {{{note}}}</p>",
                                       "t/sample.json": #"{"id": "j", "template": "t", "channel": "email", "contact": {"id": "c", "email": "a@example.com"}, "data": {"name": "Ana", "note": "3 < 4"}}"#])
        #expect(TemplateLinter.lint(directory: dir, requirements: ComplianceRequirements(), defaultLocale: "es").map(\.description)
            == ["t/email.mustache:6:14: error: HTML: a literal < must be written &lt; (in the text the tag at 6:14 inserts)"])
    }
}

@Suite struct PreviewTests {
    @Test func previewRendersLikeTheWorkerAndSaysWhy() throws {
        let catalog = try TemplateCatalog(directory: repositoryTemplates)
        let job = try TemplatePreview.sampleJob(catalog: catalog, template: "early-delinquency")
        let preview = try TemplatePreview.render(catalog: catalog, job: job, template: "early-delinquency", channel: .sms, tone: nil, locale: nil,
                                                 defaultLocale: "es-CR", now: parseTimestamp("2026-11-24T12:00:00Z")!)
        #expect(preview.tone == "empathetic")
        #expect(preview.tone_rule == "distressed-customer")
        #expect(preview.variant == "early-delinquency/sms.empathetic.es.mustache")
        #expect(preview.sms?.encoding == "GSM-7")
        #expect(preview.sms?.segments == 2)
        #expect(preview.body.contains("$125,50 tiene 14 dias de atraso"))

        let receipt = try TemplatePreview.sampleJob(catalog: catalog, template: "payment-received")
        let firm = try TemplatePreview.render(catalog: catalog, job: receipt, template: "payment-received", channel: .push, tone: "firm", locale: "en-US", defaultLocale: "es-CR")
        #expect(firm.variant == "payment-received/push.en.mustache")
        #expect(firm.tone == "neutral")
        #expect(firm.tone_rule == "requested")
        #expect((firm.push_payload_bytes ?? 0) > 50)
    }

    @Test func previewRefusesAnAmountAsTheWorkerDoes() throws {
        let catalog = try TemplateCatalog(directory: repositoryTemplates)
        let job = try TemplatePreview.sampleJob(catalog: catalog, template: "due-today",
                                                data: ["amount_due": .string("99.999"), "currency": .string("USD"), "due_date": .string("2026-12-01"), "pay_link": .string("https://p.example")])
        #expect(throws: RenderError(code: Reason(stored: "invalid_value"), message: "data.amount_due 99.999 has 3 decimals; USD has 2 (used at due-today/sms.es.mustache:1:51)")) {
            try TemplatePreview.render(catalog: catalog, job: job, template: "due-today", channel: .sms, tone: nil, locale: nil, defaultLocale: "es-CR")
        }
    }

    @Test func previewWithOtherDataShowsWhatWouldBeRefused() throws {
        let catalog = try TemplateCatalog(directory: repositoryTemplates)
        let job = try TemplatePreview.sampleJob(catalog: catalog, template: "payment-reminder", data: ["currency": .string("USD")])
        #expect(throws: RenderError.self) {
            try TemplatePreview.render(catalog: catalog, job: job, template: "payment-reminder", channel: .email, tone: nil, locale: nil, defaultLocale: "es-CR")
        }
    }
}
