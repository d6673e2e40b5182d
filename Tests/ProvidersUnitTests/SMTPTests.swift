import Testing
@testable import Providers

@Suite struct SMTPTests {
    @Test func headerInjectionIsImpossible() {
        #expect(!MIME.encodeWord("Pago\r\nBcc: everyone@example.com").contains("\r\nBcc"))
        #expect(MIME.encodeWord("Plain subject") == "Plain subject")
    }
}
