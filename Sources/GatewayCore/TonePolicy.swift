import Foundation

/// Marketing's tone policy (templates/tones.yml): ordered rules, first match wins, and a default.
public struct TonePolicy: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        public var id: String
        public var tone: String
        /// Any of these labels (case-insensitive); nil matches anything.
        public var sentimentLabels: [String]?
        /// Score range, both ends inclusive; a job without a score does not match a rule that has one.
        public var scoreMin: Double?
        public var scoreMax: Double?
        public var segments: [String]?
        public var daysPastDueMin: Int?
        public var daysPastDueMax: Int?
        public var categories: [Category]?
        /// Any of these intents in the contact's latest reply (hardship, promise_to_pay ...), while it is fresh.
        public var replyIntents: [String]?

        public init(id: String, tone: String, sentimentLabels: [String]? = nil, scoreMin: Double? = nil, scoreMax: Double? = nil,
                    segments: [String]? = nil, daysPastDueMin: Int? = nil, daysPastDueMax: Int? = nil, categories: [Category]? = nil) {
            self.id = id
            self.tone = tone
            self.sentimentLabels = sentimentLabels
            self.scoreMin = scoreMin
            self.scoreMax = scoreMax
            self.segments = segments
            self.daysPastDueMin = daysPastDueMin
            self.daysPastDueMax = daysPastDueMax
            self.categories = categories
        }

        func matches(_ facts: ToneFacts) -> Bool {
            if let labels = sentimentLabels {
                guard let label = facts.sentimentLabel?.lowercased(), labels.contains(where: { $0.lowercased() == label }) else { return false }
            }
            if scoreMin != nil || scoreMax != nil {
                guard let score = facts.sentimentScore else { return false }
                if let min = scoreMin, score < min { return false }
                if let max = scoreMax, score > max { return false }
            }
            if let segments {
                guard let segment = facts.segment?.lowercased(), segments.contains(where: { $0.lowercased() == segment }) else { return false }
            }
            if daysPastDueMin != nil || daysPastDueMax != nil {
                guard let days = facts.daysPastDue else { return false }
                if let min = daysPastDueMin, days < min { return false }
                if let max = daysPastDueMax, days > max { return false }
            }
            if let categories, !categories.contains(facts.category) { return false }
            if let replyIntents {
                guard facts.replyIntents.contains(where: { replyIntents.contains($0) }) else { return false }
            }
            return true
        }
    }

    public var rules: [Rule]
    public var defaultTone: String

    public init(rules: [Rule], defaultTone: String) {
        self.rules = rules
        self.defaultTone = defaultTone
    }

    /// The tone and the id of the rule that chose it ("default" when none matched).
    public func tone(for facts: ToneFacts) -> (tone: String, rule: String) {
        for rule in rules where rule.matches(facts) { return (rule.tone, rule.id) }
        return (defaultTone, "default")
    }

    /// Every tone this policy can choose.
    public var tones: [String] {
        var result: [String] = []
        for tone in rules.map(\.tone) + [defaultTone] where !result.contains(tone) { result.append(tone) }
        return result
    }

    /// Used when a templates folder has no tones.yml.
    public static let neutralOnly = TonePolicy(rules: [], defaultTone: "neutral")
}

/// What the tone policy looks at, taken from a job.
public struct ToneFacts: Sendable, Equatable {
    public var sentimentLabel: String?
    public var sentimentScore: Double?
    public var segment: String?
    public var daysPastDue: Int?
    public var category: Category
    /// The intents of the contact's latest reply, while it counts (ReplyPolicy.moodMaxAge).
    public var replyIntents: [String] = []
    /// Where the sentiment came from: "job" (the scoring service) or "reply" (the contact's latest reply).
    public var sentimentSource = "job"

    public init(sentimentLabel: String? = nil, sentimentScore: Double? = nil, segment: String? = nil, daysPastDue: Int? = nil,
                category: Category = .collection) {
        self.sentimentLabel = sentimentLabel
        self.sentimentScore = sentimentScore
        self.segment = segment
        self.daysPastDue = daysPastDue
        self.category = category
    }

    /// Days past due: `data.days_past_due` if the job gives it, else counted from `data.due_date`
    /// (YYYY-MM-DD) to `now` in UTC; negative before the due date.
    public init(job: Job, category: Category, now: Date) {
        self.init(sentimentLabel: job.sentiment?.label, sentimentScore: job.sentiment?.score, segment: job.segment,
                  daysPastDue: Self.daysPastDue(job.data, now: now), category: category)
    }

    /// The job's facts, with the sentiment of the contact's latest reply instead of the job's when
    /// that reply is younger than `maxAge` and newer than the job's sentiment (`sentiment.at`; a
    /// job that does not say when its sentiment was judged cannot show it is newer than a reply
    /// the scoring service never saw).
    public init(job: Job, category: Category, now: Date, mood: ReplyMood?, maxAge: TimeInterval) {
        self.init(job: job, category: category, now: now)
        guard let mood, now.timeIntervalSince(mood.at) <= maxAge, mood.at > (job.sentiment?.at ?? .distantPast) else { return }
        sentimentLabel = mood.label
        sentimentScore = mood.score
        replyIntents = mood.intents
        sentimentSource = "reply"
    }

    static func daysPastDue(_ data: [String: JSONValue], now: Date) -> Int? {
        if case .number(let days)? = data["days_past_due"] { return Int(days) }
        if case .string(let text)? = data["days_past_due"], let days = Int(text) { return days }
        guard case .string(let text)? = data["due_date"], let due = CalendarDate(text) else { return nil }
        let today = Int((now.timeIntervalSince1970 / 86_400).rounded(.down))
        return today - due.daysSince1970
    }
}

/// A date with no time of day, as jobs write it: YYYY-MM-DD.
public struct CalendarDate: Sendable, Equatable {
    public var year: Int
    public var month: Int
    public var day: Int

    /// Exactly `YYYY-MM-DD` (ASCII digits), a day that exists in the Gregorian calendar
    /// (2028-02-29 does, 2026-02-29 and 2026-04-31 do not), from year 0001. Counted without
    /// Foundation's `Calendar`: every job with a `due_date` is read here.
    public init?(_ text: String) {
        var text = text
        guard let (year, month, day) = text.withUTF8(Self.parse) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> (Int, Int, Int)? {
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              let year = Timestamp.digits(bytes, 0, 4), let month = Timestamp.digits(bytes, 5, 2), let day = Timestamp.digits(bytes, 8, 2),
              year >= 1, (1...12).contains(month), day >= 1, day <= Timestamp.daysIn(month: month, year: year) else { return nil }
        return (year, month, day)
    }

    /// Days from 1970-01-01 to this date in the proleptic Gregorian calendar (negative before).
    public var daysSince1970: Int { Timestamp.days(year: year, month: month, day: day) }
}
