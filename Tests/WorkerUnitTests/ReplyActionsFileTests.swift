import Conversations
import Foundation
import GatewayCore
import Testing

/// config/reply-actions.yml: the shipped file is the standard policy; mistakes name the key.
@Suite struct ReplyActionsFileTests {
    @Test func theShippedFileIsTheStandardPolicy() throws {
        #expect(try ReplyActionsFile.load(path: repositoryRoot.appendingPathComponent("config/reply-actions.yml").path) == .standard)
        #expect(try ReplyActionsFile.load(path: "/nonexistent/reply-actions.yml") == .standard)
    }

    @Test(arguments: [
        ("colour: red", "unknown key \"colour\""),
        ("intents: {opt_out: {escalate: true}}", "intents.opt_out: not an intent with configurable actions"),
        ("intents: {dispute: {pause: everything}}", "intents.dispute.pause must be contact, debt or none"),
        ("intents: {paid: {pause: none, pause_for: 3d}}", "intents.paid.pause_for needs pause: contact or debt"),
        ("intents: {hardship: {sla: soon}}", "intents.hardship.sla must be a duration"),
        ("intents: {lawyer: {priority: urgent}}", "intents.lawyer.priority must be high or normal"),
        ("promise_grace: -1d", "promise_grace must be a duration"),
        ("templates: {help: \"../etc/passwd\"}", "templates.help must be a template name"),
        ("[1, 2", "not valid YAML"),
    ])
    func mistakesAreNamed(yaml: String, message: String) {
        #expect {
            _ = try ReplyActionsFile.parse(yaml, file: "reply-actions.yml")
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func aPolicyCanPauseADisputeForTheWholeContact() throws {
        let policy = try ReplyActionsFile.parse("intents: {dispute: {pause: contact, escalate: true, priority: high, sla: 12h}}\npromise_grace: 1d", file: "f")
        #expect(policy.actions["dispute"] == ReplyPolicy.Action(pause: .contact, escalate: true, priority: "high", sla: 12 * 3600))
        #expect(policy.promiseGrace == 86_400 && policy.actions["lawyer"] == ReplyPolicy.standard.actions["lawyer"])
    }
}
