import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Templates
import Testing
@testable import Console
@testable import GatewayHTTP

@Suite struct ConsoleTonePageTests {
    /// Signed in as `who`, in `language`.
    func browser(_ client: any TestClientProtocol, _ harness: ConsoleHarness, _ who: String, language: String = "en") async throws -> Browser {
        var browser = Browser(cookies: [Console.languageCookie: language])
        #expect(try await browser.signIn(client, token: harness.tokens.plain[who]!).status == .seeOther)
        return browser
    }

    func ask(_ fields: [(String, String)]) -> String {
        "/console/tones?answer=1&" + fields.map { "\($0.0)=\(HTML.component($0.1))" }.joined(separator: "&")
    }

    /// The text of the element with `id` (its first child text, tags dropped).
    func text(of id: String, in html: String) -> String? {
        guard let start = html.range(of: "id=\"\(id)\"") else { return nil }
        let rest = html[start.upperBound...]
        guard let open = rest.firstIndex(of: ">") else { return nil }
        let inner = rest[rest.index(after: open)...]
        let end = inner.range(of: "</dd>") ?? inner.range(of: "</code>")!
        return String(inner[..<end.lowerBound]).replacingOccurrences(of: #"<[^>]+>"#, with: "", options: .regularExpression)
    }

    @Test func thePolicyIsShownAsATableInItsOrder() async throws {
        let harness = try ConsoleHarness()
        try await harness.withApp { client in
            var browser = try await browser(client, harness, "marketing-luis")
            let page = try await browser.get(client, "/console/tones")
            #expect(page.status == .ok)
            let html = String(buffer: page.body)
            let policy = harness.templateStore.current.tonePolicy
            #expect(policy.rules.count >= 5)
            // Every rule, in the file's order, then the default.
            var cursor = html.startIndex
            for rule in policy.rules {
                let row = try #require(html.range(of: "<tr id=\"rule-\(rule.id)\"", range: cursor..<html.endIndex), "rule \(rule.id) missing or out of order")
                cursor = row.upperBound
            }
            #expect(html.range(of: "<tr id=\"rule-default\"", range: cursor..<html.endIndex) != nil)
            #expect(html.contains("<td>upset, worried, sad, anxious, distressed, hardship</td>"))
            #expect(html.contains("<td>31 or more</td>"))
            #expect(html.contains("<td>-0.5 or less</td>"))
            // No answer until asked; the form is a GET form (works without JavaScript).
            #expect(!html.contains("id=\"tone-answer\""))
            #expect(html.contains("<form method=\"get\" action=\"/console/tones\""))
            // Listed on the home page for marketing.
            #expect(String(buffer: try await browser.get(client, "/console/").body).contains("href=\"/console/tones\""))
        }
    }

    @Test func theAnswerIsTheWorkersToneRuleAndFile() async throws {
        let harness = try ConsoleHarness()
        let catalog = harness.templateStore.current
        try await harness.withApp { client in
            var browser = try await browser(client, harness, "compliance-ana")
            let cases: [(fields: [(String, String)], tone: String, rule: String, file: String)] = [
                ([("sentiment", "Upset"), ("template", "early-delinquency"), ("channel", "sms"), ("locale", "es-CR")],
                 "empathetic", "distressed-customer", "early-delinquency/sms.empathetic.es.mustache"),
                ([("days_past_due", "45"), ("segment", "late"), ("template", "late-delinquency"), ("channel", "email"), ("locale", "en-US")],
                 "firm", "late-stage", "late-delinquency/email.firm.en.mustache"),
                ([("score", "-0.7"), ("days_past_due", "45"), ("template", "late-delinquency"), ("channel", "push"), ("locale", "")],
                 "empathetic", "very-negative-score", "late-delinquency/push.empathetic.es.mustache"),
                ([("intents", "promise_to_pay, hardship"), ("template", "early-delinquency"), ("channel", "sms"), ("locale", "es-MX")],
                 "empathetic", "hardship-reply", "early-delinquency/sms.empathetic.es.mustache"),
                ([("sentiment", "upset"), ("category", "transactional"), ("template", "payment-received"), ("channel", "email"), ("locale", "es-CR")],
                 "neutral", "receipts-stay-neutral", "payment-received/email.es.mustache"),
                ([("days_past_due", "3"), ("template", "early-delinquency"), ("channel", "sms"), ("locale", "en-US")],
                 "neutral", "default", "early-delinquency/sms.en.mustache"),
            ]
            for item in cases {
                let page = try await browser.get(client, ask(item.fields))
                #expect(page.status == .ok, "\(item.fields)")
                let html = String(buffer: page.body)
                #expect(text(of: "answer-tone", in: html) == item.tone, "\(item.fields)")
                #expect(text(of: "answer-file", in: html) == item.file, "\(item.fields)")
                if item.rule == "default" {
                    #expect(text(of: "answer-rule", in: html) == "the default tone: no rule holds")
                    #expect(html.contains("<tr id=\"rule-default\" class=\"row-chosen\">"))
                } else {
                    #expect(html.contains("<a href=\"#rule-\(item.rule)\"><code>\(item.rule)</code></a>"), "\(item.fields)")
                    #expect(html.contains("<tr id=\"rule-\(item.rule)\" class=\"row-chosen\">"), "\(item.fields)")
                }
                #expect(html.components(separatedBy: "class=\"row-chosen\"").count == 2, "exactly one rule is marked")
                // The fields keep what was asked.
                for (name, value) in item.fields where !["category", "template", "channel", "locale"].contains(name) {
                    #expect(html.contains("name=\"\(name)\" type=\"text\" inputmode=") && html.contains("value=\"\(value)\""), "\(name)")
                }
            }
            // The same facts through the worker's path (a job, ToneFacts from it, render) pick the same file.
            var job = try TemplatePreview.sampleJob(catalog: catalog, template: "late-delinquency")
            job.contact.locale = "en-US"
            job.sentiment = nil
            job.data["days_past_due"] = .number(45)
            let facts = ToneFacts(job: job, category: .collection, now: Date())
            let decided = catalog.tonePolicy.tone(for: facts)
            let rendered = try catalog.render(template: "late-delinquency", channel: .email, tone: decided.tone, job: job, category: .collection,
                                              defaultLocale: "es-CR")
            #expect(decided.rule == "late-stage")
            #expect(rendered.variant == "late-delinquency/email.firm.en.mustache")
        }
    }

    @Test func aToneTheTemplateIsNotWrittenInFallsBackAndSaysSo() async throws {
        let harness = try ConsoleHarness()
        try await harness.withApp { client in
            var browser = try await browser(client, harness, "marketing-luis")
            let html = String(buffer: try await browser.get(client, ask([("sentiment", "sad"), ("template", "payment-reminder"),
                                                                           ("channel", "sms"), ("locale", "es-CR")])).body)
            #expect(text(of: "answer-tone", in: html) == "empathetic")
            #expect(text(of: "answer-file", in: html) == "payment-reminder/sms.es.mustache")
            #expect(html.contains("The template has no empathetic file for this channel, so the neutral file is sent."))
        }
    }

    @Test func wrongAnswersAreListedInTheErrorSummaryLinkingToTheirFields() async throws {
        let harness = try ConsoleHarness()
        try await harness.withApp { client in
            var browser = try await browser(client, harness, "marketing-luis")
            let page = try await browser.get(client, ask([("score", "5"), ("days_past_due", "doce"), ("template", "opt-out-confirmation"),
                                                          ("channel", "push"), ("locale", "es-CR")]))
            #expect(page.status == .badRequest)
            let html = String(buffer: page.body)
            #expect(html.contains("<title>Error: Tone policy"))
            #expect(html.contains("<a href=\"#score\">Enter the score as a number from -1 to 1, like -0.6</a>"))
            #expect(html.contains("<a href=\"#days_past_due\">Enter days past due as a whole number, like 12 or -3</a>"))
            #expect(html.contains("<a href=\"#channel\">The template opt-out-confirmation has no push message: choose another channel</a>"))
            #expect(html.contains("id=\"days_past_due-error\""))
            #expect(html.contains("value=\"doce\""), "the typed value is kept")
            #expect(!html.contains("id=\"tone-answer\""))
            // A template that does not exist, in Spanish.
            var spanish = try await self.browser(client, harness, "marketing-luis", language: "es")
            let missing = String(buffer: try await spanish.get(client, ask([("template", "<nope>"), ("channel", "sms")])).body)
            #expect(missing.contains("<a href=\"#template\">No hay ninguna plantilla llamada &lt;nope&gt;</a>"))
            #expect(missing.contains("Política de tono"))
        }
    }

    @Test func onlyMarketingAndComplianceSeeThePage() async throws {
        let harness = try ConsoleHarness()
        try await harness.withApp { client in
            var scoring = try await browser(client, harness, "scoring-service")
            #expect(try await scoring.get(client, "/console/tones").status == .forbidden)
            var nobody = Browser()
            let redirect = try await nobody.get(client, "/console/tones?answer=1&template=due-today&channel=sms")
            #expect(redirect.status == .seeOther)
            #expect(redirect.headers[.location]?.hasPrefix("/console/sign-in?next=") == true)
        }
    }
}
