import Foundation
import GatewayCore

/// The events a store writes on its own account (opt-out changes, dropped push tokens, prunes,
/// delivery receipts), built here once so both stores record the same words and the same data.
extension ContactEvent {
    /// A mark set (or changed): who set it, and why.
    public static func optOutSet(_ mark: OptOut) -> ContactEvent {
        ContactEvent(jobID: nil, contactID: mark.contactID, kind: .optOut, at: mark.setAt, channel: mark.channel,
                     reason: mark.kind.rawValue, detail: mark.sentence, data: json(["set_by": mark.setBy]))
    }

    /// A mark taken back.
    public static func optOutRemoved(contactID: String, channel: Channel?, by: String, reason: String?, at: Date) -> ContactEvent {
        let detail = "opt-out (\(channel?.rawValue ?? "all channels")) taken back by \(by) at \(formatTimestamp(at))" + (reason.map { ": \($0)" } ?? "")
        return ContactEvent(jobID: nil, contactID: contactID, kind: .optIn, at: at, channel: channel, reason: "opt_in",
                            detail: detail, data: json(["set_by": by]))
    }

    /// A push token the provider declared dead, never used again.
    public static func tokenDropped(_ token: String, contactID: String, provider: String, reason: String, at: Date) -> ContactEvent {
        ContactEvent(jobID: nil, contactID: contactID, kind: .tokenDropped, at: at, channel: .push, provider: provider, reason: reason,
                     detail: "\(provider) says the push token is no longer registered; it will not be used again", address: token)
    }

    /// What a retention prune removed, and the anchor the chain continues from.
    public static func pruned(removed: Int, cutoff: String, through: Int64, anchor: String, at: Date, by: String) -> ContactEvent {
        ContactEvent(jobID: nil, contactID: nil, kind: .pruned, at: at, reason: "retention",
                     detail: "\(by) removed \(removed) events from before \(cutoff) (through event \(through)); the chain continues from anchor \(anchor.prefix(12))…",
                     data: json(["by": by, "cutoff": cutoff, "through_seq": String(through), "removed": String(removed), "anchor": anchor]))
    }

    static func json(_ object: [String: String]) -> String {
        JSONValue.object(object.mapValues(JSONValue.string)).serialized
    }
}

/// The `sent` event a receipt reports on, as a store reads it back.
public struct ReceiptTarget: Sendable {
    public var jobID: String
    public var contactID: String?
    public var channel: Channel?
    public var attempt: Int

    public init(jobID: String, contactID: String?, channel: Channel?, attempt: Int) {
        self.jobID = jobID
        self.contactID = contactID
        self.channel = channel
        self.attempt = attempt
    }
}

extension Receipt {
    /// The receipt event, linked to the message it reports on.
    public func event(for target: ReceiptTarget?) -> ContactEvent {
        ContactEvent(jobID: target?.jobID, contactID: target?.contactID, kind: .receipt, at: at, attempt: target?.attempt ?? 1,
                     channel: target?.channel, provider: provider, providerMessageID: messageID, reason: status.rawValue,
                     detail: "\(provider) reported \(providerStatus)" + (errorCode.map { " (error \($0))" } ?? ""), data: raw)
    }

    /// A receipt for a message the log does not know, kept for review (nil: the same report is already kept).
    public func unmatchedEvent(alreadyKept: Bool) -> ContactEvent? {
        guard !alreadyKept else { return nil }
        var event = event(for: nil)
        event.detail = (event.detail ?? "") + "; no sent message has this id (kept for review)"
        return event
    }

    /// What recording this receipt comes to, given the statuses already recorded for its job: the
    /// event to write (nil for a repeat) and the result. A status that arrives after a later one is
    /// recorded, and said to be late.
    public func recording(for target: ReceiptTarget, earlier: [DeliveryStatus]) -> (event: ContactEvent?, result: ReceiptResult) {
        if earlier.contains(status) { return (nil, .duplicate) }
        var event = event(for: target)
        if let current = earlier.max(by: { $0.rank < $1.rank }), current.rank > status.rank {
            event.detail = (event.detail ?? "") + "; arrived after \(current.rawValue), which stays the current status"
            return (event, .late(jobID: target.jobID, current: current))
        }
        return (event, .recorded(jobID: target.jobID))
    }
}
