import Testing
@testable import Console

/// The compliance pages' words; the pages themselves, over Redis and a SQLite log, are in
/// ConsoleTests' ConsoleCompliancePagesTests.
@Suite struct ConsoleCompliancePagesTests {
    @Test func everyWordIsInBothLanguages() {
        for word in Word.allCases {
            #expect(Words.english[word] != nil, "\(word) has no English")
            #expect(Words.spanish[word] != nil, "\(word) has no Spanish")
        }
        #expect(Words.english.count == Word.allCases.count && Words.spanish.count == Word.allCases.count)
    }
}
