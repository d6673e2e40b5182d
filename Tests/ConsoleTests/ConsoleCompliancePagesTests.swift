import Foundation
import GRDB
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RedisQueue
import Templates
import TestSupport
import Testing
import Worker
@testable import Console
@testable import ContactLog
@testable import GatewayHTTP

/// The compliance and operator pages (contacts and timelines, opt-outs, escalations, reports,
/// audit, status) over the real Redis and a SQLite log: who may see what, escaping of hostile
/// values, the log_read each read records, the charts' numbers, the CSV guard.
@Suite struct ConsoleCompliancePagesTests {
    /// One token per role (agent and metrics included), over the real Redis and a fresh SQLite log.
    struct Harness: Sendable {
        let plain: [String: String]
        let tokens: APITokens
        let redis: RedisClient
        let store: SQLiteContactLog
        let templates: TemplateStore
        let console: Console

        init(operations: ConsoleOperations = ConsoleOperations()) throws {
            var plain: [String: String] = [:]
            var entries: [APITokens.Entry] = []
            for (name, roles) in [("compliance-ana", Set<Role>([.compliance])), ("agent-maria", [.agent]), ("marketing-luis", [.marketing]),
                                  ("scoring-service", [.scoring]), ("prometheus", [.metrics]), ("ops-admin", [.admin])] {
                let (token, hash) = APITokens.generate()
                plain[name] = token
                entries.append(.init(name: name, roles: roles, sha256: APITokens.bytes(hex: hash)!))
            }
            self.plain = plain
            let tokens = APITokens(entries: entries)
            self.tokens = tokens
            redis = try TestRedis.client()
            let requirements = try ContactRulesFile.templateRequirements(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path)
            templates = try TemplateStore(directory: repositoryRoot.appendingPathComponent("templates").path, requirements: requirements, defaultLocale: "es-CR")
            store = try SQLiteContactLog(path: FileManager.default.temporaryDirectory.appendingPathComponent("console-compliance-\(UUID().uuidString)/log.sqlite").path)
            console = Console(configuration: ConsoleConfiguration(defaultLocale: "en-US", sessionKeyPrefix: TestRedis.unique("console-compliance") + ":session:"),
                              tokens: { tokens }, redis: redis, templates: templates, store: store, logger: .init(label: "console-compliance-test"),
                              operations: operations)
        }

        func withApp(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
            let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templates, store: store, tokens: tokens,
                                                      console: console.routes()))
            try await app.test(.router, body)
        }

        /// A browser signed in as `name`, in English.
        func browser(_ client: any TestClientProtocol, _ name: String) async throws -> Browser {
            var browser = Browser(cookies: [Console.languageCookie: "en"])
            let response = try await browser.signIn(client, token: plain[name]!)
            #expect(response.status == .seeOther, "sign-in of \(name)")
            return browser
        }
    }

    static func at(_ text: String) -> Date { parseTimestamp(text)! }

    static let hostileContact = "C-<script>\"'\u{202E}1"
    static let hostileText = "Pague <script>alert(1)</script> \"ya\" 'hoy' \u{202E}gnp.exe"

    /// A contact's life in the log: its job arrives (zone America/Costa_Rica), is sent with the
    /// exact text, delivered, the customer replies (read as a dispute) and is opted out of SMS.
    static func seedTimeline(_ store: SQLiteContactLog, contact: String = hostileContact) async throws {
        let job = #"{"id":"J-1","template":"payment-reminder","channels":["sms"],"contact":{"id":"\#(contact.replacingOccurrences(of: "\"", with: "\\\""))","phone":"+50688887777","timezone":"America/Costa_Rica"},"debt_id":"LN-77"}"#
        _ = try await store.append([
            ContactEvent(jobID: "J-1", contactID: contact, kind: .received, at: at("2026-12-01T00:00:00Z"), streamID: "1-0", data: job, debtID: "LN-77"),
            ContactEvent(jobID: "J-1", contactID: contact, kind: .dispatching, at: at("2026-12-01T00:00:01Z"), channel: .sms, template: "payment-reminder",
                         tone: "firm", variant: "payment-reminder/sms.es.mustache", provider: "twilio", reason: "tone-default",
                         detail: "sending by sms through twilio", body: hostileText, address: "+50688887777",
                         data: #"{"tone_rule":"early-firm","sms_encoding":"UCS-2","sms_segments":2}"#, debtID: "LN-77", segment: "early"),
            ContactEvent(jobID: "J-1", contactID: contact, kind: .sent, at: at("2026-12-01T00:00:02Z"), channel: .sms, provider: "twilio",
                         providerMessageID: "SM-abc", reason: "provider_queued", address: "+50688887777", debtID: "LN-77", segment: "early"),
            ContactEvent(jobID: "J-1", contactID: contact, kind: .receipt, at: at("2026-12-01T00:01:00Z"), channel: .sms, provider: "twilio",
                         providerMessageID: "SM-abc", reason: "delivered", debtID: "LN-77"),
            ContactEvent(jobID: nil, contactID: contact, kind: .inbound, at: at("2026-12-01T01:00:00Z"), channel: .sms, provider: "twilio",
                         providerMessageID: "SM-in", reason: "dispute", detail: "+50688887777 wrote", body: "No debo <b>nada</b> \u{202E}",
                         address: "+50688887777",
                         data: #"{"intents":["dispute"],"label":"upset","score":-0.6,"language":"es"}"#, debtID: "LN-77"),
        ])
        try await store.setOptOut(OptOut(contactID: contact, channel: .sms, kind: .optOut, setBy: "twilio", setAt: at("2026-12-01T02:00:00Z"), reason: "STOP"))
    }

    static let pages = ["/console/contacts", "/console/contacts/C-1", "/console/contacts/C-1/opt-outs", "/console/escalations",
                        "/console/reports", "/console/audit", "/console/status"]

    @Test func eachRoleSeesOnlyThePagesItMayAndNoSessionGoesToSignIn() async throws {
        let harness = try Harness()
        try await harness.withApp { client in
            var anonymous = Browser()
            for path in Self.pages {
                let response = try await anonymous.get(client, path)
                #expect(response.status == .seeOther, "\(path) without a session")
                #expect(response.headers[.location] == "/console/sign-in?next=\(HTML.component(path))", "\(path)")
            }
            let allowed: [String: Set<String>] = [
                "compliance-ana": ["/console/contacts", "/console/contacts/C-1", "/console/contacts/C-1/opt-outs", "/console/escalations",
                                   "/console/reports", "/console/audit"],
                "agent-maria": ["/console/escalations"],
                "prometheus": ["/console/status"],
                "marketing-luis": [], "scoring-service": [],
                "ops-admin": Set(Self.pages),
            ]
            for (name, paths) in allowed {
                var browser = try await harness.browser(client, name)
                for path in Self.pages {
                    let response = try await browser.get(client, path)
                    #expect(response.status == (paths.contains(path) ? .ok : .forbidden), "\(name) GET \(path): \(response.status)")
                }
                // The header and home page link only to the sections the role may open.
                let home = String(buffer: try await browser.get(client, "/console/").body)
                for section in ["/console/contacts", "/console/escalations", "/console/reports", "/console/audit", "/console/status"] {
                    #expect(home.contains("href=\"\(section)\"") == paths.contains(section), "\(name) home links \(section)")
                }
            }
        }
    }

    @Test func formsWithoutTheCSRFFieldAreRefusedAndChangeNothing() async throws {
        let harness = try Harness()
        try await Self.seedTimeline(harness.store, contact: "C-1")
        let escalation = try await Self.seedEscalation(harness.store, contact: "C-2", id: "E1", intents: ["dispute"], at: "2026-12-01T00:00:00Z")
        try await harness.withApp { client in
            var admin = try await harness.browser(client, "ops-admin")
            let before = try await harness.store.lastSequence()
            let posts: [(String, [(String, String)])] = [
                ("/console/contacts/C-1/opt-outs", [("channel", "email"), ("kind", "opt_out"), ("reason", "asked by phone")]),
                ("/console/contacts/C-1/opt-outs/remove", [("channel", "sms"), ("reason", "asked again")]),
                ("/console/contacts/C-1/address-opt-out", [("address", "+50688881234"), ("reason", "consent on a call")]),
                ("/console/escalations/\(escalation)/resolve", [("note", "checked")]),
                ("/console/audit/verify", []),
            ]
            for (path, form) in posts {
                let missing = try await admin.post(client, path, form: form)
                #expect(missing.status == .forbidden, "\(path) without csrf")
                let wrong = try await admin.post(client, path, form: form + [("csrf", SessionStore.randomToken())])
                #expect(wrong.status == .forbidden, "\(path) with a wrong csrf")
            }
            #expect(try await harness.store.lastSequence() == before, "nothing appended")
            #expect(try await harness.store.optOuts(["C-1"])["C-1"]?.map(\.channel) == [.sms])
            #expect(try await harness.console.lastVerify() == nil)
            // Without a session a POST goes to sign-in.
            var anonymous = Browser()
            #expect(try await anonymous.post(client, "/console/contacts/C-1/opt-outs", form: [("csrf", "x")]).status == .seeOther)
        }
    }

    @Test func theTimelineShowsEveryEventEscapedInLocalTimeAndUTCAndIsRecordedAsTheAPIRecordsIt() async throws {
        let harness = try Harness()
        try await Self.seedTimeline(harness.store)
        try await harness.withApp { client in
            var browser = try await harness.browser(client, "compliance-ana")
            let response = try await browser.get(client, "/console/contacts/\(HTML.component(Self.hostileContact))")
            #expect(response.status == .ok)
            let html = String(buffer: response.body)
            // The exact text, escaped, isolated; nothing hostile is markup.
            #expect(html.contains("<pre class=\"sent-text\"><bdi>Pague &lt;script&gt;alert(1)&lt;/script&gt; &quot;ya&quot; &#39;hoy&#39; \u{202E}gnp.exe</bdi></pre>"))
            #expect(!html.contains("<script>alert(1)"))
            #expect(!html.contains("<b>nada</b>"))
            #expect(html.contains("No debo &lt;b&gt;nada&lt;/b&gt;"))
            #expect(html.contains("<bdi class=\"mono\">C-&lt;script&gt;&quot;&#39;\u{202E}1</bdi>"))
            // In the title (no markup there) the override is written out.
            #expect(html.contains("<title>Contact C-&lt;script&gt;&quot;&#39;<U+202E>1 –") || html.contains("<title>Contact C-&lt;script&gt;&quot;&#39;&lt;U+202E&gt;1 –"))
            // Every U+202E on the page is inside a <bdi> (or written out in the title).
            for range in html.ranges(of: "\u{202E}") {
                let before = html[..<range.lowerBound]
                let open = before.range(of: "<bdi", options: .backwards)?.lowerBound
                let close = before.range(of: "</bdi>", options: .backwards)?.lowerBound
                #expect(open != nil && (close == nil || close! < open!), "U+202E outside <bdi>")
            }
            // Local time (America/Costa_Rica, UTC-6) and UTC.
            #expect(html.contains("2026-11-30 18:00:01 (UTC-06:00)"))
            #expect(html.contains("2026-12-01 00:00:01 UTC"))
            #expect(html.contains("America/Costa_Rica"))
            // Rule, provider, message id, receipt, the reply's reading, the opt-out in force.
            for piece in ["early-firm", "UCS-2, 2 segments", "tone-default", "twilio", "SM-abc", ">receipt<", "delivered", "<strong>upset</strong>", "dispute", "payment-reminder/sms.es.mustache", "STOP"] {
                #expect(html.contains(piece), "timeline shows \(piece)")
            }
            // Oldest first.
            let received = try #require(html.range(of: ">received<")), inbound = try #require(html.range(of: ">inbound<"))
            #expect(received.lowerBound < inbound.lowerBound)

            // The read is a log_read event, the same as a timeline read through the API.
            let reads = try await harness.store.events(EventFilter(kinds: [.logRead]))
            let console = try #require(reads.last?.event)
            #expect(console.contactID == Self.hostileContact)
            #expect(console.reason == "api_read")
            let data = try JSONParser.parse(console.rawData ?? [])
            #expect(data["who"] == .string("compliance-ana"))
            // The path as the request had it (percent-encoded), as the API records its own.
            #expect(data["path"] == .string("/console/contacts/\(HTML.component(Self.hostileContact))"))
            #expect(data["rows"] == .number(6))
            let api = try await client.execute(uri: "/contacts/\(HTML.component(Self.hostileContact))/timeline", method: .get,
                                               headers: [.authorization: "Bearer \(harness.plain["compliance-ana"]!)"], body: nil)
            #expect(api.status == .ok)
            let apiRead = try #require(try await harness.store.events(EventFilter(kinds: [.logRead])).last?.event)
            #expect(apiRead.contactID == console.contactID && apiRead.kind == console.kind && apiRead.reason == console.reason)
            guard case .object(let apiFields) = try JSONParser.parse(apiRead.rawData ?? []), case .object(let consoleFields) = data else {
                Issue.record("log_read data is not an object")
                return
            }
            #expect(Set(apiFields.keys) == Set(consoleFields.keys))
        }
    }

    @Test func searchFindsAContactByPhoneEmailOrDebtAndRecordsTheRead() async throws {
        let harness = try Harness()
        try await Self.seedTimeline(harness.store, contact: "C-1")
        _ = try await harness.store.append([
            ContactEvent(jobID: "J-2", contactID: "C-2", kind: .sent, at: Self.at("2026-12-01T00:00:00Z"), channel: .email, provider: "sendgrid",
                         address: "ana@example.com", debtID: "LN-77"),
        ])
        try await harness.withApp { client in
            var browser = try await harness.browser(client, "compliance-ana")
            let phone = try await browser.get(client, "/console/contacts?by=phone&q=%2B506%208888-7777")
            #expect(phone.status == .seeOther)
            #expect(phone.headers[.location] == "/console/contacts/C-1")
            let email = try await browser.get(client, "/console/contacts?by=email&q=ana%40example.com")
            #expect(email.headers[.location] == "/console/contacts/C-2")
            let debt = try await browser.get(client, "/console/contacts?by=debt&q=LN-77")
            #expect(debt.status == .ok)
            let html = String(buffer: debt.body)
            #expect(html.contains("href=\"/console/contacts/C-1\"") && html.contains("href=\"/console/contacts/C-2\""))
            let reads = try await harness.store.events(EventFilter(kinds: [.logRead]))
            #expect(reads.count == 3)
            let none = try await browser.get(client, "/console/contacts?by=phone&q=%2B15550000000")
            #expect(String(buffer: none.body).contains("No contact in the log matches +15550000000."))
            let empty = try await browser.get(client, "/console/contacts?by=contact&q=%20")
            #expect(empty.status == .badRequest)
            #expect(String(buffer: empty.body).contains("<a href=\"#q\">Enter what to search for</a>"))
            #expect(try await browser.get(client, "/console/contacts?by=contact&q=C-1").headers[.location] == "/console/contacts/C-1")
        }
    }

    @Test func theLogAPIFiltersByAddressAsTheConsoleSearchDoes() async throws {
        let harness = try Harness()
        try await Self.seedTimeline(harness.store, contact: "C-1")
        _ = try await harness.store.append([ContactEvent(jobID: "J-2", contactID: "C-2", kind: .sent, at: Self.at("2026-12-01T00:00:00Z"), channel: .sms,
                                                         provider: "twilio", address: "+50677776666")])
        try await harness.withApp { client in
            let response = try await client.execute(uri: "/log?address=%2B50688887777", method: .get,
                                                    headers: [.authorization: "Bearer \(harness.plain["compliance-ana"]!)"], body: nil)
            #expect(response.status == .ok)
            guard case .array(let events)? = try JSONParser.parse(Array(buffer: response.body))["events"] else {
                Issue.record("no events array")
                return
            }
            #expect(events.count == 3, "dispatching, sent and the reply from +50688887777")
            #expect(events.allSatisfy { $0["address"] == .string("+50688887777") })
        }
    }

    @Test func complianceAddsAndRemovesOptOutsWithAReasonRecordedAsTheSignedInCaller() async throws {
        let harness = try Harness()
        try await harness.withApp { client in
            var browser = try await harness.browser(client, "compliance-ana")
            let path = "/console/contacts/C-9/opt-outs"
            var csrf = try #require(Browser.csrf(in: String(buffer: try await browser.get(client, path).body)))
            // Errors: the summary at the top links to each field; nothing written.
            let noReason = try await browser.post(client, path, form: [("csrf", csrf), ("channel", "sms"), ("kind", "opt_out"), ("reason", " ")])
            #expect(noReason.status == .badRequest)
            var html = String(buffer: noReason.body)
            #expect(html.contains("<a href=\"#reason\">Enter the reason</a>"))
            #expect(html.contains("id=\"reason-error\""))
            #expect(html.contains("<title>Error: "))
            let dnc = try await browser.post(client, path, form: [("csrf", csrf), ("channel", "sms"), ("kind", "do_not_contact"), ("reason", "letter")])
            #expect(String(buffer: dnc.body).contains("<a href=\"#channel-all\">Do not contact covers every channel"))
            let badChannel = try await browser.post(client, path, form: [("csrf", csrf), ("channel", "fax"), ("kind", "opt_out"), ("reason", "x")])
            #expect(String(buffer: badChannel.body).contains("<a href=\"#channel-all\">Choose a channel</a>"))
            #expect(try await harness.store.optOuts(["C-9"])["C-9"] == nil)

            let added = try await browser.post(client, path, form: [("csrf", csrf), ("channel", "sms"), ("kind", "opt_out"), ("reason", "asked on a call <b>")])
            #expect(added.status == .seeOther)
            #expect(added.headers[.location] == path + "?done=added")
            let mark = try #require(try await harness.store.optOuts(["C-9"])["C-9"]?.first)
            #expect(mark.channel == .sms && mark.kind == .optOut && mark.reason == "asked on a call <b>")
            #expect(mark.setBy == "compliance-ana via console")
            html = String(buffer: try await browser.get(client, path + "?done=added").body)
            #expect(html.contains("The mark is in force."))
            #expect(html.contains("asked on a call &lt;b&gt;"))
            csrf = try #require(Browser.csrf(in: html))

            let noRemoveReason = try await browser.post(client, path + "/remove", form: [("csrf", csrf), ("channel", "sms"), ("reason", "")])
            #expect(noRemoveReason.status == .badRequest)
            #expect(String(buffer: noRemoveReason.body).contains("<a href=\"#remove-reason-sms\">Enter the reason</a>"))
            let removed = try await browser.post(client, path + "/remove", form: [("csrf", csrf), ("channel", "sms"), ("reason", "customer asked to receive SMS again")])
            #expect(removed.status == .seeOther)
            #expect(try await harness.store.optOuts(["C-9"])["C-9"] == nil)
            let again = try await browser.post(client, path + "/remove", form: [("csrf", csrf), ("channel", "sms"), ("reason", "twice")])
            #expect(again.status == .notFound)
            // Both changes are in the log, with who and why.
            let changes = try await harness.store.events(EventFilter(contactID: "C-9", kinds: [.optOut, .optIn]))
            #expect(changes.map(\.event.kind) == [.optOut, .optIn])
            #expect(changes.allSatisfy { ($0.event.detail ?? "").contains("compliance-ana via console") })
            #expect(changes.last?.event.detail?.contains("customer asked to receive SMS again") == true)
        }
    }

    @Test func complianceLiftsAnAddressOptOutFromTheTimelineWithAReason() async throws {
        let harness = try Harness()
        let phone = "+50688881234"
        _ = try await harness.store.append([ContactEvent(jobID: "J-A1", contactID: "C-7", kind: .sent, at: Date().addingTimeInterval(-60), channel: .sms,
                                                         provider: "twilio", providerMessageID: "SM-A1", address: phone)])
        let message = InboundMessage(provider: "twilio", messageID: "in-A1", from: phone, to: "+15005550006", body: "ya no me escriban", at: Date(), raw: "{}", channel: .sms)
        let reading = ReplyReading(language: "es", label: "neutral", score: 0, intents: ["opt_out"])
        _ = try await harness.store.recordReply(message) { match in ReplyPlanner.plan(message: message, reading: reading, match: match, policy: .standard) }
        try await harness.withApp { client in
            var browser = try await harness.browser(client, "compliance-ana")
            let timeline = String(buffer: try await browser.get(client, "/console/contacts/C-7").body)
            let path = "/console/contacts/C-7/address-opt-out?address=%2B50688881234"
            #expect(timeline.contains("href=\"\(path)\">Lift this opt-out</a>"))
            var html = String(buffer: try await browser.get(client, path).body)
            #expect(html.contains("opted out for every contact at it"))
            let csrf = try #require(Browser.csrf(in: html))
            let noReason = try await browser.post(client, "/console/contacts/C-7/address-opt-out", form: [("csrf", csrf), ("address", phone), ("reason", " ")])
            #expect(noReason.status == .badRequest)
            #expect(String(buffer: noReason.body).contains("<a href=\"#reason\">Enter the reason</a>"))
            let lifted = try await browser.post(client, "/console/contacts/C-7/address-opt-out", form: [("csrf", csrf), ("address", phone), ("reason", "consent again on a call <b>")])
            #expect(lifted.status == .seeOther)
            #expect(lifted.headers[.location] == path + "&done=lifted")
            html = String(buffer: try await browser.get(client, path + "&done=lifted").body)
            #expect(html.contains("The opt-out was lifted"))
            #expect(html.contains("No reply&#39;s opt-out is in force") || html.contains("No reply's opt-out is in force"))
            let again = try await browser.post(client, "/console/contacts/C-7/address-opt-out", form: [("csrf", csrf), ("address", phone), ("reason", "twice")])
            #expect(again.status == .notFound)
            // An agent may not lift it.
            var agent = try await harness.browser(client, "agent-maria")
            #expect(try await agent.get(client, path).status == .forbidden)
        }
        let changes = try await harness.store.events(EventFilter(kinds: [.holdChanged])).map(\.event)
        #expect(changes.count == 1)
        #expect(changes.first?.address == phone)
        #expect(changes.first?.detail?.contains("compliance-ana via console: consent again on a call <b>") == true)
    }

    /// An escalation as the reply desk opens one: a reply from the contact's number read with `intents`.
    @discardableResult
    static func seedEscalation(_ store: SQLiteContactLog, contact: String, id: String, intents: [String], at time: String,
                               text: String = "no debo nada") async throws -> String {
        let phone = "+5068888\(String(format: "%04d", abs(contact.hashValue) % 10_000))"
        _ = try await store.append([ContactEvent(jobID: "J-\(id)", contactID: contact, kind: .sent, at: at(time).addingTimeInterval(-60), channel: .sms,
                                                 provider: "twilio", providerMessageID: "SM-\(id)", address: phone, debtID: "LN-\(id)")])
        let message = InboundMessage(provider: "twilio", messageID: "in-\(id)", from: phone, to: "+15005550006", body: text, at: at(time), raw: "{}", channel: .sms)
        let reading = ReplyReading(language: "es", label: "upset", score: -0.5, intents: intents)
        let plan = try await store.recordReply(message) { match in ReplyPlanner.plan(message: message, reading: reading, match: match, policy: .standard) }
        let escalation = try #require(plan?.escalations.first)
        return escalation.id
    }

    @Test func escalationsAreQueuedByPriorityThenDueAndOnlyAgentsResolveThem() async throws {
        let harness = try Harness()
        // paid: normal, due in 72 h; dispute: high, due in 24 h; hardship: normal, 72 h but received earlier.
        let paid = try await Self.seedEscalation(harness.store, contact: "C-1", id: "1", intents: ["paid"], at: "2026-11-20T00:00:00Z")
        let dispute = try await Self.seedEscalation(harness.store, contact: "C-2", id: "2", intents: ["dispute"], at: "2026-11-29T00:00:00Z",
                                                    text: "<script>alert(1)</script> \u{202E}no")
        let hardship = try await Self.seedEscalation(harness.store, contact: "C-3", id: "3", intents: ["hardship"], at: "2026-11-10T00:00:00Z")
        try await harness.withApp { client in
            var agent = try await harness.browser(client, "agent-maria")
            let list = String(buffer: try await agent.get(client, "/console/escalations").body)
            let positions = try [dispute, hardship, paid].map { id in try #require(list.range(of: "/console/escalations/\(id)\"")).lowerBound }
            #expect(positions == positions.sorted(), "high first, then by due time")
            #expect(list.contains("overdue"))

            var compliance = try await harness.browser(client, "compliance-ana")
            let read = try await compliance.get(client, "/console/escalations/\(dispute)")
            #expect(read.status == .ok)
            var html = String(buffer: read.body)
            #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(!html.contains("<script>alert(1)"))
            #expect(html.contains("Only the agent role resolves escalations"))
            // The contact's timeline lists the pause the dispute set, while it holds.
            let timeline = String(buffer: try await compliance.get(client, "/console/contacts/C-2").body)
            #expect(timeline.contains("Pauses and blocks in force"))
            #expect(timeline.contains("paused by dispute (debt LN-2), escalation \(dispute)"))
            #expect(!html.contains("name=\"note\""))
            let csrf = try #require(Browser.csrf(in: html))
            #expect(try await compliance.post(client, "/console/escalations/\(dispute)/resolve", form: [("csrf", csrf), ("note", "x")]).status == .forbidden)

            html = String(buffer: try await agent.get(client, "/console/escalations/\(dispute)").body)
            #expect(html.contains("name=\"note\""))
            let agentCSRF = try #require(Browser.csrf(in: html))
            let noNote = try await agent.post(client, "/console/escalations/\(dispute)/resolve", form: [("csrf", agentCSRF), ("note", "  ")])
            #expect(noNote.status == .badRequest)
            #expect(String(buffer: noNote.body).contains("<a href=\"#note\">Enter a note saying why it is resolved</a>"))
            let resolved = try await agent.post(client, "/console/escalations/\(dispute)/resolve", form: [("csrf", agentCSRF), ("note", "debt verified, letter sent"), ("lift", "yes")])
            #expect(resolved.status == .seeOther)
            let (escalation, holds) = try await harness.console.escalations.show(dispute)
            #expect(escalation.status == .resolved && escalation.resolvedBy == "agent-maria" && escalation.resolutionNote == "debt verified, letter sent")
            #expect(holds.allSatisfy { !$0.inForce(at: Date()) })
            #expect(!String(buffer: try await compliance.get(client, "/console/contacts/C-2").body).contains("Pauses and blocks in force"))
            let twice = try await agent.post(client, "/console/escalations/\(dispute)/resolve", form: [("csrf", agentCSRF), ("note", "again")])
            #expect(twice.status == .conflict)
            #expect(String(buffer: twice.body).contains("already resolved"))
            #expect(try await agent.get(client, "/console/escalations/E-0000000000000000").status == .notFound)
        }
    }

    static func outcome(_ job: String, _ kind: EventKind, day: String, channel: GatewayCore.Channel = .sms, segment: String?, reason: String? = nil,
                        provider: String? = nil) -> ContactEvent {
        ContactEvent(jobID: job, contactID: "C-\(job)", kind: kind, at: at("\(day)T12:00:00Z"), channel: channel, provider: provider,
                     providerMessageID: provider.map { _ in "m-\(job)" }, reason: reason, segment: segment)
    }

    @Test func reportChartsDrawTheTablesNumbersAndTheCSVIsGuarded() async throws {
        let harness = try Harness()
        var events: [ContactEvent] = []
        for index in 0..<5 { events.append(Self.outcome("S\(index)", .sent, day: "2026-11-02", segment: "early", reason: "provider_queued", provider: "twilio")) }
        for index in 0..<3 { events.append(Self.outcome("E\(index)", .sent, day: "2026-11-03", channel: .email, segment: "=HYPERLINK(\"http://x\")", provider: "sendgrid")) }
        for index in 0..<2 { events.append(Self.outcome("Q\(index)", .suppressed, day: "2026-11-03", segment: "late", reason: "opted_out")) }
        events.append(Self.outcome("Q9", .suppressed, day: "2026-11-03", segment: "late", reason: "-2+3"))
        events.append(Self.outcome("X1", .expired, day: "2026-11-04", segment: "@SUM(A1)", reason: "expired"))
        _ = try await harness.store.append(events)
        _ = try await harness.store.appendReceipt(Receipt(provider: "twilio", messageID: "m-S0", status: .delivered, providerStatus: "delivered", at: Self.at("2026-11-02T12:01:00Z"), raw: "{}"))
        try await harness.withApp { client in
            var browser = try await harness.browser(client, "compliance-ana")
            let response = try await browser.get(client, "/console/reports?from=2026-11-01&to=2026-11-05")
            #expect(response.status == .ok)
            let html = String(buffer: response.body)
            let summary = try await harness.store.summary(from: Self.at("2026-11-01T00:00:00Z"), to: Self.at("2026-11-05T00:00:00Z"))
            let tables = Console.reportTables(summary, language: .en)
            #expect(tables.map(\.id) == Console.reportViews)
            for table in tables {
                let section = try #require(Self.section(html, table.id))
                // Each bar's total is the table's number for that row.
                let bars = section.matches(of: /<g class="bar" data-label="([^"]*)" data-total="([^"]*)">/).map { (String($0.1), String($0.2)) }
                let rows = section.matches(of: /<tr><th scope="row"><bdi>([^<]*)<\/bdi><\/th>(.*?)<\/tr>/).map { match in
                    (String(match.1), match.2.matches(of: /<td class="numeric">([^<]*)<\/td>/).map { String($0.1) })
                }
                #expect(bars.count == rows.count && !rows.isEmpty, "\(table.id)")
                for ((barLabel, total), (rowLabel, cells)) in zip(bars, rows) {
                    #expect(barLabel == rowLabel, "\(table.id)")
                    let charted = table.id == "providers" ? cells[2] : table.id == "held-back" ? cells[0] : cells.last!
                    #expect(total == charted, "\(table.id) \(rowLabel): bar \(total), table \(charted)")
                }
            }
            // The numbers themselves.
            let byDay = try #require(tables.first { $0.id == "by-day" })
            #expect(byDay.rows.map(\.label) == ["2026-11-02", "2026-11-03", "2026-11-04"])
            #expect(byDay.rows.map { $0.values.last! } == [5, 6, 1])
            let held = try #require(tables.first { $0.id == "held-back" })
            #expect(held.rows.map(\.label) == ["-2+3", "expired", "opted_out"] && held.rows.map { $0.values[0] } == [1, 1, 2])
            let providers = try #require(tables.first { $0.id == "providers" })
            #expect(providers.rows.first { $0.label == "twilio" }?.values == [5, 1, 20])
            // Hostile labels are text in the SVG and the table.
            #expect(html.contains("=HYPERLINK(&quot;http://x&quot;)"))
            #expect(!html.contains("style=\"") && !html.contains("<script>"))

            // CSV: a value a spreadsheet would run gets an apostrophe; quotes doubled.
            let csv = try await browser.get(client, "/console/reports/by-segment.csv?from=2026-11-01&to=2026-11-05")
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            let text = String(buffer: csv.body)
            #expect(text.contains("\"'=HYPERLINK(\"\"http://x\"\")\",3,0,0,3\r\n"))
            #expect(text.contains("'@SUM(A1),0,0,1,1\r\n"))
            #expect(text.hasPrefix("Segment,sent,suppressed,expired,Jobs\r\n"))
            let reasons = String(buffer: try await browser.get(client, "/console/reports/held-back.csv?from=2026-11-01&to=2026-11-05").body)
            #expect(reasons.contains("'-2+3,1\r\n"))
            #expect(try await browser.get(client, "/console/reports/nothing.csv").status == .notFound)
            let bad = try await browser.get(client, "/console/reports?from=2026-13-01&to=2026-11-05")
            #expect(bad.status == .badRequest)
            #expect(String(buffer: bad.body).contains("<a href=\"#from\">Enter a day like 2026-11-01</a>"))
            // Every report read is recorded (the page, the two CSVs).
            let reads = try await harness.store.events(EventFilter(kinds: [.logRead]))
            #expect(reads.count == 3)
            #expect(reads.allSatisfy { $0.event.reason == "api_read" })
        }
    }

    /// The part of the page from the section's opening tag to the next section.
    static func section(_ html: String, _ id: String) -> Substring? {
        guard let start = html.range(of: "<section class=\"report-section\" id=\"\(id)\"") else { return nil }
        let rest = html[start.upperBound...]
        let end = rest.range(of: "</section>")?.lowerBound ?? rest.endIndex
        return rest[..<end]
    }

    @Test func auditVerifyRunsOnPostAndShowsTheHeadHash() async throws {
        let harness = try Harness()
        try await Self.seedTimeline(harness.store, contact: "C-1")
        try await harness.withApp { client in
            var browser = try await harness.browser(client, "compliance-ana")
            let first = String(buffer: try await browser.get(client, "/console/audit").body)
            #expect(first.contains("The chain has not been verified from the console yet."))
            let csrf = try #require(Browser.csrf(in: first))
            let run = try await browser.post(client, "/console/audit/verify", form: [("csrf", csrf)])
            #expect(run.status == .seeOther)
            #expect(run.headers[.location] == "/console/audit")
            let report = try await harness.store.verifyChain()
            let html = String(buffer: try await browser.get(client, "/console/audit").body)
            #expect(html.contains("The chain is intact"))
            #expect(html.contains("<code class=\"hash\">\(report.head)</code>"))
            #expect(html.contains("\(report.checked) events checked"))
            #expect(html.contains("Run by compliance-ana"))
            // A GET never runs verify: only the form's POST does.
            #expect(try await harness.console.lastVerify()?.head == report.head)
        }
    }

    @Test func auditVerifyNamesTheFirstBadEventOfABrokenChain() async throws {
        let harness = try Harness()
        try await Self.seedTimeline(harness.store, contact: "C-1")
        let second = try #require(try await harness.store.events(EventFilter()).dropFirst().first?.sequence)
        // Someone with write access to the file changes the text of an event.
        try await DatabaseQueue(path: harness.store.path).write { db in
            try db.execute(sql: "DROP TRIGGER events_no_update")
            try db.execute(sql: "UPDATE events SET body = 'Hola, nada pendiente' WHERE seq = \(second)")
            try db.execute(sql: SQLiteContactLog.noUpdateTrigger)
        }
        try await harness.withApp { client in
            var browser = try await harness.browser(client, "compliance-ana")
            let csrf = try #require(Browser.csrf(in: String(buffer: try await browser.get(client, "/console/audit").body)))
            #expect(try await browser.post(client, "/console/audit/verify", form: [("csrf", csrf)]).status == .seeOther)
            let html = String(buffer: try await browser.get(client, "/console/audit").body)
            #expect(html.contains("The chain is broken"))
            #expect(html.contains("First bad event: \(second) (altered)"))
            #expect(!html.contains("The chain is intact"))
        }
    }

    @Test func aLongTimelineIsPagedOverTheLogAsItWasAtTheFirstPage() async throws {
        let harness = try Harness()
        let start = Self.at("2026-11-01T00:00:00Z")
        _ = try await harness.store.append((0..<205).map { index in
            ContactEvent(jobID: "J-\(index)", contactID: "C-P", kind: .deferred, at: start.addingTimeInterval(Double(index) * 60), reason: "hours-CR",
                         detail: "event \(index)")
        })
        try await harness.withApp { client in
            var browser = try await harness.browser(client, "compliance-ana")
            let first = String(buffer: try await browser.get(client, "/console/contacts/C-P").body)
            #expect(first.matches(of: /<li class="event"/).count == 200)
            let next = try #require(first.firstMatch(of: /href="(\/console\/contacts\/C-P\?after=[0-9]+-[0-9]+)"/)?.1)
            // Appended meanwhile (the first page's own log_read among them): not on the next page.
            _ = try await harness.store.append([ContactEvent(jobID: "J-late", contactID: "C-P", kind: .deferred, at: Date(), detail: "late")])
            let second = String(buffer: try await browser.get(client, String(next)).body)
            #expect(second.matches(of: /<li class="event"/).count == 5)
            #expect(second.contains("event 204") && !second.contains(">late<") && !second.contains("event 199<"))
            #expect(!second.contains("?after="), "the last page has no next link")
            #expect(try await browser.get(client, "/console/contacts/C-P?after=junk").status == .badRequest)
        }
    }

    @Test func theStatusPageShowsReadinessQueueBreakersAndTemplatesToOperators() async throws {
        let operations = ConsoleOperations(
            readiness: Readiness(checks: [Readiness.Check(name: "redis") { nil }, Readiness.Check(name: "worker") { "no batch for 90 s <lane 2>" }]),
            queue: { ConsoleOperations.Queue(entries: 1200, waiting: 37, pending: 4, oldestPendingAge: 12.5, scheduled: 9, deadLetters: 2) },
            providers: { [ConsoleOperations.Provider(name: "twilio", channels: ["sms"], breaker: "open", openUntil: Self.at("2026-12-01T10:00:00Z")),
                          ConsoleOperations.Provider(name: "sendgrid", channels: ["email"], breaker: "closed", openUntil: nil)] },
            replyActionsRefused: { "reply-actions.yml: promise_grace must be a duration like 3d, 24h or 90m, got \"<soon>\"" })
        let harness = try Harness(operations: operations)
        try await harness.withApp { client in
            var browser = try await harness.browser(client, "prometheus")
            let response = try await browser.get(client, "/console/status")
            #expect(response.status == .ok)
            let html = String(buffer: response.body)
            #expect(html.contains("Not ready"))
            #expect(html.contains("no batch for 90 s &lt;lane 2&gt;"))
            for figure in [">1200<", ">37<", ">4<", ">12.5<", ">9<", ">2<"] { #expect(html.contains(figure), "queue figure \(figure)") }
            #expect(html.contains("open (not sending until 2026-12-01T10:00:00"))
            #expect(html.contains("closed (sending)"))
            #expect(html.contains("templates in service"))
            #expect(html.contains("The last edit of config/reply-actions.yml was refused"))
            #expect(html.contains("promise_grace must be a duration like 3d, 24h or 90m, got &quot;&lt;soon&gt;&quot;"))
            var compliance = try await harness.browser(client, "compliance-ana")
            #expect(try await compliance.get(client, "/console/status").status == .forbidden)
        }
    }

    @Test func thePagesSpeakSpanish() async throws {
        let harness = try Harness()
        try await Self.seedTimeline(harness.store, contact: "C-1")
        try await harness.withApp { client in
            var browser = try await harness.browser(client, "ops-admin")
            browser.cookies[Console.languageCookie] = "es"
            let expected = ["/console/contacts": "Buscar un contacto", "/console/contacts/C-1": "Todos los eventos de este contacto", "/console/contacts/C-1/opt-outs": "Bajas de",
                            "/console/escalations": "Escalamientos", "/console/reports": "Informes", "/console/audit": "Auditoría", "/console/status": "Estado"]
            for (path, words) in expected {
                let html = String(buffer: try await browser.get(client, path).body)
                #expect(html.contains("<html lang=\"es\">") && html.contains(words), "\(path) in Spanish")
            }
        }
    }

    @Test func theNewPagesHaveNoInlineScriptOrStyle() async throws {
        let harness = try Harness()
        try await Self.seedTimeline(harness.store, contact: "C-1")
        let escalation = try await Self.seedEscalation(harness.store, contact: "C-2", id: "9", intents: ["dispute"], at: "2026-12-01T00:00:00Z")
        try await harness.withApp { client in
            var browser = try await harness.browser(client, "ops-admin")
            for path in Self.pages + ["/console/escalations/\(escalation)", "/console/contacts?by=debt&q=LN-77"] {
                let html = String(buffer: try await browser.get(client, path).body)
                #expect(!html.contains("<style") && !html.contains("style=\""), "\(path)")
                #expect(html.range(of: #"\son[a-z]+\s*="#, options: .regularExpression) == nil, "inline event handler on \(path)")
                for match in html.matches(of: /<script([^>]*)>/) { #expect(match.1.contains("src=\"/console/static/"), "inline script on \(path)") }
                // Every form that posts carries the CSRF field.
                for form in html.matches(of: /<form method="post"[^>]*>(.*?)<\/form>/.dotMatchesNewlines()) {
                    #expect(form.1.contains("name=\"csrf\""), "a form on \(path) without csrf")
                }
            }
        }
    }
}
