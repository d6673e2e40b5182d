import GatewayCore
import Testing
@testable import Console

/// The editor's line diff and the GSM tables its script counts with; the editor pages, saves and
/// history, over Redis and a SQLite log, are in ConsoleTests' TemplateEditorTests.
@Suite struct TemplateEditorTests {
    @Test func theDiffKeepsTheLinesInOrder() {
        let lines = TemplateDiff.lines(from: "a\nb\nc", to: "a\nB\nc\nd")
        #expect(lines == [.same("a"), .removed("b"), .added("B"), .same("c"), .added("d")])
        #expect(TemplateDiff.lines(from: "", to: "x") == [.removed(""), .added("x")])
    }

    @Test func theScriptCountsWithTheServersTables() {
        let tables = SMSEncoding.gsm7Tables
        #expect(Assets.gsm7.contains(JSONValue.string(tables.basic).serialized))
        #expect(Assets.gsm7.contains(JSONValue.string(tables.extended).serialized))
        #expect(tables.basic.unicodeScalars.count == 127)   // GSM 03.38's 128 less the escape
        #expect(tables.extended.unicodeScalars.count == 10)
    }
}
