import Crypto
import Foundation
import GatewayCore

/// Twilio's status callbacks (`StatusCallback`), verified the way Twilio documents it:
/// `X-Twilio-Signature` is base64(HMAC-SHA1(auth token, the full callback URL followed by every
/// POST parameter name and value, sorted by name)).
public struct TwilioReceipts: Sendable {
    public let provider: String
    public let authToken: String
    /// The public URL Twilio calls (the provider's `status_callback`): behind a proxy the request
    /// URL the gateway sees differs, so the signature is checked against this one.
    public let callbackURL: String
    /// Only when a provider file says `accept_unsigned_receipts: true` (a test bench without Twilio).
    public let acceptUnsigned: Bool

    public init(provider: String, authToken: String, callbackURL: String, acceptUnsigned: Bool = false) {
        self.provider = provider
        self.authToken = authToken
        self.callbackURL = callbackURL
        self.acceptUnsigned = acceptUnsigned
    }

    public static func signature(url: String, parameters: [(String, String)], authToken: String) -> String {
        var payload = url
        for (name, value) in parameters.sorted(by: { $0.0 < $1.0 }) { payload += name + value }
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(payload.utf8), using: SymmetricKey(data: Data(authToken.utf8)))
        return Data(mac).base64EncodedString()
    }

    public func isValid(signature: String?, parameters: [(String, String)]) -> Bool {
        guard let signature else { return acceptUnsigned }
        let expected = Self.signature(url: callbackURL, parameters: parameters, authToken: authToken)
        return ConstantTime.equal(Array(signature.utf8), Array(expected.utf8))
    }

    /// MessageStatus → the common status. Nil for statuses that say nothing new.
    public static func status(_ twilio: String) -> DeliveryStatus? {
        switch twilio {
        case "accepted", "queued", "scheduled": .queued
        case "sending", "sent": .sent
        case "delivered": .delivered
        case "undelivered": .undelivered
        case "failed", "canceled": .failed
        case "read": .opened
        default: nil
        }
    }

    /// A verified incoming-message webhook → the customer's message.
    public func inbound(parameters: [(String, String)], at: Date) -> Result<InboundMessage, ReceiptRejection> {
        let fields = Dictionary(parameters, uniquingKeysWith: { first, _ in first })
        guard let sid = fields["MessageSid"] ?? fields["SmsSid"], !sid.isEmpty else { return .failure(.init(message: "MessageSid is missing")) }
        guard let from = fields["From"], !from.isEmpty else { return .failure(.init(message: "From is missing")) }
        let raw = JSONValue.object(fields.mapValues(JSONValue.string)).serialized
        return .success(InboundMessage(provider: provider, messageID: sid, from: from, to: fields["To"] ?? "", body: fields["Body"] ?? "", at: at, raw: raw))
    }

    /// A verified callback → a receipt; nil (with the reason) when it is not one.
    public func receipt(parameters: [(String, String)], at: Date) -> Result<Receipt, ReceiptRejection> {
        let fields = Dictionary(parameters, uniquingKeysWith: { first, _ in first })
        guard let sid = fields["MessageSid"] ?? fields["SmsSid"], !sid.isEmpty else { return .failure(.init(message: "MessageSid is missing")) }
        guard let twilioStatus = fields["MessageStatus"] ?? fields["SmsStatus"] else { return .failure(.init(message: "MessageStatus is missing")) }
        guard let status = Self.status(twilioStatus) else { return .failure(.init(message: "unknown MessageStatus \"\(twilioStatus)\"")) }
        let raw = JSONValue.object(fields.mapValues(JSONValue.string)).serialized
        return .success(Receipt(provider: provider, messageID: sid, status: status, providerStatus: twilioStatus,
                                errorCode: fields["ErrorCode"].flatMap { $0.isEmpty ? nil : $0 }, at: at, raw: raw))
    }
}

public struct ReceiptRejection: Error, Sendable, Equatable {
    public var message: String
}

/// Comparison whose time does not depend on where the inputs differ (signatures must not leak).
public enum ConstantTime {
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
