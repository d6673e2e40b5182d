import GatewayCore
import Testing
@testable import Providers

/// Twilio's answers as `classify` reads them: Twilio's resource and error shapes, and a body the
/// gateway's strict JSON parser refuses, which Foundation's then reads.
@Suite struct TwilioAnswerTests {
    static func answer(_ status: Int, _ body: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(body.utf8))
    }

    @Test func resourcesAndErrorsAsTwilioWritesThem() {
        let created = #"{"account_sid": "AC1", "api_version": "2010-04-01", "body": "Hola", "num_segments": "1", "price": null, "sid": "SM0123", "status": "queued", "subresource_uris": {"media": "/2010-04-01/Accounts/AC1/Messages/SM0123/Media.json"}}"#
        #expect(TwilioProvider.classify(Self.answer(201, created)) == .accepted(messageID: "SM0123", status: "queued"))
        let invalid = #"{"code": 21211, "message": "The 'To' number +5060000 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}"#
        #expect(TwilioProvider.classify(Self.answer(400, invalid))
            == .permanentFailure(code: .provider("twilio", "21211"), message: "Twilio answered 400: The 'To' number +5060000 is not a valid phone number."))
        let busy = #"{"code": 20429, "message": "Too Many Requests", "status": 429}"#
        #expect(TwilioProvider.classify(Self.answer(429, busy)) == .retryableFailure(code: .http(429), message: "Twilio answered 429: Too Many Requests", retryAfter: nil))
    }

    @Test func aBodyTheStrictParserRefusesIsStillRead() {
        // A key given twice: the gateway's parser refuses it, Foundation's takes it.
        let twice = #"{"sid": "SM9", "status": "queued", "status": "queued"}"#
        #expect(TwilioProvider.classify(Self.answer(201, twice)) == .accepted(messageID: "SM9", status: "queued"))
        #expect(TwilioProvider.classify(Self.answer(201, "<html>ok</html>"))
            == .permanentFailure(code: .twilioNoSID, message: "Twilio answered 201 without a message sid; not retried to avoid a duplicate"))
    }
}
