import Foundation
import GatewayCore

/// A send the gateway does not know the fate of (`unknown`: interrupted, or possibly delivered),
/// as the claim recorded it: what a provider is asked about.
public struct SendInQuestion: Sendable, Equatable {
    public var jobID: String
    public var attempt: Int
    public var channel: Channel?
    /// The address the claim was sending to (E.164 phone, e-mail address, push token).
    public var address: String
    /// The exact text sent, and for e-mail the subject.
    public var body: String?
    public var subject: String?
    /// The provider may have taken it from `claimedAt` (the claim was written before the request)
    /// until `endedAt` (when the job was recorded unknown; nil: not yet).
    public var claimedAt: Date
    public var endedAt: Date?

    public init(jobID: String, attempt: Int, channel: Channel?, address: String, body: String?, subject: String? = nil,
                claimedAt: Date, endedAt: Date?) {
        self.jobID = jobID
        self.attempt = attempt
        self.channel = channel
        self.address = address
        self.body = body
        self.subject = subject
        self.claimedAt = claimedAt
        self.endedAt = endedAt
    }

    /// How far the provider's clock may be from ours, either way, when matching its times.
    public static let clockSlack: TimeInterval = 300

    /// The times a provider's record of this message may carry: the claim's window, widened by
    /// `clockSlack` each side. With no end yet, up to `now`.
    public func window(now: Date) -> ClosedRange<Date> {
        claimedAt.addingTimeInterval(-Self.clockSlack)...max(claimedAt, endedAt ?? now).addingTimeInterval(Self.clockSlack)
    }
}

/// What a provider said about a send.
public enum LookupResult: Sendable, Equatable {
    /// It has the message: its id (receipts carry it) and its status in the provider's words.
    case found(messageID: String, status: String)
    /// It answered, and had no such message to that address in the window; `detail` says what was searched.
    case notFound(detail: String)
    /// It could not say (not reachable, refused the query, the feature not on the account, logs
    /// no longer kept, several messages match): nothing is recorded, ask again later or by hand.
    case cannotTell(reason: String)
}

/// A provider that can be asked whether it took a message (`gateway reconcile --ask-providers`).
/// Twilio (its message list), Infobip (its SMS logs, kept 48 hours), SendGrid (the Email Activity
/// API, a paid add-on) and the sandbox (its outbox file) can. The others cannot, so they do not
/// conform: FCM and APNs keep no queryable record of pushes sent (an accepted push is only
/// "handed to the platform"); an SMTP relay's mail log is not reachable over SMTP; a webhook
/// receiver's records are its own, outside any protocol the gateway speaks (look them up by the
/// `Idempotency-Key` `<job id>/<attempt>`).
public protocol SendLookup: Sendable {
    func lookUp(_ send: SendInQuestion) async -> LookupResult
}

/// Shared by the lookups: one answer to the provider's record of a message.
enum LookupMatch {
    /// From the candidates that match, the result: one is found, none is not found, several is
    /// for a person to tell apart.
    static func decide(_ matches: [(id: String, status: String)], searched: String, provider: String) -> LookupResult {
        switch matches.count {
        case 0: .notFound(detail: "\(provider) had no such message: \(searched)")
        case 1: .found(messageID: matches[0].id, status: matches[0].status)
        default: .cannotTell(reason: "\(matches.count) messages at \(provider) match (\(matches.map(\.id).joined(separator: ", "))): \(searched); tell them apart by hand")
        }
    }

    /// An HTTP answer that is not the list asked for.
    static func refused(_ response: HTTPResponse, provider: String) -> LookupResult {
        let text = String(decoding: response.body.prefix(300), as: UTF8.self)
        return .cannotTell(reason: "\(provider) answered \(response.status) to the lookup: \(text)")
    }

    static func unreachable(_ error: HTTPClientError, provider: String) -> LookupResult {
        .cannotTell(reason: "could not ask \(provider): \(error.description)")
    }

    /// UTC calendar days, YYYY-MM-DD.
    static func day(_ date: Date) -> String {
        String(formatTimestamp(date).prefix(10))
    }
}
