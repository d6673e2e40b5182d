import Testing
@testable import Providers

@Suite struct WebhookProviderTests {
    @Test func signatureMatchesAnIndependentHMAC() {
        // Computed with Python's hmac module.
        #expect(WebhookProvider.signature(secret: "0123456789abcdef-secret", timestamp: 1_796_000_000, body: Array(#"{"body":"Hola"}"#.utf8))
                == "b25f524d16436fc2978734f68be3cd443098d3982bd5869e917bbd23a6a13476")
    }
}
