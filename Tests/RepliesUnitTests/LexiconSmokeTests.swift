import Foundation
import Testing
@testable import Replies

@Suite struct LexiconSmokeTests {
    @Test func shippedLexiconsPassLint() throws {
        let files = try ReplyLexiconFile.read(directory: Shipped.directory)
        let (findings, lexicons) = ReplyLexiconFile.lexicons(files: files)
        #expect(findings.isEmpty, "\(findings.map(\.description).joined(separator: "\n"))")
        #expect(lexicons?.languages == ["en", "es"])
    }
}
