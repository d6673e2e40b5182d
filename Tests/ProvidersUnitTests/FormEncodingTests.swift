import Testing
import TestSupport
@testable import Providers

@Suite struct FormEncodingTests {
    @Test func encodesAsBrowsersAndTwilioExpect() {
        #expect(FormEncoding.encode([("Body", "a b&c=d+é/?")]) == "Body=a+b%26c%3Dd%2B%C3%A9%2F%3F")
        #expect(FakeTwilio.parseForm(FormEncoding.encode([("To", "+506"), ("Body", "ñ & 😀 100%")])) == ["To": "+506", "Body": "ñ & 😀 100%"])
    }
}
