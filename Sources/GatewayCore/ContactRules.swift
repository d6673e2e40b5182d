import Foundation

/// What a frequency cap or a minimum gap counts over.
public enum CapScope: String, Sendable, Equatable {
    case contact
    case contactChannel = "contact_channel"
    case debt
}

/// What a cap counts: sent messages, or the distinct channels they were sent on.
public enum CapKind: String, Sendable, Equatable {
    /// At most `max` messages in the window.
    case messages
    /// At most `max` distinct channels in the window (Colombia: one channel a week). A message on a
    /// channel already used in the window always passes this cap; one on another channel waits
    /// until enough of the used channels leave the window. It never moves a job to a channel the
    /// job did not ask for, but a job that asked for several channels is sent on the one already
    /// used (its channels are tried in order, and this cap blocks only the others).
    case channels
}

/// At most `max` sent messages (or `max` distinct channels) within a rolling `window`.
public struct CapRule: Sendable, Equatable {
    public var id: String
    public var scope: CapScope { didSet { describe() } }
    public var kind: CapKind { didSet { describe() } }
    public var max: Int { didSet { describe() } }
    public var window: TimeInterval { didSet { describe() } }
    /// Only these channels / countries (nil: all).
    public var channels: [Channel]?
    public var countries: [String]?
    /// Compliance's own sentence from the file, citing the law ("Colombia Ley 2300 art. 3: one
    /// channel per week"); without one, the sentence is made from the numbers.
    public var statement: String? { didSet { describe() } }
    /// "at most 2 messages in 24 hours per contact", or the statement: made once, every job's check carries it.
    public private(set) var description = ""

    public init(id: String, scope: CapScope, max: Int, window: TimeInterval, channels: [Channel]? = nil, countries: [String]? = nil,
                kind: CapKind = .messages, statement: String? = nil) {
        self.id = id
        self.scope = scope
        self.kind = kind
        self.max = max
        self.window = window
        self.channels = channels
        self.countries = countries
        self.statement = statement
        describe()
    }

    private mutating func describe() {
        let noun = kind == .channels ? "channel" : "message"
        description = statement ?? "at most \(max) \(noun)\(max == 1 ? "" : "s") in \(Durations.describe(window)) per \(scope.noun)"
    }
}

/// At least `gap` between two sent messages.
public struct GapRule: Sendable, Equatable {
    public var id: String
    public var scope: CapScope { didSet { describe() } }
    public var gap: TimeInterval { didSet { describe() } }
    public var channels: [Channel]?
    public var countries: [String]?
    /// Compliance's own sentence from the file, citing the law, if any.
    public var statement: String? { didSet { describe() } }
    /// "at least 2 days between two messages per contact", or the statement, made once.
    public private(set) var description = ""

    public init(id: String, scope: CapScope, gap: TimeInterval, channels: [Channel]? = nil, countries: [String]? = nil, statement: String? = nil) {
        self.id = id
        self.scope = scope
        self.gap = gap
        self.channels = channels
        self.countries = countries
        self.statement = statement
        describe()
    }

    private mutating func describe() {
        description = statement ?? "at least \(Durations.describe(gap)) between two messages per \(scope.noun)"
    }
}

extension CapScope {
    var noun: String {
        switch self {
        case .contact: "contact"
        case .contactChannel: "contact and channel"
        case .debt: "debt"
        }
    }
}

public enum Durations {
    /// "7d", "24h", "90m", "30s" → seconds.
    public static func parse(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let number = Double(text.dropLast()), number > 0 else { return nil }
        switch unit {
        case "d": return number * 86_400
        case "h": return number * 3_600
        case "m": return number * 60
        case "s": return number
        default: return nil
        }
    }

    public static func describe(_ seconds: TimeInterval) -> String {
        if seconds.truncatingRemainder(dividingBy: 86_400) == 0 { let n = Int(seconds / 86_400); return "\(n) day\(n == 1 ? "" : "s")" }
        if seconds.truncatingRemainder(dividingBy: 3_600) == 0 { let n = Int(seconds / 3_600); return "\(n) hour\(n == 1 ? "" : "s")" }
        let n = Int(seconds / 60)
        return "\(n) minute\(n == 1 ? "" : "s")"
    }
}

/// An opt-out or do-not-contact mark on a contact, for one channel or all.
public struct OptOut: Sendable, Equatable {
    /// Who made a change to a mark, as recorded: not blank, on one line, no control characters.
    public static func isName(_ text: String) -> Bool {
        !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && !text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    public enum Kind: String, Sendable, Equatable {
        case optOut = "opt_out"
        case doNotContact = "do_not_contact"
    }

    public var contactID: String
    /// Nil: every channel.
    public var channel: Channel?
    public var kind: Kind
    public var setBy: String
    public var setAt: Date
    public var reason: String?

    public init(contactID: String, channel: Channel?, kind: Kind, setBy: String, setAt: Date, reason: String? = nil) {
        self.contactID = contactID
        self.channel = channel
        self.kind = kind
        self.setBy = setBy
        self.setAt = setAt
        self.reason = reason
    }

    public var sentence: String {
        let what = kind == .doNotContact ? "do-not-contact" : "opted out"
        return "\(what) (\(channel?.rawValue ?? "all channels")) by \(setBy) at \(formatTimestamp(setAt))" + (reason.map { ": \($0)" } ?? "")
    }
}

/// One counter check the shared ledger must pass before a send: a cap or a gap on a key.
public struct CapCheck: Sendable, Equatable {
    public enum Limit: Sendable, Equatable {
        case cap(max: Int, window: TimeInterval)
        case gap(TimeInterval)
        /// At most `max` distinct channels in the window; this send is on `channel`.
        case channels(max: Int, window: TimeInterval, channel: Channel)
    }

    /// Ledger key suffix: "contact:C-1", "contact:C-1:sms", "debt:LN-77", "contact:C-1:channels".
    public var key: String
    public var ruleID: String
    public var limit: Limit
    public var description: String
    /// The contact's time zone, for the dates in a blocked channel cap's sentence ("sms used
    /// 2026-12-01"); UTC dates without it.
    public var timeZone: String?

    public init(key: String, ruleID: String, limit: Limit, description: String, timeZone: String? = nil) {
        self.key = key
        self.ruleID = ruleID
        self.limit = limit
        self.description = description
        self.timeZone = timeZone
    }
}

/// Compliance's rules, from config/contact-rules.yml.
public struct ContactRules: Sendable, Equatable {
    public var hours: HoursPolicy
    public var caps: [CapRule]
    public var gaps: [GapRule]
    public var defaultCountry: String
    public var defaultTimeZone: String

    public init(hours: HoursPolicy, caps: [CapRule] = [], gaps: [GapRule] = [], defaultCountry: String, defaultTimeZone: String) {
        self.hours = hours
        self.caps = caps
        self.gaps = gaps
        self.defaultCountry = defaultCountry
        self.defaultTimeZone = defaultTimeZone
    }

    public func locate(_ job: Job) -> ContactLocation {
        Geography.locate(job.contact, defaultCountry: defaultCountry, defaultTimeZone: defaultTimeZone, hasOwnRule: { hours.byCountry[$0] != nil })
    }

    /// The counter checks a send on `channel` must pass. Transactional messages skip them all.
    /// `zone` (the contact's first time zone) only words the dates in sentences.
    public func capChecks(job: Job, channel: Channel, country: String, category: Category, zone: String? = nil) -> [CapCheck] {
        guard category == .collection else { return [] }
        func key(_ scope: CapScope) -> String? {
            switch scope {
            case .contact: "contact:\(job.contact.id)"
            case .contactChannel: "contact:\(job.contact.id):\(channel.rawValue)"
            case .debt: job.debtID.map { "debt:\($0)" }
            }
        }
        func applies(_ channels: [Channel]?, _ countries: [String]?) -> Bool {
            (channels?.contains(channel) ?? true) && (countries?.contains(country) ?? true)
        }
        var checks: [CapCheck] = []
        for cap in caps where applies(cap.channels, cap.countries) {
            switch cap.kind {
            case .messages:
                if let key = key(cap.scope) { checks.append(CapCheck(key: key, ruleID: cap.id, limit: .cap(max: cap.max, window: cap.window), description: cap.description)) }
            case .channels:
                // One set per contact (or debt) holding "<channel>|<job>" members: its own key.
                if let key = key(cap.scope == .contactChannel ? .contact : cap.scope) {
                    checks.append(CapCheck(key: key + ":channels", ruleID: cap.id, limit: .channels(max: cap.max, window: cap.window, channel: channel),
                                           description: cap.description, timeZone: zone))
                }
            }
        }
        for gap in gaps where applies(gap.channels, gap.countries) {
            if let key = key(gap.scope) { checks.append(CapCheck(key: key, ruleID: gap.id, limit: .gap(gap.gap), description: gap.description, timeZone: zone)) }
        }
        return checks
    }
}

/// What the rules say about one requested channel right now.
public enum ChannelVerdict: Sendable, Equatable {
    case allowedNow(sentence: String)
    case closed(until: Date?, ruleID: String, sentence: String)
    case optedOut(OptOut)
    case unreachable(String)
}

/// What the shared ledger answered for a channel's counter checks.
public enum CapResult: Sendable, Equatable {
    case reserved
    case blocked(ruleID: String, reopensAt: Date, sentence: String)
}

/// The pure part of every decision: opt-outs, allowed hours, expiry. Caps need the shared ledger,
/// so they come in as `CapResult`s and `RulesEngine.resolve` makes the final call.
public enum RulesEngine {
    public struct Plan: Sendable, Equatable {
        public var location: ContactLocation
        public var verdicts: [(channel: Channel, verdict: ChannelVerdict)]
        /// A reply's pause over this collection job (dispute, lawyer, promise ...): it is suppressed.
        public var pause: Hold?

        public static func == (a: Plan, b: Plan) -> Bool {
            a.location == b.location && a.verdicts.map(\.channel) == b.verdicts.map(\.channel) && a.verdicts.map(\.verdict) == b.verdicts.map(\.verdict)
                && a.pause == b.pause
        }

        /// Channels that may be used now, in the job's order.
        public var allowedNow: [Channel] {
            verdicts.compactMap { if case .allowedNow = $0.verdict { $0.channel } else { nil } }
        }
    }

    /// - Parameters:
    ///   - category: collection jobs are paused by a reply's pause; `reply` jobs (the gateway's own
    ///     answer to a reply) pass opt-outs of their channel, pauses, blocks and allowed hours.
    ///   - state: the holds in force for the contact, its debt and its addresses.
    public static func plan(job: Job, now: Date, rules: ContactRules, optOuts: [OptOut], category: Category = .collection,
                            state: ContactStateSnapshot = ContactStateSnapshot(), unreachable: (Channel) -> String?) -> Plan {
        let location = rules.locate(job)
        let zone = location.timeZones[0]
        let zones = location.timeZones.count == 1 ? zone : "\(location.timeZones.count) zones of \(Geography.countryNames[location.country] ?? location.country)"
        var verdicts: [(Channel, ChannelVerdict)] = []
        let answering = category == .reply
        for channel in job.channels {
            if let mark = optOuts.first(where: { $0.kind == .doNotContact })
                ?? (answering ? nil : optOuts.first(where: { $0.channel == nil || $0.channel == channel })) {
                verdicts.append((channel, .optedOut(mark)))
                continue
            }
            let address: String? = switch channel {
            case .sms: job.contact.phone
            case .email: job.contact.email
            case .push: nil
            }
            // A revocation is the number's (or the mailbox's), not only the contact id's.
            if !answering, let hold = state.addressOptOut(address: address, at: now) {
                verdicts.append((channel, .optedOut(OptOut(contactID: job.contact.id, channel: channel, kind: .optOut,
                                                           setBy: ReplyPlanner.setByPrefix + hold.source, setAt: hold.since,
                                                           reason: "\(hold.address ?? "the address") replied \"\(hold.replyText.prefix(60))\" (\(hold.id), for every contact at it)"))))
                continue
            }
            if let reason = unreachable(channel) {
                verdicts.append((channel, .unreachable(reason)))
                continue
            }
            if answering {
                verdicts.append((channel, .allowedNow(sentence: "an answer to the customer's own reply (opt-out confirmation or help text): sent at any hour, once")))
                continue
            }
            if let block = state.block(address: address, at: now) {
                verdicts.append((channel, .unreachable(block.sentence)))
                continue
            }
            let rule = rules.hours.rule(country: location.country, channel: channel)
            let now_ = "now \(HoursPolicy.describe(now, zone: zone)) \(zones) (\(location.source))"
            if rules.hours.allows(now, location: location, channel: channel) {
                verdicts.append((channel, .allowedNow(sentence: "\(rule.description); \(now_)")))
            } else {
                let next = rules.hours.nextAllowed(after: now, location: location, channel: channel)
                // A holiday that closes today (or a day before `next`) is named, not only the weekday hours.
                let holidays = rules.hours.holidayNote(from: now, until: next, location: location, channel: channel)
                verdicts.append((channel, .closed(until: next, ruleID: rule.id, sentence: "\(rule.description); \(holidays.isEmpty ? "" : holidays + "; ")\(now_)")))
            }
        }
        let pause = category == .collection ? state.pause(contactID: job.contact.id, debtID: job.debtID, at: now) : nil
        return Plan(location: location, verdicts: verdicts, pause: pause)
    }

    /// The decision, given the plan and what the ledger answered for the channels tried (in order;
    /// the first `.reserved` wins). `category` only words the sentence.
    public static func resolve(job: Job, now: Date, plan: Plan, caps: [Channel: CapResult], rules: ContactRules) -> RuledDecision {
        if let expiry = job.expiresAt, expiry <= now {
            return .expire(detail: "expired at \(formatTimestamp(expiry)) before it could be sent (now \(formatTimestamp(now)))")
        }
        if let dnc = plan.verdicts.lazy.compactMap({ v -> OptOut? in if case .optedOut(let o) = v.verdict, o.kind == .doNotContact { o } else { nil } }).first {
            return .suppress(code: .doNotContact, ruleID: "do-not-contact", detail: "contact is \(dnc.sentence)")
        }
        if let pause = plan.pause {
            return .suppress(code: .paused, ruleID: "reply-\(pause.intent)", detail: "collection \(pause.sentence)")
        }
        for (channel, verdict) in plan.verdicts {
            if case .allowedNow(let sentence) = verdict, caps[channel] == .reserved {
                // An earlier channel passed over because it cannot reach the contact is named with why.
                var passedOver = ""
                for (earlier, earlierVerdict) in plan.verdicts {
                    if earlier == channel { break }
                    if case .unreachable(let reason) = earlierVerdict { passedOver += "; \(earlier.rawValue) not used: \(reason)" }
                }
                return .send(channel: channel, detail: "\(channel.rawValue) allowed: \(sentence)\(passedOver)")
            }
        }
        // Nothing can go now: when is the earliest moment something could?
        var reasons: [String] = []
        var earliest: (date: Date, ruleID: String, sentence: String)?
        let zone = plan.location.timeZones[0]
        func consider(_ date: Date, _ ruleID: String, _ sentence: String) {
            if earliest == nil || date < earliest!.date { earliest = (date, ruleID, sentence) }
        }
        for (channel, verdict) in plan.verdicts {
            switch verdict {
            case .optedOut(let mark):
                reasons.append("\(channel.rawValue): \(mark.sentence)")
            case .unreachable(let reason):
                reasons.append("\(channel.rawValue): \(reason)")
            case .closed(let until, let ruleID, let sentence):
                if let until { consider(until, ruleID, sentence) } else { reasons.append("\(channel.rawValue): no allowed hours in the next 15 days (\(sentence))") }
            case .allowedNow:
                if case .blocked(let ruleID, let reopens, let sentence)? = caps[channel] {
                    let next = rules.hours.nextAllowed(after: reopens, location: plan.location, channel: channel) ?? reopens
                    // When the slot reopens on a holiday (or the day after it is one), the holiday is named too.
                    let holidays = next > reopens ? rules.hours.holidayNote(from: reopens, until: next, location: plan.location, channel: channel) : ""
                    consider(next, ruleID, "\(ruleID): \(sentence)" + (holidays.isEmpty ? "" : "; \(holidays)"))
                    reasons.append("\(channel.rawValue): \(ruleID): \(sentence)")
                }
            }
        }
        guard let earliest else {
            let code: Reason = plan.verdicts.allSatisfy({ if case .optedOut = $0.verdict { true } else { false } }) ? .optedOut : .noReachableChannel
            return .suppress(code: code, ruleID: code == .optedOut ? "opt-out" : "reachability", detail: "no requested channel can be used: " + reasons.joined(separator: "; "))
        }
        if let expiry = job.expiresAt, earliest.date >= expiry {
            return .suppress(code: .noWindowBeforeExpiry, ruleID: earliest.ruleID,
                             detail: "the earliest allowed moment, \(HoursPolicy.describeLocal(earliest.date, zone: zone)), is after the job expires at \(formatTimestamp(expiry)): \(earliest.sentence)")
        }
        return .defer(until: earliest.date, ruleID: earliest.ruleID,
                      detail: "deferred to \(HoursPolicy.describeLocal(earliest.date, zone: zone)): \(earliest.sentence)")
    }
}

/// A decision with the rule behind it.
public enum RuledDecision: Sendable, Equatable {
    case send(channel: Channel, detail: String)
    case `defer`(until: Date, ruleID: String, detail: String)
    case suppress(code: Reason, ruleID: String, detail: String)
    case expire(detail: String)
}
