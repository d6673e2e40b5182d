import Foundation

/// A message a customer sent us (an SMS reply), as a provider reported it.
public struct InboundMessage: Sendable, Equatable {
    public var provider: String
    public var messageID: String
    /// The customer's address (E.164 phone number, or the e-mail address for an e-mail reply).
    public var from: String
    /// Our number or sender it was sent to.
    public var to: String
    public var body: String
    public var at: Date
    /// The provider's report as received (JSON).
    public var raw: String
    /// SMS, or e-mail for a reply by mail.
    public var channel: Channel
    /// An e-mail's subject.
    public var subject: String?

    public init(provider: String, messageID: String, from: String, to: String, body: String, at: Date, raw: String,
                channel: Channel = .sms, subject: String? = nil) {
        self.channel = channel
        self.subject = subject
        self.provider = provider
        self.messageID = messageID
        self.from = from
        self.to = to
        self.body = body
        self.at = at
        self.raw = raw
    }

    /// What the reply asks for, by keywords alone (the reply understanding reads more).
    public var intent: InboundIntent { InboundIntent(body) }

    /// Where the reply came from, "<provider>:<message id>": what it set is found by this when its
    /// webhook comes again.
    public var source: String { "\(provider):\(messageID)" }
}

/// STOP-like replies revoke consent to SMS. US carriers' and the FCC's words (STOP, QUIT, END,
/// REVOKE, OPT OUT, CANCEL, UNSUBSCRIBE, STOPALL) and their Spanish counterparts (BAJA, ALTO,
/// PARAR, DETENER, CANCELAR) count wherever they appear in the reply, as whole words, whatever the
/// case or accents: honoring a doubtful STOP is safe, ignoring a real one is not. A START-like reply
/// is recorded for compliance to act on; it does not re-enable messages by itself.
public enum InboundIntent: String, Sendable, Equatable {
    case stop
    case start
    case help
    case message

    public static let stopWords: Set<String> = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
                                                "BAJA", "ALTO", "PARAR", "PARE", "DETENER", "CANCELAR"]
    public static let startWords: Set<String> = ["START", "UNSTOP", "YES", "ALTA", "INICIAR"]
    public static let helpWords: Set<String> = ["HELP", "INFO", "AYUDA"]

    public init(_ body: String) {
        let folded = body.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: Locale(identifier: "en_US_POSIX")).uppercased()
        var words = folded.split(whereSeparator: { !$0.isLetter }).map(String.init)
        // "opt out", "opt-out" → OPTOUT
        var index = 0
        while index + 1 < words.count {
            if words[index] == "OPT" && words[index + 1] == "OUT" { words.replaceSubrange(index...index + 1, with: ["OPTOUT"]) }
            index += 1
        }
        if words.contains(where: Self.stopWords.contains) {
            self = .stop
        } else if words.count <= 3, words.contains(where: Self.startWords.contains) {
            self = .start
        } else if words.count <= 3, words.contains(where: Self.helpWords.contains) {
            self = .help
        } else {
            self = .message
        }
    }
}
