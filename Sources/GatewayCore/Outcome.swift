import Foundation

/// The kinds of event the contact log records. A job has exactly one terminal event.
public enum EventKind: String, Sendable, Codable, CaseIterable {
    /// The job arrived (its JSON and stream entry are in the details).
    case received
    /// An entry whose job id already has a terminal outcome (or is being sent): acked, not sent again.
    case duplicate
    /// A send is about to start: written before the provider is called, so a crash can never turn
    /// into a silent second message.
    case dispatching
    /// A retryable provider failure; the job will be tried again at the time given.
    case retryScheduled = "retry_scheduled"
    /// A provider said a push token is dead (the app was uninstalled): it is never used again.
    case tokenDropped = "token_dropped"
    /// One provider failed in a way worth retrying and the next provider of the channel was tried.
    case providerFailed = "provider_failed"
    /// Held back by a contact rule (allowed hours, a cap) until the time in the details.
    case deferred
    /// A contact's opt-out or do-not-contact mark was set, or taken back (no job id).
    case optOut = "opt_out"
    case optIn = "opt_in"
    /// A provider's delivery report after `sent` (reason: the common status). Without a job id when
    /// no sent message has the provider's message id: kept for review, never dropped.
    case receipt
    /// A message the customer sent (an SMS reply): its text, and what it asked for (reason: stop,
    /// start, help, message). A STOP also records an opt-out.
    case inbound
    /// A reply a person must look at (reason: its intents; data: the escalation id and the holds it set).
    case escalation
    /// A person resolved an escalation (who, why, whether its pauses were lifted).
    case escalationResolved = "escalation_resolved"
    /// A pause or block set by a reply was lifted (by a person, or kept by a payment-received job).
    case holdChanged = "hold_changed"
    /// Someone read the log through the API (who, which query, how many rows): reads are on the record too.
    case logRead = "log_read"
    /// A retention prune removed whole expired months from the start of the log.
    case pruned
    /// A signed tree head over every hash chain's head (`gateway audit checkpoint`; data: the heads,
    /// the RFC 6962 root, the Ed25519 key and signature).
    case checkpoint
    /// Someone saved a template file through the web console (who, which file, SHA-256 before and after).
    case templateChanged = "template_changed"
    /// With `template_approval: required`: a template change saved in the console, waiting for a
    /// compliance user's approval (who, which file, SHA-256 before and after, the texts); not in service.
    case templateChangeProposed = "template_change_proposed"
    /// A compliance user turned a proposed template change down, with a note (the approval itself is
    /// the `template_changed` event, naming who proposed and who approved).
    case templateChangeRejected = "template_change_rejected"
    /// `gateway reconcile --ask-providers` asked the provider about an `unknown` send (reason
    /// `found`, with the provider's message id and status, or `not_found`). At most one per job:
    /// a found one shows the job as `sent` (reason `reconciled`); the `unknown` event stays.
    case reconciled
    // Terminal outcomes.
    case sent
    case suppressed
    case failed
    /// The gateway does not know whether the provider took the message (reason `interrupted`: the
    /// worker died mid-send; `possibly_delivered`: the connection failed after the whole request
    /// went out). Never sent again; `gateway reconcile` asks the provider.
    case unknown
    case expired
    case invalid

    public var isTerminal: Bool {
        switch self {
        case .sent, .suppressed, .failed, .unknown, .expired, .invalid: true
        case .received, .duplicate, .dispatching, .retryScheduled, .deferred, .optOut, .optIn, .receipt, .providerFailed, .tokenDropped, .logRead, .pruned, .checkpoint, .inbound,
             .templateChanged, .templateChangeProposed, .templateChangeRejected, .escalation, .escalationResolved, .holdChanged, .reconciled: false
        }
    }
}

/// One append-only row of the contact log.
public struct ContactEvent: Sendable, Equatable {
    public var jobID: String?
    public var contactID: String?
    public var kind: EventKind
    public var at: Date
    public var attempt: Int
    public var channel: Channel?
    public var template: String?
    public var tone: String?
    /// The template file that was rendered, relative to templates/ (e.g. payment-reminder/sms.es.mustache).
    public var variant: String?
    public var provider: String?
    public var providerMessageID: String?
    /// A stable code for the decision (e.g. "not_json", "twilio_21211", "interrupted").
    public var reason: String?
    /// The sentence a reviewer reads.
    public var detail: String?
    /// The exact text sent (or about to be sent).
    public var body: String?
    /// The address used (phone, e-mail, token).
    public var address: String?
    /// The Redis stream entry id the job came in as.
    public var streamID: String?
    /// Extra facts, as bytes: a JSON object (provider answers...), or for `received` the job
    /// exactly as it arrived, even when it is not UTF-8 JSON at all (a UTF-16 job, stray NULs).
    public var rawData: [UInt8]?
    /// `rawData` as text (bytes that are not UTF-8 read as U+FFFD); setting it stores its UTF-8.
    public var data: String? {
        get { rawData.map { String(decoding: $0, as: UTF8.self) } }
        set { rawData = newValue.map { Array($0.utf8) } }
    }
    /// The debt and segment of the job the event is about (for the log's filters and reports).
    public var debtID: String?
    public var segment: String?
    /// The job exactly as it arrived, on a `dispatching` event that also stands for the job's
    /// `received` (admitted and sent in the same batch: one row instead of two). Nil elsewhere;
    /// `received` keeps its job in `rawData`.
    public var job: [UInt8]?
    /// The job as it arrived, from whichever event of this job carries it (`received` or a
    /// `dispatching` that stands for it).
    public var arrivedJob: [UInt8]? { kind == .received ? rawData : job }

    public init(jobID: String?, contactID: String?, kind: EventKind, at: Date, attempt: Int = 1,
                channel: Channel? = nil, template: String? = nil, tone: String? = nil, variant: String? = nil,
                provider: String? = nil, providerMessageID: String? = nil, reason: String? = nil,
                detail: String? = nil, body: String? = nil, address: String? = nil,
                streamID: String? = nil, data: String? = nil, debtID: String? = nil, segment: String? = nil, rawData: [UInt8]? = nil,
                job: [UInt8]? = nil) {
        self.job = job
        self.debtID = debtID
        self.segment = segment
        self.jobID = jobID
        self.contactID = contactID
        self.kind = kind
        self.at = at
        self.attempt = attempt
        self.channel = channel
        self.template = template
        self.tone = tone
        self.variant = variant
        self.provider = provider
        self.providerMessageID = providerMessageID
        self.reason = reason
        self.detail = detail
        self.body = body
        self.address = address
        self.streamID = streamID
        self.rawData = rawData ?? data.map { Array($0.utf8) }
    }
}

/// A rendered message ready for a provider.
public struct OutboundMessage: Sendable, Equatable {
    public var jobID: String
    public var contactID: String
    public var attempt: Int
    public var channel: Channel
    /// Phone number, e-mail address or push token.
    public var to: String
    /// E-mail subject or push title.
    public var subject: String?
    /// SMS text, e-mail plain-text part or push body.
    public var body: String
    /// E-mail HTML part.
    public var html: String?

    public init(jobID: String, contactID: String, attempt: Int = 1, channel: Channel, to: String,
                subject: String? = nil, body: String, html: String? = nil) {
        self.jobID = jobID
        self.contactID = contactID
        self.attempt = attempt
        self.channel = channel
        self.to = to
        self.subject = subject
        self.body = body
        self.html = html
    }
}

/// What a provider answered for one message.
public enum DispatchResult: Sendable, Equatable {
    /// The provider took the message; `status` is its own word for it (Twilio: queued, accepted...).
    case accepted(messageID: String, status: String?)
    /// The provider refused the message for good (bad number, unsubscribed, bad credentials...).
    case permanentFailure(code: Reason, message: String)
    /// Worth trying again later (429, 5xx, timeout, connection error).
    case retryableFailure(code: Reason, message: String, retryAfter: TimeInterval?)
    /// The connection failed after the whole request went out and before the answer: the provider
    /// may have taken the message. Neither retried nor handed to another provider (that could
    /// deliver it twice); the job ends `unknown` with this code, for `gateway reconcile`.
    case possiblyDelivered(code: Reason, message: String)
}

/// Delivery statuses common to every provider, in the order a message moves through them.
public enum DeliveryStatus: String, Sendable, Equatable, CaseIterable {
    case queued, sent, delivered, undelivered, failed, bounced, opened
    case spamReport = "spam_report"
    case unsubscribed

    /// A report never moves a message back: a late `sent` does not undo `delivered`.
    public var rank: Int {
        switch self {
        case .queued: 0
        case .sent: 1
        case .delivered, .undelivered, .failed, .bounced: 2
        case .opened: 3
        case .spamReport, .unsubscribed: 4
        }
    }
}

/// A delivery report from a provider, already verified and mapped.
public struct Receipt: Sendable, Equatable {
    public var provider: String
    public var messageID: String
    public var status: DeliveryStatus
    /// The provider's own word for it, and any error code it gave.
    public var providerStatus: String
    public var errorCode: String?
    public var at: Date
    /// The callback as received, for review.
    public var raw: String

    public init(provider: String, messageID: String, status: DeliveryStatus, providerStatus: String, errorCode: String? = nil, at: Date, raw: String) {
        self.provider = provider
        self.messageID = messageID
        self.status = status
        self.providerStatus = providerStatus
        self.errorCode = errorCode
        self.at = at
        self.raw = raw
    }
}

/// What recording a receipt came to.
public enum ReceiptResult: Sendable, Equatable {
    case recorded(jobID: String)
    /// The same status for the same message was already recorded.
    case duplicate
    /// Recorded, but an earlier report had already moved the message further.
    case late(jobID: String, current: DeliveryStatus)
    /// No sent message has this id: stored for review.
    case unmatched
}
