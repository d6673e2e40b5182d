import ContactLog
import Conversations
import Foundation
import GatewayCore
import Hummingbird
import Logging
import Providers

/// POST /webhooks/twilio/status: Twilio's delivery reports. A report whose signature does not
/// verify against any configured Twilio provider is refused with 403 and logged.
enum ReceiptsAPI {
    /// The form fields of a Twilio webhook and the provider whose auth token and URL sign them, or
    /// the 403 (logged) when none does. `urlKey` names the provider setting holding the URL;
    /// `unconfigured` is the answer when no provider sets it.
    static func verifiedTwilio(body: [UInt8], signature: String?, verifiers: [TwilioReceipts], what: String, urlKey: String,
                               unconfigured: String, logger: Logger) -> Result<(TwilioReceipts, [(String, String)]), WebhookRefusal> {
        let parameters = FormEncoding.decode(String(decoding: body, as: UTF8.self))
        guard let verifier = verifiers.first(where: { $0.isValid(signature: signature, parameters: parameters) }) else {
            logger.warning("twilio \(what) refused: bad or missing signature", metadata: [
                "signature_present": "\(signature != nil)", "message_sid": "\(parameters.first { $0.0 == "MessageSid" }?.1 ?? "-")",
            ])
            return .failure(WebhookRefusal(response: JSONResponse.error(.forbidden, "bad_signature", verifiers.isEmpty
                ? unconfigured
                : "X-Twilio-Signature does not match: check auth_token and that \(urlKey) is the exact public URL Twilio calls")))
        }
        return .success((verifier, parameters))
    }

    struct WebhookRefusal: Error { var response: Response }

    static func twilio(body: [UInt8], signature: String?, verifiers: [TwilioReceipts], store: any LogReader & LogAppender, logger: Logger) async throws -> Response {
        let verifier: TwilioReceipts, parameters: [(String, String)]
        switch verifiedTwilio(body: body, signature: signature, verifiers: verifiers, what: "status callback", urlKey: "status_callback",
                             unconfigured: "no Twilio provider with a status_callback is configured", logger: logger) {
        case .failure(let refusal): return refusal.response
        case .success(let verified): (verifier, parameters) = verified
        }
        switch verifier.receipt(parameters: parameters, at: Date()) {
        case .failure(let rejection):
            return JSONResponse.error(.badRequest, "bad_receipt", rejection.message)
        case .success(let receipt):
            let result = try await store.appendReceipt(receipt)
            if result == .unmatched {
                logger.warning("delivery report for an unknown message kept for review", metadata: ["provider": "\(receipt.provider)", "message_id": "\(receipt.messageID)"])
            }
            return Response(status: .noContent)
        }
    }

    /// POST /webhooks/twilio/inbound: a customer's SMS to one of our numbers (Twilio's messaging
    /// webhook, signed like status callbacks). Handed to the reply desk (recorded once, read, acted
    /// on). Answers empty TwiML: the gateway's own answers go out as jobs (Twilio's opt-out handling
    /// confirms bare STOP keywords itself, so the gateway does not confirm those a second time).
    static func twilioInbound(body: [UInt8], signature: String?, verifiers: [TwilioReceipts], desk: ReplyDesk, logger: Logger) async throws -> Response {
        let verifier: TwilioReceipts, parameters: [(String, String)]
        switch verifiedTwilio(body: body, signature: signature, verifiers: verifiers, what: "inbound message", urlKey: "inbound_url",
                             unconfigured: "no Twilio provider with an inbound_url is configured", logger: logger) {
        case .failure(let refusal): return refusal.response
        case .success(let verified): (verifier, parameters) = verified
        }
        switch verifier.inbound(parameters: parameters, at: Date()) {
        case .failure(let rejection):
            return JSONResponse.error(.badRequest, "bad_message", rejection.message)
        case .success(let message):
            _ = try await desk.handle(message)
            return Response(status: .ok, headers: [.contentType: "text/xml"],
                            body: .init(byteBuffer: ByteBuffer(string: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>")))
        }
    }

    /// POST /webhooks/sendgrid/events: a batch of SendGrid events, signed with ECDSA P-256.
    static func sendGrid(body: [UInt8], signature: String?, timestamp: String?, verifiers: [SendGridEvents],
                         store: any LogReader & LogAppender, logger: Logger) async throws -> Response {
        guard let verifier = verifiers.first(where: { $0.isValid(signature: signature, timestamp: timestamp, body: body) }) else {
            logger.warning("sendgrid event webhook refused: bad or missing signature", metadata: ["signature_present": "\(signature != nil)"])
            return JSONResponse.error(.forbidden, "bad_signature", verifiers.isEmpty
                ? "no SendGrid provider with an event_webhook_public_key is configured"
                : "the event webhook signature does not match the configured event_webhook_public_key")
        }
        switch verifier.receipts(body: body) {
        case .failure(let rejection):
            return JSONResponse.error(.badRequest, "bad_receipt", rejection.message)
        case .success(let receipts):
            for receipt in receipts {
                let result = try await store.appendReceipt(receipt)
                guard receipt.status == .unsubscribed || receipt.status == .spamReport else { continue }
                // The customer asked to stop (or marked the mail as spam): no more e-mail to them.
                let jobID: String? = switch result {
                case .recorded(let id), .late(let id, _): id
                case .duplicate, .unmatched: nil
                }
                if let jobID, let contact = try await store.events(EventFilter(jobID: jobID, kinds: [.sent], limit: 1)).first?.event.contactID {
                    try await store.setOptOut(OptOut(contactID: contact, channel: .email, kind: .optOut, setBy: "provider:\(receipt.provider)",
                                                     setAt: receipt.at, reason: "SendGrid \(receipt.providerStatus) event"))
                }
            }
            return Response(status: .noContent)
        }
    }

    /// The Infobip provider whose `report_token` the request's URL carries, or the 403 to answer.
    static func infobipCheck(token: String?, checks: [InfobipReports], what: String, logger: Logger) -> Result<InfobipReports, AuthRefusal> {
        guard let check = checks.first(where: { $0.isValid(token: token) }) else {
            logger.warning("infobip \(what) refused: missing or wrong token", metadata: ["token_present": "\(token != nil)"])
            return .failure(AuthRefusal(status: .forbidden, code: "bad_token", message: checks.isEmpty
                ? "no Infobip provider with a report_token is configured"
                : "the token in the URL does not match report_token"))
        }
        return .success(check)
    }

    /// POST /webhooks/infobip/inbound?token=...: customers' SMS to our Infobip numbers, accepted only
    /// with the secret token. Each goes to the reply desk, as for Twilio.
    static func infobipInbound(body: [UInt8], token: String?, checks: [InfobipReports], desk: ReplyDesk, logger: Logger) async throws -> Response {
        let check: InfobipReports
        switch infobipCheck(token: token, checks: checks, what: "inbound message", logger: logger) {
        case .failure(let refusal): return refusal.response
        case .success(let found): check = found
        }
        switch check.inbound(body: body, at: Date()) {
        case .failure(let rejection):
            return JSONResponse.error(.badRequest, "bad_message", rejection.message)
        case .success(let messages):
            for message in messages { _ = try await desk.handle(message) }
            return Response(status: .noContent)
        }
    }

    /// POST /webhooks/sendgrid/inbound?token=...: a customer's e-mail, as SendGrid's Inbound Parse
    /// posts it (multipart/form-data) to the secret URL. Answers 200 once recorded (SendGrid retries
    /// for 3 days on anything else), 403 for a wrong token, 400 for a body that is not a parse post.
    static func sendGridInbound(body: [UInt8], contentType: String?, token: String?, routes: [SendGridInboundRoute], desk: ReplyDesk,
                                logger: Logger) async throws -> Response {
        guard let token, let route = routes.first(where: { ConstantTime.equal(Array($0.token.utf8), Array(token.utf8)) }) else {
            logger.warning("sendgrid inbound e-mail refused: missing or wrong token", metadata: ["token_present": "\(token != nil)"])
            return JSONResponse.error(.forbidden, "bad_token", routes.isEmpty
                ? "no SendGrid provider with an inbound_token is configured"
                : "the token in the URL does not match inbound_token")
        }
        switch route.parse(body, contentType, Date()) {
        case .failure(let rejection):
            logger.warning("sendgrid inbound e-mail refused", metadata: ["reason": "\(rejection.message)"])
            return JSONResponse.error(.badRequest, "bad_message", rejection.message)
        case .success(let message):
            _ = try await desk.handle(message)
            return Response(status: .ok)
        }
    }

    /// POST /webhooks/infobip/reports?token=...: Infobip's delivery reports, accepted only with the secret token.
    static func infobip(body: [UInt8], token: String?, checks: [InfobipReports], store: any LogReader & LogAppender, logger: Logger) async throws -> Response {
        let check: InfobipReports
        switch infobipCheck(token: token, checks: checks, what: "report", logger: logger) {
        case .failure(let refusal): return refusal.response
        case .success(let found): check = found
        }
        switch check.receipts(body: body) {
        case .failure(let rejection):
            return JSONResponse.error(.badRequest, "bad_receipt", rejection.message)
        case .success(let receipts):
            for receipt in receipts { _ = try await store.appendReceipt(receipt) }
            return Response(status: .noContent)
        }
    }
}
