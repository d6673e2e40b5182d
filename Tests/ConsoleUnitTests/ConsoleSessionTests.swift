import Testing
@testable import Console

/// The console's phrases; sign-in, sessions in Redis and cookies are in ConsoleTests'
/// ConsoleSessionTests.
@Suite struct ConsoleSessionTests {
    @Test func everyPhraseIsInBothLanguages() {
        for phrase in Phrase.allCases {
            #expect(Strings.english[phrase] != nil, "no English for \(phrase)")
            #expect(Strings.spanish[phrase] != nil, "no Spanish for \(phrase)")
        }
    }
}
