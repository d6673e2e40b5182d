import Crypto
import Foundation
import GatewayCore

/// SendGrid's signed Event Webhook: `X-Twilio-Email-Event-Webhook-Signature` is a base64 DER ECDSA
/// P-256 signature over SHA-256 of the `X-Twilio-Email-Event-Webhook-Timestamp` header followed by
/// the raw body, checked with the verification key shown in SendGrid's settings.
public struct SendGridEvents: Sendable {
    public let provider: String
    /// The verification key's DER bytes (the key type itself is not Sendable).
    let publicKeyDER: Data?
    public let acceptUnsigned: Bool

    /// `publicKey` as SendGrid shows it: base64 of the DER public key (a PEM block is accepted too).
    public init(provider: String, publicKey: String?, acceptUnsigned: Bool = false) throws {
        self.provider = provider
        self.acceptUnsigned = acceptUnsigned
        guard let publicKey else {
            publicKeyDER = nil
            return
        }
        do {
            if publicKey.contains("BEGIN PUBLIC KEY") {
                publicKeyDER = try P256.Signing.PublicKey(pemRepresentation: publicKey).derRepresentation
            } else {
                guard let der = Data(base64Encoded: publicKey.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                    throw ReceiptRejection(message: "the SendGrid verification key is not base64")
                }
                publicKeyDER = try P256.Signing.PublicKey(derRepresentation: der).derRepresentation
            }
        } catch let error as ReceiptRejection {
            throw error
        } catch {
            throw ReceiptRejection(message: "the SendGrid verification key is not a P-256 public key: \(error)")
        }
    }

    public func isValid(signature: String?, timestamp: String?, body: [UInt8]) -> Bool {
        guard let signature, let timestamp else { return acceptUnsigned && signature == nil }
        guard let keyDER = publicKeyDER, let publicKey = try? P256.Signing.PublicKey(derRepresentation: keyDER),
              let der = Data(base64Encoded: signature),
              let parsed = try? P256.Signing.ECDSASignature(derRepresentation: der) else { return false }
        return publicKey.isValidSignature(parsed, for: Data(timestamp.utf8) + Data(body))
    }

    public static func status(_ event: String) -> DeliveryStatus? {
        switch event {
        case "processed": .queued
        case "delivered": .delivered
        case "bounce": .bounced
        case "dropped": .failed
        case "open", "click": .opened
        case "spamreport": .spamReport
        case "unsubscribe", "group_unsubscribe": .unsubscribed
        default: nil  // "deferred": SendGrid is still trying; nothing changes for the customer.
        }
    }

    /// The batch of events → receipts (events that say nothing new are skipped).
    public func receipts(body: [UInt8]) -> Result<[Receipt], ReceiptRejection> {
        // The strict parser: an event with a key given twice ("event" twice: bounced or delivered?) is refused, not guessed.
        let value: JSONValue
        do { value = try JSONParser.parse(body) } catch {
            return .failure(ReceiptRejection(message: "the body is not valid JSON (\(error)); it must be a JSON array of events"))
        }
        guard case .array(let events) = value else {
            return .failure(ReceiptRejection(message: "the body must be a JSON array of events"))
        }
        var receipts: [Receipt] = []
        for event in events {
            guard let name = event["event"]?.string, let status = Self.status(name) else { continue }
            guard let sgID = event["sg_message_id"]?.string, let messageID = sgID.split(separator: ".").first.map(String.init) else { continue }
            let at: Date = if case .number(let seconds)? = event["timestamp"] { Date(timeIntervalSince1970: seconds) } else { Date() }
            receipts.append(Receipt(provider: provider, messageID: messageID, status: status, providerStatus: name,
                                    errorCode: event["reason"]?.string ?? event["status"]?.string, at: at, raw: event.serialized))
        }
        return .success(receipts)
    }
}
