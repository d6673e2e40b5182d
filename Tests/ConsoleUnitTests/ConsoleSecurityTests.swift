import Testing
@testable import Console

/// Session and CSRF tokens, form decoding and the `next` redirect check; the headers, CSRF refusals
/// and escaping of served pages are in ConsoleTests' ConsoleSecurityTests.
@Suite struct ConsoleSecurityTests {
    @Test func sessionsAndCSRFTokensAreRandom() {
        let tokens = (0..<100).map { _ in SessionStore.randomToken() }
        #expect(Set(tokens).count == 100)
        #expect(tokens.allSatisfy(SessionStore.wellFormed))
        #expect(!SessionStore.wellFormed("short"))
        #expect(!SessionStore.wellFormed(String(repeating: "a", count: 42) + "/"))
    }

    @Test func formsAreDecodedStrictly() throws {
        let form = try Form.parse(Array("a=1+2%2B3&b=%C3%B1&c=".utf8))
        #expect(form["a"] == "1 2+3")
        #expect(form["b"] == "ñ")
        #expect(form["c"] == "")
        #expect(throws: Form.Refusal.self) { try Form.parse(Array("a=%4".utf8)) }
        #expect(throws: Form.Refusal.self) { try Form.parse(Array("a=%zz".utf8)) }
        #expect(throws: Form.Refusal.self) { try Form.parse(Array("a=%FF".utf8)) }
        #expect(throws: Form.Refusal.self) { try Form.parse(Array("a=1&a=2".utf8)) }
    }

    @Test func nextNeverLeavesTheConsole() {
        #expect(Console.safeNext("/console/templates?x=1") == "/console/templates?x=1")
        #expect(Console.safeNext("/console") == "/console")
        #expect(Console.safeNext("//evil.example/console") == nil)
        #expect(Console.safeNext("/console//evil.example") == nil)
        #expect(Console.safeNext("/consoles") == nil)
        #expect(Console.safeNext("https://evil.example/") == nil)
        #expect(Console.safeNext("/console/\\evil") == nil)
    }
}
