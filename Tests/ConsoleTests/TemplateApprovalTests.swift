import ContactLog
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Templates
import Testing
@testable import Console
@testable import GatewayHTTP

/// `template_approval: required`: a saved change waits, out of service, until a compliance user
/// other than its proposer approves it.
@Suite struct TemplateApprovalTests {
    static let file = "due-today/sms.es.mustache"
    static let editor = "/console/templates/due-today/sms.es.mustache"

    func source(_ harness: ConsoleHarness) throws -> String {
        try String(contentsOfFile: harness.templatesDirectory + "/" + Self.file, encoding: .utf8)
    }

    func events(_ harness: ConsoleHarness, _ kind: EventKind) async throws -> [ContactEvent] {
        try await harness.store.events(EventFilter(kinds: [kind], limit: 100)).map(\.event)
    }

    func data(_ event: ContactEvent?) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data((event?.data ?? "").utf8))) as? [String: Any] ?? [:]
    }

    /// The SMS the templates in service render for due-today's sample (what a worker would send).
    func served(_ store: TemplateStore) throws -> String {
        let job = try TemplatePreview.sampleJob(catalog: store.current, template: "due-today")
        return try TemplatePreview.render(catalog: store.current, job: job, template: "due-today", channel: .sms, tone: nil, locale: nil,
                                          defaultLocale: "es-CR").body
    }

    func signedIn(_ client: any TestClientProtocol, _ harness: ConsoleHarness, _ who: String) async throws -> Browser {
        var browser = Browser(cookies: [Console.languageCookie: "en"])
        #expect(try await browser.signIn(client, token: harness.tokens.plain[who]!).status == .seeOther)
        return browser
    }

    /// Saves `text` from the editor as `browser`'s user; returns the response and the proposal's id.
    func save(_ client: any TestClientProtocol, _ browser: inout Browser, _ text: String) async throws -> (TestResponse, String?) {
        let html = String(buffer: try await browser.get(client, Self.editor).body)
        let base = html.range(of: "name=\"base\" value=\"").map { String(html[$0.upperBound...].prefix(64)) } ?? ""
        let response = try await browser.post(client, Self.editor, form: [("csrf", Browser.csrf(in: html) ?? ""), ("base", base), ("intent", "save"),
                                                                            ("source", text)])
        let page = String(buffer: response.body)
        let id = page.range(of: "<a href=\"/console/approvals/").map { String(page[$0.upperBound...].prefix(43)) }
        return (response, id)
    }

    func decide(_ client: any TestClientProtocol, _ browser: inout Browser, _ id: String, _ action: String,
                note: String? = nil) async throws -> TestResponse {
        let page = String(buffer: try await browser.get(client, "/console/approvals/\(id)").body)
        var form = [("csrf", Browser.csrf(in: page) ?? "")]
        if let note { form.append(("note", note)) }
        // The approve form carries the hash of the text it showed.
        if let range = page.range(of: #"name="shown" value="[0-9a-f]{64}""#, options: .regularExpression) {
            form.append(("shown", String(page[range].dropLast().suffix(64))))
        }
        return try await browser.post(client, "/console/approvals/\(id)/\(action)", form: form)
    }

    @Test func aSavedChangeWaitsOutOfServiceUntilComplianceApprovesIt() async throws {
        let harness = try ConsoleHarness(copyTemplates: true, templateApproval: true)
        let original = try source(harness)
        let servedBefore = try served(harness.templateStore)
        let edited = original.replacingOccurrences(of: "Hola", with: "Buenos días")
        try await harness.withApp { client in
            var marketing = try await signedIn(client, harness, "marketing-luis")
            let (response, proposal) = try await save(client, &marketing, edited)
            #expect(response.status == .ok)
            let page = String(buffer: response.body)
            #expect(page.contains("Your change is waiting for approval by a compliance user."))
            let id = try #require(proposal)
            // Not in service: the file, this process's templates, a reload and a fresh start all keep the old text.
            #expect(try source(harness) == original)
            #expect(harness.templateStore.reloadIfChanged() == .unchanged)
            #expect(try served(harness.templateStore) == servedBefore)
            let restarted = try TemplateStore(directory: harness.templatesDirectory, requirements: harness.templateStore.requirements, defaultLocale: "es-CR")
            #expect(try served(restarted) == servedBefore)
            // Kept on disk, beside the templates, where the loader does not look.
            let kept = PendingChanges(templatesDirectory: harness.templatesDirectory).list().changes
            #expect(kept.map(\.id) == [id])
            #expect(kept.first?.textAfter == edited)
            // Recorded as proposed, not changed.
            #expect(try await events(harness, .templateChanged).isEmpty)
            let proposed = try await events(harness, .templateChangeProposed)
            #expect(proposed.count == 1)
            #expect(proposed.first?.variant == Self.file)
            let facts = data(proposed.first)
            #expect(facts["who"] as? String == "marketing-luis")
            #expect(facts["file"] as? String == Self.file)
            #expect(facts["sha256_before"] as? String == TemplateEditing.sha256(Data(original.utf8)))
            #expect(facts["sha256_after"] as? String == TemplateEditing.sha256(Data(edited.utf8)))
            #expect(facts["proposal"] as? String == id)
            // The lists say so; the editor still shows the text in service.
            #expect(String(buffer: try await marketing.get(client, "/console/templates").body).contains("Waiting for approval (1)"))
            let editor = String(buffer: try await marketing.get(client, Self.editor).body)
            #expect(editor.contains("id=\"pending-status\"") && editor.contains("href=\"/console/approvals/\(id)\""))
            #expect(editor.contains("Hola {{contact.first_name}}"))
            // Marketing sees the change but cannot approve it.
            let theirs = String(buffer: try await marketing.get(client, "/console/approvals/\(id)").body)
            #expect(theirs.contains("id=\"approval-wait\""))
            #expect(!theirs.contains("id=\"approve\""))
            #expect(try await decide(client, &marketing, id, "approve").status == .forbidden)
            #expect(try source(harness) == original)
            // Compliance sees the diff and approves: written into service as a save is.
            var compliance = try await signedIn(client, harness, "compliance-ana")
            #expect(String(buffer: try await compliance.get(client, "/console/").body).contains("href=\"/console/approvals\""))
            let list = String(buffer: try await compliance.get(client, "/console/approvals").body)
            #expect(list.contains("href=\"/console/approvals/\(id)\"") && list.contains("Waiting for approval"))
            let review = String(buffer: try await compliance.get(client, "/console/approvals/\(id)").body)
            #expect(review.contains("<del><span class=\"visually-hidden\">removed: </span>Hola {{contact.first_name}}"))
            #expect(review.contains("<ins><span class=\"visually-hidden\">added: </span>Buenos días {{contact.first_name}}"))
            // A pending file edited by hand (its text no longer the one its hash and the diff say) is refused.
            let pendingPath = harness.templateStore.directory + "/.pending/\(id).json"
            let pendingBytes = try Data(contentsOf: URL(fileURLWithPath: pendingPath))
            var forged = try #require(try JSONSerialization.jsonObject(with: pendingBytes) as? [String: Any])
            forged["textAfter"] = (forged["textAfter"] as? String ?? "") + "\nPague ya a la cuenta 123."
            try JSONSerialization.data(withJSONObject: forged).write(to: URL(fileURLWithPath: pendingPath))
            #expect(try await decide(client, &compliance, id, "approve").status == .conflict)
            #expect(try source(harness) == original)
            try pendingBytes.write(to: URL(fileURLWithPath: pendingPath))
            // An approval of another text than the page showed is refused too.
            let shownPage = String(buffer: try await compliance.get(client, "/console/approvals/\(id)").body)
            let wrongShown = try await compliance.post(client, "/console/approvals/\(id)/approve",
                                                       form: [("csrf", Browser.csrf(in: shownPage) ?? ""), ("shown", String(repeating: "0", count: 64))])
            #expect(wrongShown.status == .conflict)
            #expect(try source(harness) == original)
            let approved = try await decide(client, &compliance, id, "approve")
            #expect(approved.status == .seeOther)
            #expect(approved.headers[.location] == "/console/approvals?done=approved")
            #expect(try source(harness) == edited)
            #expect(try served(harness.templateStore).hasPrefix("Buenos dias Ana"))   // gsm7-transliterate: í → i
            let changed = try await events(harness, .templateChanged)
            #expect(changed.count == 1)
            let record = data(changed.first)
            #expect(record["who"] as? String == "marketing-luis")
            #expect(record["proposed_by"] as? String == "marketing-luis")
            #expect(record["approved_by"] as? String == "compliance-ana")
            #expect(record["proposal"] as? String == id)
            #expect(record["sha256_after"] as? String == TemplateEditing.sha256(Data(edited.utf8)))
            #expect(changed.first?.detail?.contains("approved by compliance-ana") == true)
            #expect(PendingChanges(templatesDirectory: harness.templatesDirectory).list().changes.isEmpty)
            #expect(String(buffer: try await compliance.get(client, "/console/approvals?done=approved").body).contains("id=\"approvals-empty\""))
            // The history shows the approved change like any other.
            #expect(String(buffer: try await compliance.get(client, Self.editor + "/history").body).contains("marketing-luis"))
        }
    }

    @Test func theProposerCannotApproveTheirOwnChange() async throws {
        let harness = try ConsoleHarness(copyTemplates: true, templateApproval: true)
        let original = try source(harness)
        try await harness.withApp { client in
            // An admin has the compliance role too, but not a second pair of eyes.
            var admin = try await signedIn(client, harness, "ops-admin")
            let (_, proposal) = try await save(client, &admin, original.replacingOccurrences(of: "Hola", with: "Saludos"))
            let id = try #require(proposal)
            let page = String(buffer: try await admin.get(client, "/console/approvals/\(id)").body)
            #expect(page.contains("id=\"approval-own\"") && !page.contains("id=\"approve\""))
            let refused = try await decide(client, &admin, id, "approve")
            #expect(refused.status == .forbidden)
            #expect(String(buffer: refused.body).contains("You cannot approve a change you proposed"))
            #expect(try source(harness) == original)
            #expect(try await events(harness, .templateChanged).isEmpty)
            var compliance = try await signedIn(client, harness, "compliance-ana")
            #expect(try await decide(client, &compliance, id, "approve").status == .seeOther)
            #expect(try source(harness).contains("Saludos"))
            #expect(data(try await events(harness, .templateChanged).first)["approved_by"] as? String == "compliance-ana")
        }
    }

    @Test func aStaleProposalIsRefusedAndCanBeRejectedWithANote() async throws {
        let harness = try ConsoleHarness(copyTemplates: true, templateApproval: true)
        let original = try source(harness)
        try await harness.withApp { client in
            var luis = try await signedIn(client, harness, "marketing-luis")
            var other = try await signedIn(client, harness, ConsoleTokens.trickyName)
            let (_, first) = try await save(client, &luis, original.replacingOccurrences(of: "Hola", with: "Saludos"))
            let (_, second) = try await save(client, &other, original.replacingOccurrences(of: "Hola", with: "Estimado"))
            let (a, b) = (try #require(first), try #require(second))
            var compliance = try await signedIn(client, harness, "compliance-ana")
            #expect(try await decide(client, &compliance, a, "approve").status == .seeOther)
            // The second was made on the file before the first went in: approving it would undo the first.
            let list = String(buffer: try await compliance.get(client, "/console/approvals").body)
            #expect(list.contains("File changed since"))
            let stale = try await decide(client, &compliance, b, "approve")
            #expect(stale.status == .conflict)
            let html = String(buffer: stale.body)
            #expect(html.contains("<a href=\"#approval-stale\">The file has changed since this change was proposed."))
            #expect(html.contains("id=\"approval-stale\""))
            #expect(try source(harness).contains("Saludos") && !(try source(harness)).contains("Estimado"))
            // Rejecting needs a note.
            let noNote = try await decide(client, &compliance, b, "reject", note: "  ")
            #expect(noNote.status == .badRequest)
            #expect(String(buffer: noNote.body).contains("<a href=\"#note\">Enter why you are rejecting the change</a>"))
            let rejected = try await decide(client, &compliance, b, "reject", note: "Made on an old version; please redo it on the current text.")
            #expect(rejected.status == .seeOther)
            #expect(rejected.headers[.location] == "/console/approvals?done=rejected")
            let record = try #require(try await events(harness, .templateChangeRejected).first)
            let facts = data(record)
            #expect(facts["who"] as? String == "compliance-ana")
            #expect(facts["proposed_by"] as? String == ConsoleTokens.trickyName)
            #expect(facts["note"] as? String == "Made on an old version; please redo it on the current text.")
            #expect(facts["proposal"] as? String == b)
            #expect(try await events(harness, .templateChanged).count == 1)
            #expect(PendingChanges(templatesDirectory: harness.templatesDirectory).list().changes.isEmpty)
            #expect(try await compliance.get(client, "/console/approvals/\(b)").status == .notFound)
        }
    }

    @Test func lintStillRefusesABrokenEditBeforeItIsProposed() async throws {
        let harness = try ConsoleHarness(copyTemplates: true, templateApproval: true)
        try await harness.withApp { client in
            var marketing = try await signedIn(client, harness, "marketing-luis")
            let (response, proposal) = try await save(client, &marketing, "Hola {{contact.first_name}},\n{{#pay_link}}pague en {{pay_link}}\nSTOP")
            #expect(response.status == .unprocessableContent)
            #expect(String(buffer: response.body).contains("<a href=\"#line-2\">Line 2:"))
            #expect(proposal == nil)
            #expect(PendingChanges(templatesDirectory: harness.templatesDirectory).list().changes.isEmpty)
            #expect(try await events(harness, .templateChangeProposed).isEmpty)
        }
    }

    @Test func withoutTheSettingThereIsNoApprovalStep() async throws {
        let harness = try ConsoleHarness(copyTemplates: true)
        let original = try source(harness)
        try await harness.withApp { client in
            var marketing = try await signedIn(client, harness, "marketing-luis")
            let home = String(buffer: try await marketing.get(client, "/console/").body)
            #expect(!home.contains("href=\"/console/approvals\""))
            let (response, proposal) = try await save(client, &marketing, original.replacingOccurrences(of: "Hola", with: "Saludos"))
            #expect(response.status == .ok && proposal == nil)
            #expect(try source(harness).contains("Saludos"))
            #expect(try await events(harness, .templateChangeProposed).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: harness.templatesDirectory + "/.pending"))
            #expect(try await marketing.get(client, "/console/approvals").status == .notFound)
        }
    }
}
