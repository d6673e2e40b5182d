import Testing
@testable import Console

/// The sign-in limit's terms; the limit itself, counted in Redis, is in ConsoleTests'
/// ConsoleSignInLimitTests.
@Suite struct ConsoleSignInLimitTests {
    @Test func everyTermIsInBothLanguages() {
        for term in Term.allCases {
            #expect(Terms.english[term] != nil, "\(term) has no English")
            #expect(Terms.spanish[term] != nil, "\(term) has no Spanish")
        }
        #expect(Terms.english.count == Term.allCases.count && Terms.spanish.count == Term.allCases.count)
    }
}
