import ContactLog
import Foundation
import GatewayCore
import Logging
import RedisQueue
import Replies

/// Where customers' replies land, from every inbound webhook: each is read (Replies), recorded once
/// with what it changes (ReplyPlanner, one transaction in the contact log), then its answers are
/// enqueued and its escalation published. A webhook delivered again finds the reply recorded and
/// only repeats those two steps, which are themselves once-only (by job id and escalation id).
public struct ReplyDesk: Sendable {
    public var store: any LogReader & LogAppender
    public var lexicons: RepliesStore?
    public var policy: ReplyPolicy
    /// When set, the policy is read from it (config/reply-actions.yml as edited) instead of `policy`.
    public var policySource: ReplyPolicySource?
    /// Answers (confirmation, help text) go on the job stream through it; nil: not sent.
    public var intake: JobIntake?
    /// The escalation stream; nil: escalations are only in the contact log.
    public var escalations: StreamOnce?
    /// The zone promise dates are read in ("el viernes" ends on Friday there).
    public var timeZone: TimeZone
    public var logger: Logger
    /// Providers that answer a bare STOP keyword themselves (Twilio's default opt-out handling).
    public var confirmingKeywords: Set<String>

    public init(store: any LogReader & LogAppender, lexicons: RepliesStore?, policy: ReplyPolicy, intake: JobIntake?, escalations: StreamOnce?,
                timeZone: TimeZone, confirmingKeywords: Set<String> = [], logger: Logger) {
        self.confirmingKeywords = confirmingKeywords
        self.store = store
        self.lexicons = lexicons
        self.policy = policy
        self.intake = intake
        self.escalations = escalations
        self.timeZone = timeZone
        self.logger = logger
    }

    /// What became of a reply.
    public struct Outcome: Sendable, Equatable {
        public var reading: ReplyReading
        /// False when this reply was recorded before (the webhook came again).
        public var recorded: Bool
        public var answers: [String]
        public var escalations: [String]
    }

    public func handle(_ message: InboundMessage) async throws -> Outcome {
        let reading = read(message)
        let policy = policySource?.looked() ?? self.policy
        let providerConfirms = confirmingKeywords.contains(message.provider) && Self.isBareKeyword(message.body, InboundIntent.stopWords)
        let plan = try await store.recordReply(message) { match in
            ReplyPlanner.plan(message: message, reading: reading, match: match, policy: policy, providerConfirms: providerConfirms)
        }
        var answers: [ReplyAnswer]
        var escalated: [Escalation]
        if let plan {
            answers = plan.answers
            escalated = plan.escalations
            let intents = reading.intents.joined(separator: ",")
            logger.notice("reply recorded", metadata: ["source": "\(message.source)", "intents": "\(intents.isEmpty ? "-" : intents)", "label": "\(reading.label)",
                                                       "answers": "\(answers.count)", "escalations": "\(escalated.count)"])
        } else {
            // Recorded before: make sure what it asked for went out (a crash may have come in between).
            let records = try await store.states(StateQuery(kinds: [.answer, .escalation], sources: [message.source]))
            answers = records.compactMap(\.answer)
            escalated = records.compactMap(\.escalation)
        }
        if let intake {
            for answer in answers { _ = try await intake.enqueue(jobID: answer.jobID, json: Array(answer.jobJSON.utf8)) }
        } else if !answers.isEmpty {
            logger.warning("no job queue: the answer to a reply is recorded but not sent", metadata: ["source": "\(message.source)"])
        }
        if let escalations {
            for escalation in escalated { try await escalations.publish(id: escalation.id, fields: Self.streamFields(escalation)) }
        }
        return Outcome(reading: reading, recorded: plan != nil, answers: answers.map(\.jobID), escalations: escalated.map(\.id))
    }

    /// The reply understanding's reading, with the promise's day resolved. A bare carrier keyword
    /// (STOP, BAJA ...) is always an opt-out, whatever the lexicons say.
    public func read(_ message: InboundMessage) -> ReplyReading {
        var reading: ReplyReading
        if let lexicons {
            do {
                // The customer's words come first; a mail of megabytes is read for its first 5,000 characters.
                let understanding = try lexicons.current(lookingEvery: 2).classify(String(message.body.prefix(Self.maxReadCharacters)))
                reading = ReplyReading(language: understanding.language, label: understanding.label.rawValue, score: understanding.score,
                                       intents: understanding.intents.map(\.rawValue),
                                       promiseDate: understanding.promise?.date(after: message.at, zone: Self.promiseZone(for: message, default: timeZone)),
                                       promiseAmount: understanding.promise?.amount, explain: understanding.explain)
                reading.optOutChannels = understanding.optOutChannels
                reading.keptChannels = understanding.keptChannels
            } catch {
                reading = Self.keywordReading(message, note: "reply understanding failed (\(error)); keywords only")
            }
        } else {
            reading = Self.keywordReading(message, note: "no reply lexicons configured; keywords only")
        }
        let bareStop = Self.isBareKeyword(message.body, InboundIntent.stopWords)
        if bareStop, !reading.intents.contains("opt_out") {
            reading.intents.insert("opt_out", at: 0)
            reading.explain.append("opt_out: the whole reply is a carrier opt-out keyword")
        }
        if message.intent == .help {
            reading.helpKeyword = true
            if !reading.intents.contains("help") { reading.intents.append("help") }
        }
        if message.intent == .stop, !reading.intents.contains("opt_out"), !bareStop {
            // A stop word the understanding read otherwise ("cancelar la deuda"): a person looks, within hours.
            reading.reviews.append("possible_opt_out")
            reading.explain.append("possible_opt_out: a stop word (\(InboundIntent.stopWords.sorted().joined(separator: ", "))) not read as an opt-out; escalated for a person to decide")
        }
        return reading
    }

    /// The zone a promised day ("el viernes") is read in: the sender's, from the country of the
    /// number that texted. `fallback` (contact-rules' `default_timezone`) when it is one of that
    /// country's zones or the sender is not a phone number (an e-mail). For a country spanning several
    /// zones, the one where the day ends last (Honolulu for +1 US, Tijuana for +52): the pause then
    /// never lifts before the promised day has ended wherever the customer is.
    public static func promiseZone(for message: InboundMessage, default fallback: TimeZone) -> TimeZone {
        guard message.channel == .sms, let region = Geography.country(ofPhone: message.from) else { return fallback }
        let zones = Geography.zones(ofCountry: region).compactMap(TimeZone.init(identifier:))
        if zones.isEmpty || zones.contains(where: { $0.identifier == fallback.identifier }) { return fallback }
        return zones.min { $0.secondsFromGMT(for: message.at) < $1.secondsFromGMT(for: message.at) } ?? fallback
    }

    static func keywordReading(_ message: InboundMessage, note: String) -> ReplyReading {
        let intent: [String] = switch message.intent {
        case .stop: ["opt_out"]
        case .start: ["opt_in"]
        case .help: ["help"]
        case .message: []
        }
        return ReplyReading(language: "es", label: "neutral", score: 0, intents: intent, explain: [note])
    }

    static let maxReadCharacters = 5000

    /// "STOP", " baja. ", "Opt-Out": the reply is one keyword and nothing else.
    static func isBareKeyword(_ body: String, _ words: Set<String>) -> Bool {
        let folded = body.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: Locale(identifier: "en_US_POSIX")).uppercased()
        let letters = folded.split(whereSeparator: { !$0.isLetter }).joined()
        return words.contains(letters) || letters == "OPTOUT"
    }

    /// The escalation stream entry (the contract in the README).
    static func streamFields(_ escalation: Escalation) -> [(String, String)] {
        [("id", escalation.id), ("contact", escalation.contactID ?? ""), ("debt", escalation.debtID ?? ""),
         ("intents", escalation.intents.joined(separator: ",")), ("reply_text", escalation.replyText), ("channel", escalation.channel.rawValue),
         ("address", escalation.address), ("received_at", formatTimestamp(escalation.receivedAt)), ("priority", escalation.priority),
         ("due_by", formatTimestamp(escalation.dueBy)), ("label", escalation.label), ("score", String(format: "%.3f", escalation.score)),
         ("holds", escalation.holds.joined(separator: ","))]
    }
}
