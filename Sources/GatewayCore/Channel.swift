/// A way to reach a contact.
public enum Channel: String, Sendable, Codable, CaseIterable, Hashable {
    case sms
    case email
    case push
}

/// The push service a device token belongs to: an FCM registration token only works with FCM,
/// an APNs device token only with APNs.
public enum PushPlatform: String, Sendable, Codable, Hashable {
    case fcm
    case apns
}

/// Why the job exists, which decides which rules apply (collection follows every rule;
/// transactional skips frequency caps and reply pauses but never opt-outs; reply is the gateway's
/// own answer to a customer's message, see `ReplyAnswer`).
public enum Category: String, Sendable, Codable, Hashable {
    case collection
    case transactional
    /// The opt-out confirmation or help text the gateway sends in answer to a reply: allowed at any
    /// hour and past the opt-out it confirms, only for a job id the gateway itself recorded.
    case reply
}
