import Foundation
import GatewayCore
import Testing
import Worker
@testable import Templates

@Suite struct TemplateStoreTests {
    @Test func editsAreReloadedAndBrokenEditsKeepTheLastGoodVersion() throws {
        let dir = try shippedTemplatesCopy([:])
        let requirements = try ContactRulesFile.templateRequirements(path: repositoryRules)
        let store = try TemplateStore(directory: dir, requirements: requirements, defaultLocale: "es-CR")
        let job = try TemplatePreview.sampleJob(catalog: store.current, template: "due-today")
        func sms() throws -> String {
            try store.current.render(template: "due-today", channel: .sms, tone: "neutral", job: job, category: .collection, defaultLocale: "es-CR").body
        }
        #expect(try sms().hasPrefix("Hola Ana, hoy vence"))
        #expect(store.reloadIfChanged() == .unchanged)

        let file = (dir as NSString).appendingPathComponent("due-today/sms.es.mustache")
        let original = try String(contentsOfFile: file, encoding: .utf8)
        try original.replacingOccurrences(of: "Hola", with: "Buenos días").write(toFile: file, atomically: true, encoding: .utf8)
        #expect(store.reloadIfChanged() == .reloaded)
        #expect(try sms().hasPrefix("Buenos dias Ana, hoy vence"))

        // A broken edit: refused, the previous version stays in service, the status says why.
        try (original + "{{#oops}}").write(toFile: file, atomically: true, encoding: .utf8)
        guard case .rejected(let errors) = store.reloadIfChanged() else {
            Issue.record("broken edit was not refused")
            return
        }
        #expect(errors == ["due-today/sms.es.mustache:2:1: error: section {{#oops}} is never closed with {{/oops}}"])
        #expect(try sms().hasPrefix("Buenos dias Ana, hoy vence"))
        #expect(store.currentStatus.rejectedErrors == errors)
        #expect(store.reloadIfChanged() == .unchanged)

        // An edit that parses but fails lint (no opt-out) is refused too.
        try original.replacingOccurrences(of: " {{> opt-out-sms.es}}", with: "").write(toFile: file, atomically: true, encoding: .utf8)
        guard case .rejected(let lintErrors) = store.reloadIfChanged() else {
            Issue.record("edit without opt-out was not refused")
            return
        }
        #expect(lintErrors.first?.contains("has no opt-out instruction") == true)

        try original.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(store.reloadIfChanged() == .reloaded)
        #expect(try sms().hasPrefix("Hola Ana, hoy vence"))
        #expect(store.currentStatus.rejectedAt == nil)
    }

    @Test func anEditLandingBetweenLintAndBuildNeverServes() throws {
        let dir = try shippedTemplatesCopy([:])
        let file = (dir as NSString).appendingPathComponent("due-today/sms.es.mustache")
        let original = try String(contentsOfFile: file, encoding: .utf8)
        let good = original.replacingOccurrences(of: "Hola", with: "Buenos días")
        // Parses, but has no opt-out instruction: lint refuses it.
        let refused = original.replacingOccurrences(of: " {{> opt-out-sms.es}}", with: " Sin salida.")
        // The edit that lands on disk once the reload has linted what it read.
        let landing = Landing()
        let store = try TemplateStore(directory: dir, requirements: try ContactRulesFile.templateRequirements(path: repositoryRules), defaultLocale: "es-CR",
                                      afterLint: { if let text = landing.take() { try? text.write(toFile: file, atomically: true, encoding: .utf8) } })
        let job = try TemplatePreview.sampleJob(catalog: store.current, template: "due-today")
        func sms() throws -> String {
            try store.current.render(template: "due-today", channel: .sms, tone: "neutral", job: job, category: .collection, defaultLocale: "es-CR").body
        }

        try good.write(toFile: file, atomically: true, encoding: .utf8)
        landing.set(refused)
        // What was linted (the good edit) is what goes into service, not what is on disk now.
        #expect(store.reloadIfChanged() == .reloaded)
        #expect(landing.take() == nil)
        #expect(try sms().hasPrefix("Buenos dias Ana"))
        #expect(try sms().contains("STOP"))

        // The refused edit is seen by the next look, and stays out of service.
        guard case .rejected(let errors) = store.reloadIfChanged() else {
            Issue.record("the edit without opt-out was not refused")
            return
        }
        #expect(errors.first?.contains("has no opt-out instruction") == true)
        #expect(try sms().contains("STOP"))
        #expect(store.currentStatus.rejectedAt != nil)
        #expect(store.reloadIfChanged() == .unchanged)
    }

    @Test func aFolderThatCannotBeReadKeepsTheTemplatesAndIsReportedOnce() throws {
        let dir = try shippedTemplatesCopy([:])
        let store = try TemplateStore(directory: dir, requirements: try ContactRulesFile.templateRequirements(path: repositoryRules), defaultLocale: "es-CR")
        let moved = dir + "-away"
        try FileManager.default.moveItem(atPath: dir, toPath: moved)
        #expect(store.reloadIfChanged() == .rejected(["\(dir): templates folder not found"]))
        #expect(store.reloadIfChanged() == .unchanged)
        #expect(store.current.hasTemplate("due-today"))
        #expect(store.currentStatus.rejectedErrors == ["\(dir): templates folder not found"])
        // Back as it was: nothing to reload, and the status is clean again.
        try FileManager.default.moveItem(atPath: moved, toPath: dir)
        #expect(store.reloadIfChanged() == .unchanged)
        #expect(store.currentStatus.rejectedAt == nil)
        #expect(store.currentStatus.rejectedErrors.isEmpty)
    }

    @Test func startUpRefusesTemplatesThatFailLint() throws {
        let dir = try shippedTemplatesCopy(["due-today/sms.en.mustache": { $0.replacingOccurrences(of: "{{> opt-out-sms.en}}", with: "") }])
        #expect { try TemplateStore(directory: dir, requirements: try ContactRulesFile.templateRequirements(path: repositoryRules), defaultLocale: "es-CR") } throws: {
            "\($0)".contains("due-today/sms.en.mustache: error: the message has no opt-out instruction")
        }
    }
}

/// A value handed from the test to the store's hook, once.
final class Landing: @unchecked Sendable {
    // @unchecked: `text` is only touched under `lock`.
    private let lock = NSLock()
    private var text: String?
    func set(_ value: String) { lock.withLock { text = value } }
    func take() -> String? { lock.withLock { defer { text = nil }; return text } }
}
