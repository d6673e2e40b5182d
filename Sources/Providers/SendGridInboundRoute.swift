import Foundation
import GatewayCore

/// Where SendGrid posts a provider's inbound e-mail (Inbound Parse): the secret token its URL
/// carries and the parser of its multipart body.
public struct SendGridInboundRoute: Sendable {
    public var provider: String
    public var token: String
    public var parse: @Sendable (_ body: [UInt8], _ contentType: String?, _ at: Date) -> Result<InboundMessage, ReceiptRejection>

    public init(provider: String, token: String,
                parse: @escaping @Sendable (_ body: [UInt8], _ contentType: String?, _ at: Date) -> Result<InboundMessage, ReceiptRejection>) {
        self.provider = provider
        self.token = token
        self.parse = parse
    }
}
