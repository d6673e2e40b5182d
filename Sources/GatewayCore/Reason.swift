/// The stable code the contact log (`reason`), the dead-letter stream and the API give for a
/// refusal, a decision or a failure: the set the README documents, and the provider's own code for
/// what a provider answered (`twilio_21610`, `apns_BadDeviceToken`, `http_503`). Compliance filters
/// and reports on these, so they never change spelling; new ones are added here, nowhere else.
public struct Reason: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    private init(_ rawValue: String) { self.rawValue = rawValue }

    /// A code read back from the log or a dead letter, as written (possibly by another version).
    public init(stored rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    // A job refused as `invalid` and dead-lettered.
    /// The stream entry has no `job` field.
    public static let noJobField = Reason("no_job_field")
    /// Over `max_job_bytes`.
    public static let oversized = Reason("oversized")
    public static let notJSON = Reason("not_json")
    public static let wrongType = Reason("wrong_type")
    public static let missingField = Reason("missing_field")
    public static let invalidValue = Reason("invalid_value")
    public static let invalidPhone = Reason("invalid_phone")
    public static let invalidEmail = Reason("invalid_email")
    /// JSON the decoder could not take apart (its message says where).
    public static let invalid = Reason("invalid")
    public static let unknownTemplate = Reason("unknown_template")
    /// An attempt number no scheduler wrote (a stray entry); not terminal.
    public static let badAttempt = Reason("bad_attempt")

    // A template that cannot be rendered for this job (the job is `invalid`).
    public static let noVariant = Reason("no_variant")
    public static let missingVariable = Reason("missing_variable")
    public static let emptyMessage = Reason("empty_message")
    public static let smsTooLong = Reason("sms_too_long")
    public static let pushTooLarge = Reason("push_too_large")
    /// A template preview without, or with an unusable, sample.json.
    public static let noSample = Reason("no_sample")
    public static let badSample = Reason("bad_sample")

    // Held back: `suppressed` or `expired`.
    public static let optedOut = Reason("opted_out")
    public static let doNotContact = Reason("do_not_contact")
    public static let noReachableChannel = Reason("no_reachable_channel")
    /// A reply paused collection (a dispute, a lawyer, a promise to pay...).
    public static let paused = Reason("paused")
    public static let noWindowBeforeExpiry = Reason("no_window_before_expiry")
    /// Category `reply` on a job no reply asked for.
    public static let notAnAnswer = Reason("not_an_answer")
    public static let expired = Reason("expired")

    // Never sent twice: `duplicate` and `unknown`.
    public static let duplicateInBatch = Reason("duplicate_in_batch")
    public static let attemptAlreadyMade = Reason("attempt_already_made")
    /// The job id already ended with this outcome: `already_sent`, `already_suppressed`...
    public static func alreadyEnded(_ outcome: EventKind) -> Reason { Reason("already_\(outcome.rawValue)") }
    /// A send was started and its result never recorded (the worker died mid-send): `unknown`.
    public static let interrupted = Reason("interrupted")

    // What `gateway reconcile --ask-providers` recorded (`reconciled`), and the outcome it shows.
    /// The provider has the message: its id and status are in the `reconciled` event.
    public static let found = Reason("found")
    /// The provider had no such message to that address in the claim's window.
    public static let notFound = Reason("not_found")
    /// The reason a job's outcome shows once a provider said it has the message (`sent`, reconciled).
    public static let reconciled = Reason("reconciled")

    // Sending: the transport and the gateway's own limits.
    public static let connectError = Reason("connect_error")
    public static let timeout = Reason("timeout")
    public static let transportError = Reason("transport_error")
    /// The request went out and the connection failed before the answer: maybe delivered.
    public static let possiblyDelivered = Reason("possibly_delivered")
    public static let rateLimited = Reason("rate_limited")
    public static let noProviderAvailable = Reason("no_provider_available")
    public static let notDispatched = Reason("not_dispatched")
    public static let outboxWrite = Reason("outbox_write")
    public static let sandboxEncode = Reason("sandbox_encode")

    // Provider answers the gateway acts on by name.
    /// The number replied STOP at Twilio: the gateway records the opt-out.
    public static let twilioUnsubscribed = provider("twilio", "21610")
    public static let twilioNoSID = provider("twilio", "no_sid")
    public static let infobipNoMessageID = provider("infobip", "no_message_id")
    public static let infobipBadResponse = provider("infobip", "bad_response")
    public static let sendGridNoMessageID = provider("sendgrid", "no_message_id")
    /// The push token is dead: the gateway stops using it.
    public static let fcmUnregistered = provider("fcm", "UNREGISTERED")
    public static let apnsUnregistered = provider("apns", "Unregistered")
    public static let apnsBadDeviceToken = provider("apns", "BadDeviceToken")
    public static let apnsPayloadTooLarge = provider("apns", "PayloadTooLarge")
    /// APNs refused the provider token: a new one is signed.
    public static let apnsExpiredProviderToken = provider("apns", "ExpiredProviderToken")
    public static let apnsAuth = provider("apns", "auth")
    public static let fcmAuth = provider("fcm", "auth")
    public static let smtpAuth = provider("smtp", "auth")

    // Changes to a pause.
    /// A payment-received job kept a promise-to-pay pause from lifting by itself.
    public static let promiseKept = Reason("promise_kept")
    /// A person lifted a pause.
    public static let lifted = Reason("lifted")

    /// A provider's own code under its prefix: `provider("twilio", "21211")` is `twilio_21211`.
    public static func provider(_ prefix: String, _ code: String) -> Reason { Reason("\(prefix)_\(code)") }

    /// An HTTP status that came with no better code: `http_503`.
    public static func http(_ status: Int) -> Reason { Reason("http_\(status)") }

    /// A provider's word for a message it accepted (Twilio's `queued`): `provider_queued`.
    public static func accepted(_ status: String) -> Reason { Reason("provider_\(status)") }

    /// Every fixed code, as the README lists them.
    public static let documented: [Reason] = [
        noJobField, oversized, notJSON, wrongType, missingField, invalidValue, invalidPhone, invalidEmail, invalid, unknownTemplate, badAttempt,
        noVariant, missingVariable, emptyMessage, smsTooLong, pushTooLarge, noSample, badSample,
        optedOut, doNotContact, noReachableChannel, paused, noWindowBeforeExpiry, notAnAnswer, expired,
        duplicateInBatch, attemptAlreadyMade, interrupted, found, notFound, reconciled,
        connectError, timeout, transportError, possiblyDelivered, rateLimited, noProviderAvailable, notDispatched, outboxWrite, sandboxEncode,
        twilioUnsubscribed, twilioNoSID, infobipNoMessageID, infobipBadResponse, sendGridNoMessageID, fcmUnregistered,
        apnsUnregistered, apnsBadDeviceToken, apnsPayloadTooLarge, apnsExpiredProviderToken, apnsAuth, fcmAuth, smtpAuth,
        promiseKept, lifted,
    ]
}
