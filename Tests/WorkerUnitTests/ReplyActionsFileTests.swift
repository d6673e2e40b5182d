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

    /// An edit is in service at the next look; a wrong one is refused and the last good one stays,
    /// as does a file deleted while running; the edit mended is taken.
    @Test func anEditIsTakenAtTheNextLookAndAWrongOneLeavesTheLastGood() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reply-actions-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("reply-actions.yml").path
        try "promise_grace: 1d\n".write(toFile: path, atomically: true, encoding: .utf8)
        let reloaded = Counter()
        let source = try ReplyPolicySource(path: path, onReload: { _ in reloaded.add() })
        #expect(source.current.promiseGrace == 86_400)
        #expect(source.reloadIfChanged() == .unchanged)

        try "promise_grace: 2d\nintents: {dispute: {pause: contact}}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let now = Date()
        #expect(source.current(lookingEvery: 2, now: now).promiseGrace == 2 * 86_400)
        #expect(source.current.actions["dispute"]?.pause == .contact)
        #expect(reloaded.value == 1)

        try "promise_grace: soon\n".write(toFile: path, atomically: true, encoding: .utf8)
        // Not looked at again within the interval; then refused, naming the key.
        #expect(source.current(lookingEvery: 2, now: now.addingTimeInterval(1)).promiseGrace == 2 * 86_400)
        guard case .refused(let message) = source.reloadIfChanged() else { Issue.record("a wrong edit was not refused"); return }
        #expect(message.contains("promise_grace must be a duration"))
        #expect(source.refused == message && source.current.promiseGrace == 2 * 86_400)

        try FileManager.default.removeItem(atPath: path)
        guard case .refused = source.reloadIfChanged() else { Issue.record("a deleted file was not refused"); return }
        #expect(source.current.promiseGrace == 2 * 86_400 && source.refused?.contains("is missing") == true)

        try "promise_grace: 3d\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(source.reloadIfChanged() == .reloaded)
        #expect(source.current.promiseGrace == 3 * 86_400 && source.refused == nil && reloaded.value == 2)
        #expect(ReplyPolicySource(fixed: .standard).current(lookingEvery: 0) == .standard)

        // There but unreadable: refused at start-up, and while running the last good policy stays.
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        #expect(throws: ReplyActionsFile.Failure.self) { _ = try ReplyPolicySource(path: path) }
        guard case .refused(let unreadable) = source.reloadIfChanged() else { Issue.record("an unreadable file was not refused"); return }
        #expect(unreadable.contains("cannot be read") && source.current.promiseGrace == 3 * 86_400)
        #expect(source.reloadIfChanged() == .unchanged)
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }

}
