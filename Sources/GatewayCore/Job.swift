import Foundation

/// A contact job as the scoring service writes it (ARCHITECTURE.md section 3), validated.
public struct Job: Sendable, Equatable {
    public struct Push: Sendable, Equatable {
        public var fcm: String?
        public var apns: String?
        public init(fcm: String? = nil, apns: String? = nil) {
            self.fcm = fcm
            self.apns = apns
        }
    }

    public struct Contact: Sendable, Equatable {
        public var id: String
        public var name: String?
        public var phone: String?
        public var email: String?
        public var push: Push?
        public var timezone: String?
        public var locale: String?
        public init(id: String, name: String? = nil, phone: String? = nil, email: String? = nil,
                    push: Push? = nil, timezone: String? = nil, locale: String? = nil) {
            self.id = id
            self.name = name
            self.phone = phone
            self.email = email
            self.push = push
            self.timezone = timezone
            self.locale = locale
        }
    }

    public struct Sentiment: Sendable, Equatable {
        public var label: String?
        public var score: Double?
        /// When the scoring service judged it (`sentiment.at`): a customer's reply after this sets the tone instead.
        public var at: Date?
        public init(label: String? = nil, score: Double? = nil, at: Date? = nil) {
            self.label = label
            self.score = score
            self.at = at
        }
    }

    /// The idempotency key: the same id is never sent twice.
    public var id: String
    public var template: String
    /// Channels in order of preference.
    public var channels: [Channel]
    public var contact: Contact
    public var debtID: String?
    public var segment: String?
    public var sentiment: Sentiment?
    /// Template data, exactly as sent.
    public var data: [String: JSONValue]
    /// Nil when the job does not say: the template's category applies.
    public var category: Category?
    public var expiresAt: Date?
    /// Delivery attempt number, starting at 1. Set by the gateway when it reschedules a job.
    public var attempt: Int

    public init(id: String, template: String, channels: [Channel], contact: Contact, debtID: String? = nil,
                segment: String? = nil, sentiment: Sentiment? = nil, data: [String: JSONValue] = [:],
                category: Category? = nil, expiresAt: Date? = nil, attempt: Int = 1) {
        self.id = id
        self.template = template
        self.channels = channels
        self.contact = contact
        self.debtID = debtID
        self.segment = segment
        self.sentiment = sentiment
        self.data = data
        self.category = category
        self.expiresAt = expiresAt
        self.attempt = attempt
    }

    /// The address this job gives for a channel, if any. For push, a provider tied to one push
    /// service (`platform`) gets that service's token; one that is not (a webhook, the sandbox)
    /// gets the FCM token, else the APNs one.
    public func address(for channel: Channel, platform: PushPlatform? = nil) -> String? {
        switch channel {
        case .sms: contact.phone
        case .email: contact.email
        case .push:
            switch platform {
            case .fcm: contact.push?.fcm
            case .apns: contact.push?.apns
            case nil: contact.push.flatMap { $0.fcm ?? $0.apns }
            }
        }
    }

    /// Every push token the job carries.
    public var pushTokens: [String] { [contact.push?.fcm, contact.push?.apns].compactMap { $0 } }
}
