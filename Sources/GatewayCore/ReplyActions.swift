import Foundation

/// What the gateway does about each reply intent (config/reply-actions.yml). Compliance sets the
/// scope of each pause, its priority and its service-level time; the defaults follow the FDCPA,
/// Regulation F and the TCPA as described in the README.
public struct ReplyPolicy: Sendable, Equatable {
    public struct Action: Sendable, Equatable {
        /// Pause collection for the contact or only for the debt the reply answered; nil: no pause.
        public var pause: Hold.Scope?
        /// A pause that lifts by itself after this long (paid: days to verify the payment); nil: a person lifts it.
        public var pauseFor: TimeInterval?
        /// Block the address the reply came from, for every contact, until a person clears it.
        public var blockAddress: Bool
        public var escalate: Bool
        /// "high" or "normal"; the escalation of a reply with several intents takes the highest.
        public var priority: String
        /// The escalation is due this long after the reply.
        public var sla: TimeInterval

        public init(pause: Hold.Scope? = nil, pauseFor: TimeInterval? = nil, blockAddress: Bool = false, escalate: Bool = false,
                    priority: String = "normal", sla: TimeInterval = 72 * 3600) {
            self.pause = pause
            self.pauseFor = pauseFor
            self.blockAddress = blockAddress
            self.escalate = escalate
            self.priority = priority
            self.sla = sla
        }
    }

    /// By intent: dispute, lawyer, bankruptcy, cease_contact, paid, wrong_number, hardship.
    public var actions: [String: Action]
    /// A promise to pay pauses collection of the debt until the promised date plus this.
    public var promiseGrace: TimeInterval
    /// A reply's mood sets the tone of later messages for this long (when newer than the job's).
    public var moodMaxAge: TimeInterval
    public var optOutConfirmationTemplate: String
    public var helpTemplate: String
    /// A job with this template for a debt marks its promise kept: collection does not resume by itself.
    public var paymentReceivedTemplate: String

    public init(actions: [String: Action], promiseGrace: TimeInterval = 3 * 86_400, moodMaxAge: TimeInterval = 14 * 86_400,
                optOutConfirmationTemplate: String = "opt-out-confirmation", helpTemplate: String = "reply-help",
                paymentReceivedTemplate: String = "payment-received") {
        self.actions = actions
        self.promiseGrace = promiseGrace
        self.moodMaxAge = moodMaxAge
        self.optOutConfirmationTemplate = optOutConfirmationTemplate
        self.helpTemplate = helpTemplate
        self.paymentReceivedTemplate = paymentReceivedTemplate
    }

    /// The intents a policy may configure.
    public static let configurable = ["dispute", "lawyer", "bankruptcy", "cease_contact", "paid", "wrong_number", "hardship"]

    public static let standard = ReplyPolicy(actions: [
        // FDCPA §1692g(b): collection of a disputed debt stops until it is verified.
        "dispute": Action(pause: .debt, escalate: true, priority: "high", sla: 24 * 3600),
        // Regulation F §1006.6(b)(2): no direct contact with a consumer represented by an attorney.
        "lawyer": Action(pause: .contact, escalate: true, priority: "high", sla: 24 * 3600),
        // The automatic stay (11 U.S.C. §362).
        "bankruptcy": Action(pause: .contact, escalate: true, priority: "high", sla: 24 * 3600),
        // FDCPA §1692c(c): a request to cease communication.
        "cease_contact": Action(pause: .contact, escalate: true, priority: "high", sla: 24 * 3600),
        "paid": Action(pause: .debt, pauseFor: 7 * 86_400, escalate: true, priority: "normal", sla: 72 * 3600),
        "wrong_number": Action(blockAddress: true, escalate: true, priority: "normal", sla: 72 * 3600),
        "hardship": Action(escalate: true, priority: "normal", sla: 72 * 3600),
    ])

    static func rank(_ priority: String) -> Int { priority == "high" ? 2 : priority == "normal" ? 1 : 0 }

    /// A reply with a stop word the understanding did not read as an opt-out goes to a person, fast:
    /// a revocation missed is the costlier mistake, an opt-out set by mistake the other.
    public static let possibleOptOut = Action(escalate: true, priority: "high", sla: 4 * 3600)
}

/// A reply as the reply understanding read it, in the terms the actions need.
public struct ReplyReading: Sendable, Equatable {
    public var language: String
    public var label: String
    public var score: Double
    public var intents: [String]
    /// The promised day (start of that day in the contact's zone), when the reply names one.
    public var promiseDate: Date?
    public var promiseAmount: String?
    public var explain: [String]
    /// Doubts a person should settle, beside the intents: `possible_opt_out` when the reply has a
    /// stop word (STOP, BAJA, cancelar ...) that was not read as an opt-out.
    public var reviews: [String] = []
    /// The reply asks for help in a keyword (HELP, AYUDA, INFO in three words at most): only then is
    /// the help text sent.
    public var helpKeyword = false
    /// With opt_out: the channels the reply names ("stop texting me") and those it says are welcome
    /// ("email is fine"), as reply understanding read them (sms, email).
    public var optOutChannels: [String] = []
    public var keptChannels: [String] = []

    public init(language: String, label: String, score: Double, intents: [String], promiseDate: Date? = nil, promiseAmount: String? = nil, explain: [String] = []) {
        self.language = language
        self.label = label
        self.score = score
        self.intents = intents
        self.promiseDate = promiseDate
        self.promiseAmount = promiseAmount
        self.explain = explain
    }
}

/// The contacts a reply belongs to (those sent a message on its channel at its address), what is in
/// force for them now, read inside the transaction that records the reply.
public struct ReplyMatch: Sendable, Equatable {
    public struct Contact: Sendable, Equatable {
        public var id: String
        /// The debt of the latest message sent to this address for the contact (what the reply answers).
        public var debtID: String?
        public init(id: String, debtID: String?) {
            self.id = id
            self.debtID = debtID
        }
    }

    public var contacts: [Contact]
    public var optOuts: [String: [OptOut]]
    /// The holds in force on these contacts, their debts and the reply's address.
    public var holds: [Hold]
    /// The version each hold was read at (by hold id), for a write that lifts one.
    public var holdVersions: [String: Int]

    public init(contacts: [Contact], optOuts: [String: [OptOut]] = [:], holds: [Hold] = [], holdVersions: [String: Int] = [:]) {
        self.contacts = contacts
        self.optOuts = optOuts
        self.holds = holds
        self.holdVersions = holdVersions
    }
}

/// One change to the contact state: written only when the row's current version is as expected.
public struct StateWrite: Sendable, Equatable {
    public enum Expect: Sendable, Equatable {
        /// The row must not exist yet.
        case absent
        case version(Int)
        /// Whatever is there is replaced (moods).
        case any
    }

    public var record: StateRecord
    public var expect: Expect

    public init(_ record: StateRecord, expect: Expect) {
        self.record = record
        self.expect = expect
    }
}

/// Everything recording one reply changes, in one transaction.
public struct ReplyPlan: Sendable, Equatable {
    public var events: [ContactEvent] = []
    public var setOptOuts: [OptOut] = []
    /// Opt-outs a reply had set, taken back by an opt-in reply.
    public var liftOptOuts: [(contactID: String, channel: Channel)] = []
    public var writes: [StateWrite] = []
    /// Jobs to enqueue after the commit (confirmation, help text).
    public var answers: [ReplyAnswer] = []
    /// Entries for the escalation stream after the commit.
    public var escalations: [Escalation] = []

    public init() {}

    public static func == (a: ReplyPlan, b: ReplyPlan) -> Bool {
        a.events == b.events && a.setOptOuts == b.setOptOuts && a.liftOptOuts.map { "\($0.contactID)|\($0.channel)" } == b.liftOptOuts.map { "\($0.contactID)|\($0.channel)" }
            && a.writes == b.writes && a.answers == b.answers && a.escalations == b.escalations
    }
}

/// Decides, without I/O, what a reply changes: opt-outs, pauses, blocks, escalations, the mood
/// kept for the tone, and the answers sent back.
public enum ReplyPlanner {
    /// A short stable id from the reply's source and what it is for ("E-3f9a1c0b2d4e").
    public static func identifier(_ prefix: String, _ parts: String...) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in parts.joined(separator: "|").utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return prefix + "-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The channels an opt-out is for: the one the reply came by and those it names ("stop texting
    /// me" sent by e-mail: sms and e-mail; a missed revocation costs more than a channel lost), less
    /// those it says are welcome ("stop texting me, email is fine": sms only). A reply that keeps
    /// only the channel it came by ("escríbanme solo al correo", by e-mail) is for the other channels.
    /// Texts said to be welcome ("mensajes ok") are a weaker sign than "email only": they spare the
    /// texts only when the reply names another channel to stop ("no me escriban al correo, por mensaje sí").
    public static func optOutChannels(_ reading: ReplyReading, arrivedBy channel: Channel) -> [Channel] {
        let named = reading.optOutChannels.compactMap(Channel.init(rawValue:))
        var kept = Set(reading.keptChannels.compactMap(Channel.init(rawValue:)))
        if kept.contains(.sms), !named.contains(where: { $0 != .sms }) { kept.remove(.sms) }
        var channels = [channel]
        for other in named where !channels.contains(other) { channels.append(other) }
        channels.removeAll { kept.contains($0) }
        if channels.isEmpty { channels = [Channel.sms, .email].filter { !kept.contains($0) } }
        return channels.isEmpty ? [channel] : channels
    }

    /// Replies set opt-outs with this `setBy` prefix; an opt-in reply lifts only those.
    public static let setByPrefix = "reply:"

    /// - Parameter providerConfirms: the provider itself already confirmed this opt-out to the
    ///   customer (Twilio answers bare STOP keywords): the gateway does not send a second one.
    public static func plan(message: InboundMessage, reading: ReplyReading, match: ReplyMatch, policy: ReplyPolicy,
                            providerConfirms: Bool = false) -> ReplyPlan {
        var plan = ReplyPlan()
        let now = message.at
        let source = message.source
        let intents = Set(reading.intents)
        let excerpt = String(message.body.prefix(160))
        var did: [String] = []

        // Opt-out: the channels it is for (optOutChannels), for every contact reached at this address; one confirmation.
        if intents.contains("opt_out") {
            let channels = optOutChannels(reading, arrivedBy: message.channel)
            let named = channels.map(\.rawValue).joined(separator: " and ")
            var newlyOptedOut: [String] = []
            for contact in match.contacts {
                let marks = match.optOuts[contact.id] ?? []
                var any = false
                for channel in channels where !marks.contains(where: { $0.channel == nil || $0.channel == channel }) {
                    plan.setOptOuts.append(OptOut(contactID: contact.id, channel: channel, kind: .optOut, setBy: setByPrefix + source, setAt: now,
                                                  reason: "replied \"\(message.body.prefix(60))\" from \(message.from)"))
                    any = true
                }
                if any { newlyOptedOut.append(contact.id) }
            }
            // The address itself, for every contact at it, those to come included (TCPA: consent is the number's).
            if channels.contains(message.channel) {
                if let existing = ContactStateSnapshot(holds: match.holds).addressOptOut(address: message.from, at: now) {
                    did.append("\(message.from) already opted out by \(existing.id)")
                } else {
                    let hold = Hold(id: identifier("H", source, "opt_out"), kind: .optOut, scope: .address, intent: "opt_out",
                                    contactID: match.contacts.first?.id, debtID: nil, address: message.from, since: now, until: nil,
                                    escalationID: nil, replyText: excerpt, source: source)
                    plan.writes.append(StateWrite(.hold(hold, at: now), expect: .absent))
                    did.append("\(message.from) opted out of \(message.channel.rawValue) for every contact at it, those to come included (\(hold.id))")
                }
            }
            if !newlyOptedOut.isEmpty && providerConfirms {
                did.append("\(named) opted out for \(newlyOptedOut.joined(separator: ", ")); \(message.provider) confirms STOP keywords itself, so no second confirmation")
            } else if let first = newlyOptedOut.first {
                plan.answers.append(ReplyAnswer(jobID: identifier("answer", source, "opt_out"), intent: "opt_out", template: policy.optOutConfirmationTemplate,
                                                channel: message.channel, address: message.from, contactID: first, locale: reading.language, source: source, at: now))
                did.append("\(named) opted out for \(newlyOptedOut.joined(separator: ", ")); one confirmation")
            } else if !match.contacts.isEmpty {
                did.append("already opted out of \(named): no new confirmation")
            }
        } else if intents.contains("opt_in") {
            for contact in match.contacts {
                for mark in match.optOuts[contact.id] ?? [] where mark.channel == message.channel && mark.kind == .optOut && mark.setBy.hasPrefix(setByPrefix) {
                    plan.liftOptOuts.append((contact.id, message.channel))
                    did.append("\(message.channel.rawValue) opt-out of \(contact.id) (set by a reply) taken back")
                }
            }
            for hold in match.holds where hold.kind == .optOut && hold.address == message.from && hold.inForce(at: now) {
                guard let version = match.holdVersions[hold.id] else { continue }
                let lift = hold.lifted(at: now, by: setByPrefix + source, note: "opted back in from the address: replied \"\(message.body.prefix(60))\"",
                                       version: version, detail: "opt_out \(hold.id) of \(message.from) lifted by a reply from the address: \"\(message.body.prefix(60))\"",
                                       channel: message.channel)
                plan.writes.append(lift.write)
                plan.events.append(lift.event)
                did.append("\(message.from) opted back in (\(hold.id) lifted)")
            }
        }
        // The help text goes at any hour, so only to a reply that asks for it in a keyword (HELP,
        // AYUDA, INFO): a question read as help in a longer reply is left to the bank's people.
        if intents.contains("help"), reading.helpKeyword, let first = match.contacts.first {
            plan.answers.append(ReplyAnswer(jobID: identifier("answer", source, "help"), intent: "help", template: policy.helpTemplate,
                                            channel: message.channel, address: message.from, contactID: first.id, locale: reading.language, source: source, at: now))
            did.append("help text sent")
        }

        // Pauses, blocks and escalations: per contact (a reply from an unknown address is escalated once, without a contact).
        let targets: [ReplyMatch.Contact?] = match.contacts.isEmpty ? [nil] : match.contacts.map(Optional.some)
        var blockedAddress = false
        for target in targets {
            var holds: [Hold] = []
            var escalated: [String] = []
            var priority = ""
            var sla = TimeInterval.infinity
            let escalationID = identifier("E", source, target?.id ?? "")
            for intent in reading.intents + reading.reviews {
                if intent == "possible_opt_out" {
                    escalated.append(intent)
                    priority = "high"
                    sla = min(sla, ReplyPolicy.possibleOptOut.sla)
                    continue
                }
                if intent == "promise_to_pay" {
                    guard let date = reading.promiseDate, let target else { continue }
                    let until = date.addingTimeInterval(policy.promiseGrace)
                    guard until > now else { continue }
                    let scope: Hold.Scope = target.debtID == nil ? .contact : .debt
                    if let existing = existingPause(match.holds, intent: intent, scope: scope, target: target, now: now) {
                        did.append("promise noted; \(existing.id) already pauses collection"); continue
                    }
                    holds.append(Hold(id: identifier("H", source, target.id, intent), kind: .pause, scope: scope, intent: intent,
                                      contactID: target.id, debtID: scope == .debt ? target.debtID : nil, address: nil,
                                      since: now, until: until, escalationID: nil, replyText: excerpt, source: source))
                    continue
                }
                guard let action = policy.actions[intent] else { continue }
                if action.escalate {
                    escalated.append(intent)
                    if ReplyPolicy.rank(action.priority) > ReplyPolicy.rank(priority) { priority = action.priority }
                    sla = min(sla, action.sla)
                }
                if action.blockAddress {
                    guard !blockedAddress else { continue }
                    blockedAddress = true
                    if let existing = match.holds.first(where: { $0.kind == .block && $0.address == message.from && $0.inForce(at: now) }) {
                        did.append("\(message.from) already blocked by \(existing.id)"); continue
                    }
                    holds.append(Hold(id: identifier("H", source, "block"), kind: .block, scope: .address, intent: intent, contactID: target?.id,
                                      debtID: nil, address: message.from, since: now, until: nil, escalationID: action.escalate ? escalationID : nil,
                                      replyText: excerpt, source: source))
                }
                if let scope = action.pause, let target {
                    // A contact whose messages carry no debt id is paused whole.
                    let effective: Hold.Scope = scope == .debt && target.debtID == nil ? .contact : scope
                    if let existing = existingPause(match.holds, intent: intent, scope: effective, target: target, now: now) {
                        did.append("\(intent): \(existing.id) already pauses collection"); continue
                    }
                    holds.append(Hold(id: identifier("H", source, target.id, intent), kind: .pause, scope: effective, intent: intent,
                                      contactID: target.id, debtID: effective == .debt ? target.debtID : nil, address: nil, since: now,
                                      until: action.pauseFor.map { now.addingTimeInterval($0) }, escalationID: action.escalate ? escalationID : nil,
                                      replyText: excerpt, source: source))
                }
            }
            for hold in holds {
                plan.writes.append(StateWrite(.hold(hold, at: now), expect: .absent))
                did.append(hold.sentence)
            }
            if !escalated.isEmpty {
                let escalation = Escalation(id: escalationID, contactID: target?.id, debtID: target?.debtID, intents: escalated,
                                            replyText: String(message.body.prefix(4000)),
                                            channel: message.channel, address: message.from, receivedAt: now, priority: priority,
                                            dueBy: now.addingTimeInterval(sla), label: reading.label, score: reading.score,
                                            holds: holds.filter { $0.escalationID == escalationID }.map(\.id), source: source)
                plan.writes.append(StateWrite(.escalation(escalation, at: now), expect: .absent))
                plan.escalations.append(escalation)
                plan.events.append(ContactEvent(jobID: nil, contactID: target?.id, kind: .escalation, at: now, channel: message.channel,
                                                reason: escalated.joined(separator: ","), detail: "escalation \(escalationID) (\(priority), due \(formatTimestamp(escalation.dueBy))): \(escalated.joined(separator: ", ")) in a reply from \(message.from)",
                                                body: message.body, address: message.from,
                                                data: JSONValue.object(["escalation": .string(escalationID), "holds": .array(escalation.holds.map { .string($0) })]).serialized,
                                                debtID: target?.debtID))
                did.append("escalated as \(escalationID)")
            }
            if let target {
                plan.writes.append(StateWrite(.mood(ReplyMood(label: reading.label, score: reading.score, at: now, intents: reading.intents, source: source),
                                                     contactID: target.id), expect: .any))
            }
        }

        // The reply itself, first in the log: what it said, how it was read, what was done.
        let facts = JSONValue.object([
            "intents": .array(reading.intents.map { .string($0) }), "label": .string(reading.label), "score": .number(reading.score),
            "language": .string(reading.language), "explain": .array(reading.explain.map { .string($0) }),
            "promise_date": reading.promiseDate.map { .string(formatTimestamp($0)) } ?? .null,
            "promise_amount": reading.promiseAmount.map { .string($0) } ?? .null,
            "subject": message.subject.map { .string($0) } ?? .null, "provider_report": .string(message.raw),
        ]).serialized
        let read = "read as \(reading.label) (\(String(format: "%.2f", reading.score)))" + (reading.intents.isEmpty ? ", no intent" : ", intents " + reading.intents.joined(separator: ", "))
        let detail = "\(message.from) wrote to \(message.to) by \(message.channel.rawValue) through \(message.provider); \(read)"
            + (did.isEmpty ? "" : "; " + did.joined(separator: "; "))
            + (match.contacts.isEmpty ? "; no contact has been sent \(message.channel.rawValue) at this address (kept for review)" : "")
        let inbound = targets.map { target in
            ContactEvent(jobID: nil, contactID: target?.id, kind: .inbound, at: now, channel: message.channel, provider: message.provider,
                         providerMessageID: message.messageID, reason: reading.intents.first ?? "message", detail: detail, body: message.body,
                         address: message.from, data: facts, debtID: target?.debtID)
        }
        plan.events = inbound + plan.events
        // An answer's record is what lets its job past the opt-out and the hours (and only that job id).
        plan.writes += plan.answers.map { StateWrite(.answer($0), expect: .absent) }
        return plan
    }

    static func existingPause(_ holds: [Hold], intent: String, scope: Hold.Scope, target: ReplyMatch.Contact, now: Date) -> Hold? {
        holds.first { hold in
            hold.kind == .pause && hold.intent == intent && hold.inForce(at: now) && hold.scope == scope
                && (scope == .debt ? hold.debtID == target.debtID : hold.contactID == target.id)
        }
    }
}
