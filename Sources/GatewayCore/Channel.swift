/// A way to reach a contact.
public enum Channel: String, Sendable, Codable, CaseIterable, Hashable {
    case sms
    case email
    case push
}

/// Why the job exists, which decides which rules apply (collection follows every rule;
/// transactional skips frequency caps but never opt-outs).
public enum Category: String, Sendable, Codable, Hashable {
    case collection
    case transactional
}
