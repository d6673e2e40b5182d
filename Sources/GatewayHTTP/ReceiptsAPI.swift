import ContactLog
import Foundation
import GatewayCore
import Hummingbird
import Logging
import Providers

/// POST /webhooks/twilio/status: Twilio's delivery reports. A report whose signature does not
/// verify against any configured Twilio provider is refused with 403 and logged.
enum ReceiptsAPI {
    static func twilio(body: [UInt8], signature: String?, verifiers: [TwilioReceipts], store: any ContactLogStore, logger: Logger) async throws -> Response {
        let parameters = FormEncoding.decode(String(decoding: body, as: UTF8.self))
        guard let verifier = verifiers.first(where: { $0.isValid(signature: signature, parameters: parameters) }) else {
            logger.warning("twilio status callback refused: bad or missing signature", metadata: [
                "signature_present": "\(signature != nil)", "message_sid": "\(parameters.first { $0.0 == "MessageSid" }?.1 ?? "-")",
            ])
            return JSONResponse.error(.forbidden, "bad_signature", verifiers.isEmpty
                ? "no Twilio provider with a status_callback is configured"
                : "X-Twilio-Signature does not match: check auth_token and that status_callback is the exact public URL Twilio calls")
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
}
