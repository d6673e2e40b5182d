import Foundation

/// What a reply says and how it sounds, with the reasons.
public struct ReplyUnderstanding: Sendable, Equatable, Encodable {
    public var text: String
    public var language: String
    public var label: ReplyLabel
    /// -1 (very negative) to 1 (very positive), VADER's compound score.
    public var score: Double
    public var intents: [ReplyIntent]
    /// With promise_to_pay: the date and amount, null where the reply does not say.
    public var promise: PaymentPromise?
    /// The phrases and rules that decided, in order: intents, refused matches, label, score.
    public var explain: [String]
    /// With opt_out: the channels the reply names ("stop texting me": sms; "no más correos": email),
    /// less those it says are welcome ("email is fine"). Empty: it names none, so the opt-out is
    /// for the channel the reply came by.
    public var optOutChannels: [String] = []
    /// The channels the reply says are welcome ("texts are fine", "solo por correo").
    public var keptChannels: [String] = []

    enum CodingKeys: String, CodingKey { case text, lang, label, score, intents, promise, explain }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(text, forKey: .text)
        try container.encode(language, forKey: .lang)
        try container.encode(label, forKey: .label)
        try container.encode((score * 1000).rounded() / 1000, forKey: .score)
        try container.encode(intents, forKey: .intents)
        try container.encode(promise, forKey: .promise)
        try container.encode(explain, forKey: .explain)
    }
}

/// A refused request: a stable code and a message saying what to fix.
public struct ReplyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// The lexicons in service, one per language. Pure: the loader (ReplyLexiconFile) builds it.
public struct ReplyLexicons: Sendable, Equatable {
    public var byLanguage: [String: ReplyLexicon]
    /// Used when a reply has no language and none of the languages' marker words tell.
    public var defaultLanguage: String
    /// The learned model (model.tsv in the folder), when there is one.
    public var model: ReplyModel?

    public init(_ lexicons: [ReplyLexicon], defaultLanguage: String, model: ReplyModel? = nil) {
        byLanguage = Dictionary(lexicons.map { ($0.language, $0) }, uniquingKeysWith: { a, _ in a })
        self.defaultLanguage = defaultLanguage
        self.model = model
    }

    public var languages: [String] { byLanguage.keys.sorted() }

    /// "es", "es-MX", "EN_us" -> the lexicon's language.
    public func language(for code: String?, text: String) throws(ReplyError) -> String {
        if let code, !code.isEmpty {
            let base = String(code.lowercased().split(whereSeparator: { $0 == "-" || $0 == "_" }).first ?? "")
            guard byLanguage[base] != nil else {
                throw ReplyError(code: "unknown_language", message: "lang \"\(code)\" has no lexicon; use one of \(languages.joined(separator: ", ")) or leave it out")
            }
            return base
        }
        let tokens = ReplyText.tokenize(text)
        let letters = Set(text.lowercased())
        var best = (language: defaultLanguage, count: 0)
        for language in languages {
            guard let lexicon = byLanguage[language] else { continue }
            let count = tokens.filter { $0.kind == .word && $0.forms.contains(where: lexicon.markers.contains) }.count
                + (lexicon.markerLetters.isDisjoint(with: letters) ? 0 : 1)
            if count > best.count || count == best.count && count > 0 && language == defaultLanguage { best = (language, count) }
        }
        return best.language
    }

    public func classify(_ text: String, language code: String? = nil) throws(ReplyError) -> ReplyUnderstanding {
        let language = try language(for: code, text: text)
        return ReplyClassifier.classify(text, lexicon: byLanguage[language]!, model: model)
    }
}

public enum ReplyClassifier {
    /// Tokens with the lexicon's abbreviations spelled out ("q" -> "que", "xfa" -> "por favor") and
    /// words written with no spaces split ("nomandenmas" -> "no manden mas").
    static func tokens(_ text: String, lexicon: ReplyLexicon) -> [ReplyToken] {
        var result: [ReplyToken] = []
        for var token in ReplyText.tokenize(text) {
            if token.kind == .word, token.text.contains("*") {
                token.text = ReplyText.uncensored(token.text, words: lexicon.words, prefixWords: lexicon.prefixWords)
                token.alternative = nil
            }
            let abbreviation = token.kind == .word && !token.glued ? token.forms.lazy.compactMap({ lexicon.abbreviations[$0] }).first : nil
            if token.kind == .word, !token.glued, let expansion = abbreviation ?? lexicon.glued.split(token.text) {
                let split = abbreviation == nil
                for (offset, word) in expansion.enumerated() {
                    // A split run of words quotes each word ("no manden mas"); an abbreviation quotes itself once.
                    var expanded = ReplyToken(kind: .word, text: word, original: split ? word : offset == 0 ? token.original : "")
                    expanded.shouted = token.shouted
                    if split { expanded.unglued = token.original }
                    result.append(expanded)
                }
            } else {
                result.append(token)
            }
        }
        return result
    }

    static func quote(_ tokens: [ReplyToken], _ range: ClosedRange<Int>) -> String {
        var text = ""
        for token in tokens[range] where !token.original.isEmpty {
            // A comma a list phrase crossed sits on its word: "no calls, no texts".
            if !text.isEmpty && token.kind != .punctuation { text += " " }
            text += token.original
        }
        return text
    }

    /// A negator within three words before `index`, in the same clause; or within two words before a
    /// verb of wanting that is itself that close ("no quiero que me dejen de escribir"). Reaching a verb
    /// of wanting, clitics (me, te, se ...) are not counted: "no quiero que me den de baja".
    static func negator(before index: Int, in tokens: [ReplyToken], lexicon: ReplyLexicon) -> Int? {
        if let found = negator(before: index, in: tokens, lexicon: lexicon, skippingClitics: false) { return found }
        guard !lexicon.clitics.isEmpty else { return nil }
        return negator(before: index, in: tokens, lexicon: lexicon, skippingClitics: true)
    }

    /// `skippingClitics`: clitics are not counted, and a negator counts only past a verb of wanting
    /// (so "no lo debo porque hice el pago" does not negate "hice").
    private static func negator(before index: Int, in tokens: [ReplyToken], lexicon: ReplyLexicon, skippingClitics: Bool) -> Int? {
        var back = index - 1
        var seen = 0
        var reach = 3
        var wished = false
        while back >= 0, seen < reach {
            let token = tokens[back]
            // An emoji ends a thought as a full stop does: "no sé qué haría sin ustedes 🙃 ahora olviden mi número".
            if token.isBoundary || token.kind == .emoji { return nil }
            if token.kind == .word {
                // A contrast ends what a negator reaches: "estoy sin trabajo pero puedo dar 10 rojos".
                if token.forms.contains(where: lexicon.contrast.contains) { return nil }
                if token.forms.contains(where: lexicon.negators.contains),
                   !lexicon.notNegating.contains(where: { ($0.match(in: tokens, startingAt: back) ?? index) < index }) {
                    return !skippingClitics || wished ? back : nil
                }
                if skippingClitics && token.forms.contains(where: lexicon.clitics.contains) {
                    back -= 1
                    continue
                }
                seen += 1
                if token.forms.contains(where: lexicon.wishes.contains) {
                    reach = max(reach, seen + 2)
                    wished = true
                }
            }
            back -= 1
        }
        return nil
    }

    struct RuleHit {
        var rule: PhraseRule
        var start: Int
        var end: Int
        var typo: Bool
    }

    /// Why a guard refused a match. `otherSense`: the words mean something else here (negated,
    /// "cancelar" followed by "deuda" ...), not merely that the rule's condition is unmet (a keyword
    /// that counts only alone, a promise without a date).
    struct Refusal {
        var reason: String
        var otherSense: Bool
        /// Whether the rule's note (why its word guards exist) explains this refusal.
        var noted: Bool
        init(_ reason: String, otherSense: Bool, noted: Bool = true) {
            self.reason = reason
            self.otherSense = otherSense
            self.noted = noted
        }
    }

    /// The rule's matches that pass its guards; refused matches are explained, and `otherSense` says
    /// whether a match was refused because its words mean something else here.
    static func hits(_ rules: [PhraseRule], name: String, tokens: [ReplyToken], lexicon: ReplyLexicon, promise: PaymentPromise,
                     explain: inout [String], otherSense: inout Bool) -> [RuleHit] {
        var result: [RuleHit] = []
        let commas = rules.contains(where: \.lists) ? listCommas(tokens, lexicon: lexicon) : []
        for rule in rules {
            for found in rule.phrase.matches(in: tokens, typos: rule.typos, listCommas: rule.lists ? commas : []) {
                let quoted = quote(tokens, found.start...found.end)
                if let refusal = refusal(rule, found: found, tokens: tokens, lexicon: lexicon, promise: promise) {
                    // Question words outside a question are not worth a line each.
                    if rule.inQuestion && refusal.reason == "is not in a question" { continue }
                    explain.append("not \(name): '\(quoted)' \(refusal.reason)\(refusal.noted ? rule.note.map { " (\($0))" } ?? "" : "") [\(rule.origin)]")
                    otherSense = otherSense || refusal.otherSense
                    continue
                }
                result.append(RuleHit(rule: rule, start: found.start, end: found.end, typo: found.typo))
            }
        }
        return result
    }

    static func refusal(_ rule: PhraseRule, found: (start: Int, end: Int, typo: Bool), tokens: [ReplyToken], lexicon: ReplyLexicon,
                        promise: PaymentPromise) -> Refusal? {
        if rule.negatable, let at = negator(before: found.start, in: tokens, lexicon: lexicon) {
            return Refusal("negated by '\(tokens[at].original)'", otherSense: true)
        }
        // A negator the phrase does not itself name, inside the words a gap skipped ("I will not pay").
        if rule.negatable, found.end > found.start,
           let at = (found.start...found.end).first(where: { index in
               tokens[index].kind == .word && tokens[index].forms.contains(where: lexicon.negators.contains)
                   && !rule.phrase.names(tokens[index])
           }) {
            return Refusal("negated by '\(tokens[at].original)'", otherSense: true)
        }
        // A word right before the reminders the match ends with names their kind, not another thing to stop
        // ("stop the promos and the payment reminders", "stop the payment reminder texts").
        // The match must end the words that name them: not "stop the payment reminder letters"; nor a way
        // they come (`promotions.by`: "stop the robocall reminders"). Worked out only for a `not_within` word found.
        func namesKind(_ index: Int) -> Bool {
            let after = (index + 1)...found.end
            guard index < found.end, after.count <= 2, !oneWord(of: lexicon.remindersBy, at: index, in: tokens) else { return false }
            let messages = lexicon.namesSMS + lexicon.namesEmail
            let endsNaming = found.end + 1 >= tokens.count || tokens[found.end + 1].kind != .word
                || tokens[found.end + 1].forms.contains(where: lexicon.filler.contains) || oneWord(of: messages, at: found.end + 1, in: tokens)
            return endsNaming && after.contains { oneWord(of: lexicon.promotionReminders, at: $0, in: tokens) }
                && after.allSatisfy { oneWord(of: lexicon.promotionReminders + messages, at: $0, in: tokens) }
        }
        // A way the reminders come named in a list with the texts ("stop the robocalls and texts"): both are to stop.
        func listedWay(_ index: Int) -> Bool {
            index < found.end && oneWord(of: lexicon.remindersBy, at: index, in: tokens)
                && ((index + 1)...found.end).contains { tokens[$0].forms.contains(where: lexicon.listWords.contains) }
        }
        if !rule.notWithin.isEmpty, found.end > found.start,
           let at = (found.start...found.end).first(where: { index in
               !rule.phrase.names(tokens[index]) && rule.notWithin.contains(where: { $0.matches(tokens[index]).0 }) && !namesKind(index) && !listedWay(index)
           }) {
            return Refusal("has '\(tokens[at].original)' in between", otherSense: true)
        }
        // Reminders that come another way (`promotions.by`, right before or after the reminders: "stop the
        // robocall reminders", "paren los recordatorios por llamada", "las llamadas de recordatorio"), in a
        // request that names no texts or e-mail beside them ("stop the robocall reminders and the texts" is one).
        if rule.origin.section == "opt_out", !lexicon.remindersBy.isEmpty, let way = otherWay((found.start, found.end), in: tokens, lexicon: lexicon) {
            return Refusal("names reminders that come another way ('\(way)')", otherSense: true)
        }
        // A clause of its own (`alone`) is followed by the next clause: its punctuation is skipped.
        var next = found.end + 1
        if rule.alone { while next < tokens.count, tokens[next].kind != .word { next += 1 } }
        if let end = rule.notFollowedByPhrase.lazy.compactMap({ $0.match(in: tokens, startingAt: next) }).first {
            return Refusal("followed by '\(quote(tokens, next...end))'", otherSense: true)
        }
        if let start = rule.notPrecededByPhrase.lazy.compactMap({ $0.match(in: tokens, endingAt: found.start - 1) }).first {
            return Refusal("preceded by '\(quote(tokens, start...(found.start - 1)))'", otherSense: true)
        }
        let request = ["opt_out", "cease_contact"].contains(rule.origin.section)
        // In a reply a relative writes for the customer, the customer is "her" or "my mother".
        func another(_ token: ReplyToken) -> Bool { !(request && namesCustomer(token, in: tokens, lexicon: lexicon)) }
        // A relative's word that ends the clause or is followed by a new statement (`addressed.then`), after
        // no preposition or article (with a possessive between or not), addresses the reader ("deje de
        // mandarme esos mensajitos hermano"), not the person the messages go to ("a mi hermano").
        func addressesReader(_ index: Int) -> Bool {
            guard tokens[index].forms.contains(where: lexicon.addressed.contains), index > 0 else { return false }
            var before = index - 1
            if before > 0, tokens[before].forms.contains(where: lexicon.addressedPossessives.contains) { before -= 1 }
            guard !tokens[before].forms.contains(where: lexicon.addressedNotAfter.contains) else { return false }
            var after = index + 1
            while after < tokens.count, !tokens[after].isBoundary {
                if tokens[after].forms.contains(where: lexicon.addressedThen.contains) { return true }
                if tokens[after].kind == .word, !tokens[after].forms.contains(where: { lexicon.filler.contains($0) || lexicon.vocatives.contains($0) }) { return false }
                after += 1
            }
            return true
        }
        if !rule.notFollowedBy.isEmpty {
            var index = found.end + 1
            var seen = 0
            while index < tokens.count, seen < rule.window, !tokens[index].isBoundary {
                // A contrast or a reason begins another thought ("... porque mi mamá se pone triste").
                if tokens[index].forms.contains(where: { lexicon.contrast.contains($0) || lexicon.reasons.contains($0) }) { break }
                if rule.notFollowedBy.contains(where: { $0.matches(tokens[index]).0 }), another(tokens[index]), !addressesReader(index) {
                    return Refusal("followed by '\(tokens[index].original)'", otherSense: true)
                }
                if tokens[index].kind == .word { seen += 1 }
                index += 1
            }
        }
        if !rule.notPrecededBy.isEmpty {
            var index = found.start - 1
            var seen = 0
            while index >= 0, seen < rule.window, !tokens[index].isBoundary {
                if rule.notPrecededBy.contains(where: { $0.matches(tokens[index]).0 }), another(tokens[index]) { return Refusal("preceded by '\(tokens[index].original)'", otherSense: true) }
                if tokens[index].kind == .word { seen += 1 }
                index -= 1
            }
        }
        if rule.notAskedBack, let asked = askedBack(found, tokens: tokens, lexicon: lexicon) {
            return Refusal(asked, otherSense: true, noted: false)
        }
        // Someone else's request or advice told of: a keyword (a rule with `retold`) always; a request in
        // words only when quoted ("ella les contestó \"no me escriban\""), since "my wife texted you to stop
        // texting me" passes the customer's own request on.
        let keyword = rule.retold != nil
        if keyword || request,
           let other = someoneElse(before: found.start, in: tokens, lexicon: lexicon),
           keyword || (other.end + 1...found.start).contains(where: { tokens[$0].quoteBefore }) {
            return Refusal("is someone else's: '\(other.text)' tells of another person's request or advice", otherSense: true, noted: false)
        }
        if request, let condition = announced(found.start...found.end, in: tokens, conditions: lexicon.conditionIf, announcements: lexicon.conditionThen, lexicon: lexicon) {
            return Refusal("is announced on a condition ('\(condition)'), not asked now", otherSense: true, noted: false)
        }
        if request, let purpose = announced(found.start...found.end, in: tokens, conditions: lexicon.purposePays, announcements: lexicon.purposeSo, lexicon: lexicon) {
            return Refusal("is what paying is for ('\(purpose)'), not asked now", otherSense: true, noted: false)
        }
        if request, let purpose = payingAfterPurpose(found.start...found.end, in: tokens, lexicon: lexicon) {
            return Refusal("is what paying is for ('\(purpose)'), not asked now", otherSense: true, noted: false)
        }
        if request, let means = paidAfter(found.start...found.end, in: tokens, lexicon: lexicon) {
            return Refusal("comes of paying ('\(means)'), not asked now", otherSense: true, noted: false)
        }
        if request, let disclaimer = disclaimed(before: found.start, in: tokens, lexicon: lexicon) {
            return Refusal("is said not to be asked ('\(disclaimer)')", otherSense: true, noted: false)
        }
        if request, let narrowing = narrowed(found.start...found.end, in: tokens, lexicon: lexicon) {
            return Refusal("is narrowed by '\(narrowing)' to an hour, a day, a place or another person, not the messages", otherSense: true, noted: false)
        }
        if let retold = rule.retold, let teller = retelling(of: found.start...found.end, in: tokens, lexicon: lexicon) {
            switch retold {
            case .never:
                return Refusal("is told of after '\(tokens[teller].original)', not asked now", otherSense: true, noted: false)
            case .unlessUndone:
                if let undo = undoing(in: tokens, lexicon: lexicon) {
                    return Refusal("is told of after '\(tokens[teller].original)' and taken back ('\(undo)')", otherSense: true, noted: false)
                }
                if let honored = honoring(in: tokens, lexicon: lexicon) {
                    return Refusal("is told of after '\(tokens[teller].original)' and already honored ('\(honored)')", otherSense: true, noted: false)
                }
            }
        }
        // A match refused for its sense above says more than one refused for where it stands: a keyword
        // quoted from the bank ("el mensaje decía envíe BAJA") is read otherwise, and the model may not add it back.
        if rule.whole {
            let others = tokens.indices.filter { index in
                guard index < found.start || index > found.end else { return false }
                let token = tokens[index]
                return (token.kind == .word && !token.forms.contains(where: { lexicon.filler.contains($0) || lexicon.vocatives.contains($0) })) || token.kind == .number
            }
            if let first = others.first { return Refusal("is not the whole reply (also '\(tokens[first].original)')", otherSense: false) }
        }
        if rule.alone {
            var before = found.start - 1
            // Punctuation, emoji and a word addressing the reader ("BAJA weón") do not join it to a clause.
            func apart(_ token: ReplyToken) -> Bool { token.kind != .word || token.forms.contains(where: lexicon.vocatives.contains) }
            while before >= 0, !tokens[before].isBoundary, apart(tokens[before]) { before -= 1 }
            var after = found.end + 1
            while after < tokens.count, !tokens[after].isBoundary, apart(tokens[after]) { after += 1 }
            if let other = [before, after].first(where: { $0 >= 0 && $0 < tokens.count && tokens[$0].kind == .word }) {
                return Refusal("is not a clause of its own (also '\(tokens[other].original)')", otherSense: false)
            }
        }
        if !rule.with.isEmpty {
            // Not inside a condition in its own clause ("ya estuvo, si me llega otro mensaje a esa hora
            // pongo la queja"): messages that may come are no complaint about those that came.
            let conditions = lexicon.conditionIf.flatMap { $0.matches(in: tokens, typos: false) }
            let named = rule.with.flatMap { phrase in
                phrase.matches(in: tokens).filter { other in
                    (other.end < found.start || other.start > found.end) && negator(before: other.start, in: tokens, lexicon: lexicon) == nil
                }
            }
            // Whether one of `conditions` starts before `other` in its clause.
            func inside(_ conditions: [(start: Int, end: Int, typo: Bool)], _ other: (start: Int, end: Int, typo: Bool)) -> Bool {
                conditions.contains { $0.start <= other.start && !(($0.start)..<other.start).contains(where: { tokens[$0].isBoundary }) }
            }
            let elsewhere = named.contains { !inside(conditions, $0) }
            // Named only inside a condition ("otro mensajito de esos y les meto una demanda, ya estuvo"):
            // a threat, and the model may not read a request into it either. A condition told, not set,
            // one that does not open its clause ("me mandaron otro sms más y eso que ya pagué. ya no"), is
            // a message that came.
            if !elsewhere, let other = named.first,
               case let set = conditions.filter({ otherWords(before: $0.start, in: tokens, lexicon: lexicon) == 0 }),
               named.allSatisfy({ inside(set, $0) }) {
                return Refusal("names '\(quote(tokens, other.start...other.end))' only inside a condition: a threat, not a request", otherSense: true, noted: false)
            }
            if !elsewhere {
                return Refusal("with no \(rule.with.map { "'\($0.source)'" }.joined(separator: " or ")) elsewhere in the reply", otherSense: false, noted: false)
            }
        }
        if rule.needsDateOrAmount && !promise.hasDate && !promise.hasAmount { return Refusal("with no date or amount", otherSense: false) }
        if rule.inQuestion {
            // The sentence the phrase is in ends with "?" (commas do not end it).
            var index = found.end + 1
            while index < tokens.count, !(tokens[index].kind == .punctuation && [".", "!", "?", ";"].contains(tokens[index].text)) { index += 1 }
            if index >= tokens.count || tokens[index].text != "?" { return Refusal("is not in a question", otherSense: false) }
        }
        return nil
    }

    static let sentenceEnds: Set<String> = [".", "!", "?", ";"]

    /// The first and last token of the sentence around `index`, and the mark that ends it (nil at the end of the reply).
    static func sentence(around range: ClosedRange<Int>, in tokens: [ReplyToken]) -> (start: Int, end: Int, mark: Int?) {
        var start = range.lowerBound
        while start > 0, !(tokens[start - 1].kind == .punctuation && sentenceEnds.contains(tokens[start - 1].text)) { start -= 1 }
        var mark = range.upperBound + 1
        while mark < tokens.count, !(tokens[mark].kind == .punctuation && sentenceEnds.contains(tokens[mark].text)) { mark += 1 }
        return (start, mark - 1, mark < tokens.count ? mark : nil)
    }

    /// Why a match is asked back or mentioned rather than used, or nil: in a question, after a
    /// mention ("what do you mean STOP?"); inside a mention ("what does STOP mean"), or at the start of
    /// one that goes on past it (the keyword as a subject: "STOP sirve pa los correos tb?",
    /// "Texting STOP won't mess up my credit, will it"); or a question of its own
    /// ("unsubscribe?") answered at once in the negative ("no way", "jamás").
    static func askedBack(_ found: (start: Int, end: Int, typo: Bool), tokens: [ReplyToken], lexicon: ReplyLexicon) -> String? {
        let around = sentence(around: found.start...found.end, in: tokens)
        let question = around.mark.map { tokens[$0].text == "?" } ?? false
        for phrase in lexicon.mentions {
            for mention in phrase.matches(in: tokens) where mention.start >= around.start && mention.end <= around.end {
                let before = mention.end < found.start
                // Around the match, or over its first word and on past it (the keyword as a subject: "STOP
                // sirve pa ...", "does STOP also stop the emails", "the STOP thing going to stop ...").
                let surrounds = mention.start <= found.start && mention.end > found.start
                // Close before it in the same clause (two words at most between), a mention needs no "?"
                // ("why would I unsubscribe, I need them", "por qué querría darme de baja").
                let close = before && found.start - mention.end <= 3 && !(mention.end + 1..<found.start).contains { tokens[$0].isBoundary }
                if before && (question || close) || surrounds {
                    return "is mentioned, not used ('\(quote(tokens, mention.start...mention.end))')"
                }
            }
        }
        guard question, let mark = around.mark else { return nil }
        let others = (around.start...around.end).filter { index in
            guard index < found.start || index > found.end else { return false }
            let token = tokens[index]
            return (token.kind == .word && !token.forms.contains(where: lexicon.filler.contains)) || token.kind == .number
        }
        guard others.isEmpty else { return nil }
        var next = mark
        while next < tokens.count, tokens[next].kind == .punctuation { next += 1 }
        guard next < tokens.count else { return nil }
        for phrase in lexicon.answers {
            if let answer = phrase.matches(in: tokens).first(where: { $0.start == next }) {
                return "is asked back and answered '\(quote(tokens, answer.start...answer.end))'"
            }
        }
        let answer = sentence(around: next...next, in: tokens)
        for phrase in lexicon.jokes {
            if let laugh = phrase.matches(in: tokens).first(where: { $0.start >= next && $0.end <= answer.end }) {
                return "is asked back in jest ('\(quote(tokens, laugh.start...laugh.end))' after it)"
            }
        }
        return nil
    }

    /// A verb that tells of a request made before ("I told you to stop", "les escribí BAJA"): among
    /// the match's own words, up to six words before it, or up to three after it ("el STOP lo puse por
    /// error"), in the same clause.
    static func retelling(of range: ClosedRange<Int>, in tokens: [ReplyToken], lexicon: ReplyLexicon) -> Int? {
        guard !lexicon.retellings.isEmpty else { return nil }
        func tells(_ index: Int) -> Bool { tokens[index].kind == .word && lexicon.retellings.contains(where: { $0.matches(tokens[index]).0 }) }
        if let inside = range.first(where: tells) { return inside }
        var back = range.lowerBound - 1
        var seen = 0
        while back >= 0, seen < 6, !tokens[back].isBoundary {
            if tokens[back].kind == .word {
                if tells(back) { return back }
                seen += 1
            }
            back -= 1
        }
        var next = range.upperBound + 1
        seen = 0
        while next < tokens.count, seen < 3, !tokens[next].isBoundary {
            if tokens[next].kind == .word {
                if tells(next) { return next }
                seen += 1
            }
            next += 1
        }
        return nil
    }

    /// Someone else's act or advice told of before a request (`retold.others`: "my cousin said he replied
    /// STOP", "mi vecina dice que ella les contestó \"no me escriban\"", "my roommate told me to write back
    /// \"unsubscribe\""): a phrase that ends in the request's clause, at most six words before it, not
    /// negated and read without typos ("mandé", I sent, is not "mandó"). Nil when the reply says the other
    /// person acted for this customer or from this number (`retold.for_me`: "on my behalf", "desde mi celular").
    static func someoneElse(before start: Int, in tokens: [ReplyToken], lexicon: ReplyLexicon) -> (text: String, end: Int)? {
        guard !lexicon.others.isEmpty else { return nil }
        var lower = start
        var seen = 0
        while lower > 0, seen < 6 {
            let token = tokens[lower - 1]
            if token.isBoundary { break }
            if token.kind == .word { seen += 1 }
            lower -= 1
        }
        guard let other = unnegated(lexicon.others, in: tokens, lexicon: lexicon, typos: false).first(where: { $0.end < start && $0.end >= lower }) else { return nil }
        if !unnegated(lexicon.forMe, in: tokens, lexicon: lexicon, typos: false).isEmpty { return nil }
        return (other.text, other.end)
    }

    /// The words saying a request was taken back ("by mistake", "opted back in"), not negated.
    static func undoing(in tokens: [ReplyToken], lexicon: ReplyLexicon) -> String? {
        unnegated(lexicon.undone, in: tokens, lexicon: lexicon).first?.text
    }

    /// The words saying a request was honored, the messages stopped ("ya no me llegan"), not negated nor asked.
    static func honoring(in tokens: [ReplyToken], lexicon: ReplyLexicon) -> String? {
        honored(in: tokens, lexicon: lexicon).first?.text
    }

    /// The `retold.honored` phrases, not negated and not asked (a clause of its own ending in "?": "Have
    /// the texts stopped? No."; not "ya no me llegan los mensajes pero me llaman, es normal?"), each quoted
    /// with where it starts.
    static func honored(in tokens: [ReplyToken], lexicon: ReplyLexicon) -> [(text: String, start: Int, end: Int)] {
        unnegated(lexicon.honored, in: tokens, lexicon: lexicon).filter { phrase in
            guard let mark = sentence(around: phrase.start...phrase.end, in: tokens).mark, tokens[mark].text == "?" else { return true }
            return (phrase.end + 1..<mark).contains { tokens[$0].isBoundary }
        }
    }

    /// The `welcome` phrases in the reply with no negator before them or inside them ("texts are fine";
    /// not "I'd rather not get texts"): each quoted, with where it starts and ends.
    static func welcome(in tokens: [ReplyToken], lexicon: ReplyLexicon) -> [(text: String, start: Int, end: Int)] {
        // One that names no texts, followed at most two words on in its clause by words naming e-mail, or
        // naming it inside, welcomes e-mail, not the texts ("escríbanme mejor al correo", "mándenme todo al
        // correo mejor"; not "al celular o por correo").
        let welcomes = welcome(in: tokens, phrases: lexicon.welcome, lexicon: lexicon)
        guard !welcomes.isEmpty else { return [] }
        let email = lexicon.namesEmail.flatMap { $0.matches(in: tokens, typos: false) }
        let texts = lexicon.namesSMS.flatMap { $0.matches(in: tokens, typos: false) }
        return welcomes.filter { found in
            texts.contains { $0.start >= found.start && $0.end <= found.end }
                || !email.contains { $0.start > found.start && ($0.start <= found.end || reaches(from: found.end, to: $0.start, in: tokens, words: 2)) }
        }
    }

    static func welcome(in tokens: [ReplyToken], phrases: [Phrase], lexicon: ReplyLexicon) -> [(text: String, start: Int, end: Int)] {
        var result: [(text: String, start: Int, end: Int)] = []
        for phrase in phrases {
            for found in phrase.matches(in: tokens) {
                if negator(before: found.start, in: tokens, lexicon: lexicon) != nil { continue }
                if (found.start...found.end).contains(where: { tokens[$0].kind == .word && tokens[$0].forms.contains(where: lexicon.negators.contains) && !phrase.names(tokens[$0]) }) { continue }
                result.append((quote(tokens, found.start...found.end), found.start, found.end))
            }
        }
        return result.sorted { $0.start < $1.start }
    }

    /// The first `asks_to_stop` phrase in the reply, quoted; nil when there is none.
    static func asksToStop(in tokens: [ReplyToken], lexicon: ReplyLexicon) -> String? {
        lexicon.asksToStop.lazy.compactMap { $0.matches(in: tokens).first }.min { $0.start < $1.start }
            .map { quote(tokens, $0.start...$0.end) }
    }

    /// Where the phrases match in the reply with no negator before them, each quoted.
    static func unnegated(_ phrases: [Phrase], in tokens: [ReplyToken], lexicon: ReplyLexicon, typos: Bool = true) -> [(text: String, start: Int, end: Int)] {
        phrases.flatMap { phrase in
            phrase.matches(in: tokens, typos: typos).filter { negator(before: $0.start, in: tokens, lexicon: lexicon) == nil }
                .map { (quote(tokens, $0.start...$0.end), $0.start, $0.end) }
        }
    }

    /// Whether a word of `wishes` comes at most three words before `start` in its clause ("I wish to
    /// no longer get ...", "quisiera que ya no me lleguen").
    static func wished(before start: Int, in tokens: [ReplyToken], lexicon: ReplyLexicon) -> Bool {
        var back = start - 1
        var seen = 0
        while back >= 0, seen < 3, !tokens[back].isBoundary {
            if tokens[back].kind == .word {
                if tokens[back].forms.contains(where: lexicon.wishes.contains) { return true }
                seen += 1
            }
            back -= 1
        }
        return false
    }

    /// The `taken_back` phrases in the reply, not negated, each quoted with where it ends, in order.
    /// One that ends at or after a request takes it back ("STOP. nvm", "disregard my STOP").
    static func takenBack(in tokens: [ReplyToken], lexicon: ReplyLexicon) -> [(text: String, end: Int)] {
        unnegated(lexicon.takenBack, in: tokens, lexicon: lexicon).sorted { $0.end < $1.end }.map { ($0.text, $0.end) }
    }

    /// The condition and announcement a request matched at `match` follows, quoted, or nil: a
    /// `conditional.then` phrase ending at most four words before it with no clause boundary between
    /// (or inside a match whose gap reaches back into the condition: "no me corrigen el saldo le pediré
    /// que ya no me escriban"; or at its start: "if I pay will you stop texting me?"), and a `conditional.if` phrase before that in the same sentence ("si me
    /// siguen llamando, voy a pedir que no me manden nada"). The same shape with `purpose.pays` and
    /// `purpose.so`: the messages stopping as what paying is for ("cuánto debo pagar para que ya no me
    /// lleguen mensajes").
    static func announced(_ match: ClosedRange<Int>, in tokens: [ReplyToken], conditions ifs: [Phrase], announcements: [Phrase], lexicon: ReplyLexicon) -> String? {
        guard !ifs.isEmpty, !announcements.isEmpty else { return nil }
        let start = match.lowerBound
        let sentenceStart = sentence(around: match, in: tokens).start
        // Each word as written: "pediré" is not "pedir" read through a typo.
        // A condition negated is none ("no puedo pagar, les pido que ya no me escriban").
        let conditions = ifs.flatMap { $0.matches(in: tokens, typos: false) }
            .filter { $0.start >= sentenceStart && negator(before: $0.start, in: tokens, lexicon: lexicon) == nil }.sorted { $0.start < $1.start }
        guard !conditions.isEmpty else { return nil }
        for phrase in announcements {
            for then in phrase.matches(in: tokens, typos: false) where then.start >= sentenceStart && then.end < match.upperBound {
                if then.end < start {
                    guard reaches(from: then.end, to: start, in: tokens) else { continue }
                } else if then.start < start {
                    continue
                }
                if let condition = conditions.first(where: { $0.end < then.start }) {
                    return "\(quote(tokens, condition.start...condition.end)) ... \(quote(tokens, then.start...then.end))"
                }
            }
        }
        return nil
    }

    /// The purpose said before the payment, quoted, or nil: a `purpose.so` phrase opening its clause (at most
    /// one word before it besides filler: "diay pa que") that reaches the request matched at `match`, and a
    /// `purpose.pays` phrase after the request in the same sentence, not negated ("para que ya no me
    /// lleguen más cobranzas el viernes pago todo", "so the texts stop I'm paying it all tomorrow"). Each
    /// word as written, as in `announced`.
    static func payingAfterPurpose(_ match: ClosedRange<Int>, in tokens: [ReplyToken], lexicon: ReplyLexicon) -> String? {
        guard !lexicon.purposePays.isEmpty, !lexicon.purposeSo.isEmpty else { return nil }
        let around = sentence(around: match, in: tokens)
        func opensClause(_ start: Int) -> Bool { otherWords(before: start, in: tokens, lexicon: lexicon) <= 1 }
        // The request may begin inside it ("pa q no me sigan llegando": "q no me sigan llegando"); the words
        // between may only be filler, clitics, negators or the messages ("to make the messages go away"),
        // not "para que sepan: ...", "so you know stop texting me".
        func plain(_ index: Int) -> Bool {
            tokens[index].kind != .word || tokens[index].forms.contains { lexicon.filler.contains($0) || lexicon.clitics.contains($0) || lexicon.negators.contains($0) }
                || oneWord(of: lexicon.namesSMS + lexicon.namesEmail + lexicon.promotionReminders, at: index, in: tokens)
        }
        guard let so = lexicon.purposeSo.lazy.flatMap({ $0.matches(in: tokens, typos: false) })
            .first(where: { $0.start >= around.start && $0.start < match.lowerBound && opensClause($0.start)
                && ($0.end >= match.lowerBound || (reaches(from: $0.end, to: match.lowerBound, in: tokens) && ($0.end + 1..<match.lowerBound).allSatisfy(plain))) })
        else { return nil }
        guard let pays = lexicon.purposePays.lazy.flatMap({ $0.matches(in: tokens, typos: false) })
            .first(where: { $0.start > match.upperBound && $0.end <= around.end && negator(before: $0.start, in: tokens, lexicon: lexicon) == nil })
        else { return nil }
        return "\(quote(tokens, so.start...so.end)) ... \(quote(tokens, pays.start...pays.end))"
    }

    /// The words before `start` in its clause other than filler, words addressing the reader and list words
    /// ("y si me vuelven a escribir" has none before "si").
    static func otherWords(before start: Int, in tokens: [ReplyToken], lexicon: ReplyLexicon) -> Int {
        tokens[..<start].reversed().prefix { !$0.isBoundary }.filter { token in
            token.kind == .word && !token.forms.contains { lexicon.filler.contains($0) || lexicon.vocatives.contains($0) || lexicon.listWords.contains($0) }
        }.count
    }

    /// Whether one of `phrases` matches the word at `index` alone ("reminders", "texts").
    static func oneWord(of phrases: [Phrase], at index: Int, in tokens: [ReplyToken]) -> Bool {
        phrases.contains { $0.match(in: tokens, startingAt: index) == index }
    }

    /// The `promotions.by` phrase, quoted, that tells the reminders named in `found` come another way (a
    /// call, a letter): one that ends right before a reminders word of the match or starts right after
    /// it; nil when the match also names the texts or e-mail. Runs for every opt_out match: the texts
    /// are looked for only once a way is found.
    static func otherWay(_ found: (start: Int, end: Int), in tokens: [ReplyToken], lexicon: ReplyLexicon) -> String? {
        let span = found.start...found.end
        func way(at reminder: Int) -> String? {
            for phrase in lexicon.remindersBy {
                if reminder > 0, let start = phrase.match(in: tokens, endingAt: reminder - 1) { return quote(tokens, start...(reminder - 1)) }
                if reminder + 1 < tokens.count, let end = phrase.match(in: tokens, startingAt: reminder + 1) { return quote(tokens, (reminder + 1)...end) }
            }
            return nil
        }
        guard let found = span.lazy.filter({ oneWord(of: lexicon.promotionReminders, at: $0, in: tokens) }).compactMap(way).first else { return nil }
        let messages = lexicon.namesSMS + lexicon.namesEmail
        return span.contains { oneWord(of: messages, at: $0, in: tokens) } ? nil : found
    }

    /// The `purpose.by` phrase that names paying as the means of a request matched at `match`, quoted:
    /// at most three words after it in its clause, with no contrast or reason in between ("stop getting
    /// reminders by paying it off"). Each word as written, as in `announced`.
    static func paidAfter(_ match: ClosedRange<Int>, in tokens: [ReplyToken], lexicon: ReplyLexicon) -> String? {
        guard !lexicon.purposeBy.isEmpty else { return nil }
        let stops = lexicon.contrast.union(lexicon.reasons)
        for phrase in lexicon.purposeBy {
            for found in phrase.matches(in: tokens, typos: false)
            where found.start > match.upperBound && reaches(from: match.upperBound, to: found.start, in: tokens, stoppedBy: stops, words: 3)
                && negator(before: found.start, in: tokens, lexicon: lexicon) == nil {
                return quote(tokens, found.start...found.end)
            }
        }
        return nil
    }

    /// The `disclaimed` phrase that says a request starting at `start` is not one, quoted: the request
    /// starts inside it ("no es que no quiera que me escriban"), or at most four words after it in its
    /// clause, with no contrast or reason in between ("it's not that I don't want your messages").
    static func disclaimed(before start: Int, in tokens: [ReplyToken], lexicon: ReplyLexicon) -> String? {
        guard !lexicon.disclaimed.isEmpty else { return nil }
        let stops = lexicon.contrast.union(lexicon.reasons)
        for phrase in lexicon.disclaimed {
            // Each word as written, as in `announced`: a disclaimer read through a typo would silence a request.
            for found in phrase.matches(in: tokens, typos: false) where found.start <= start {
                guard found.end >= start || reaches(from: found.end, to: start, in: tokens, stoppedBy: stops) else { continue }
                return quote(tokens, found.start...found.end)
            }
        }
        return nil
    }

    /// The `narrowed` phrase that narrows a request matched at `match` to an hour, a day, a place or
    /// another person, quoted, or nil: an `after` phrase that starts inside the match (past its first
    /// word) or at most two words after it in its clause, or a `before` phrase that ends at most two
    /// words before it in its clause, with no contrast or reason in between ("stop texting me at 6am",
    /// "en horario laboral no me escriban"); none when an `unless` phrase anywhere in the reply widens it
    /// back ("not at 6am, not at all"), or when the phrase ends in a word that names the customer in a
    /// reply a relative writes for them (`writes_for`: "a ella", "my mother").
    static func narrowed(_ match: ClosedRange<Int>, in tokens: [ReplyToken], lexicon: ReplyLexicon) -> String? {
        guard !lexicon.narrowedAfter.isEmpty || !lexicon.narrowedBefore.isEmpty else { return nil }
        let stops = lexicon.contrast.union(lexicon.reasons)
        // Each word as written, as in `announced`: a narrowing read through a typo would silence a request.
        let after = lexicon.narrowedAfter.lazy.flatMap { $0.matches(in: tokens, typos: false) }.first { found in
            found.start > match.lowerBound && (found.start <= match.upperBound || reaches(from: match.upperBound, to: found.start, in: tokens, stoppedBy: stops, words: 2))
                && !namesCustomer(tokens[found.end], in: tokens, lexicon: lexicon)
        }
        let before = after != nil ? nil : lexicon.narrowedBefore.lazy.flatMap { $0.matches(in: tokens, typos: false) }.first { found in
            found.end < match.lowerBound && reaches(from: found.end, to: match.lowerBound, in: tokens, stoppedBy: stops, words: 2)
                && !namesCustomer(tokens[found.end], in: tokens, lexicon: lexicon)
        }
        guard let narrowing = after ?? before else { return nil }
        return widened(tokens, lexicon: lexicon) ? nil : quote(tokens, narrowing.start...narrowing.end)
    }

    /// The first `narrowed` phrase (`after` or `before`) inside a sentence and at most four tokens from
    /// `index`, quoted, or nil; none when an `unless` phrase anywhere in the reply widens it back or the
    /// phrase ends in a word naming the customer, as in `narrowed(_:in:lexicon:)`.
    static func narrowed(near index: Int, sentence: (start: Int, end: Int, mark: Int?), in tokens: [ReplyToken], lexicon: ReplyLexicon) -> String? {
        guard sentence.start <= sentence.end else { return nil }
        let found = (lexicon.narrowedAfter + lexicon.narrowedBefore).lazy.flatMap { $0.matches(in: tokens, typos: false) }
            .first { found in
                let inside = found.start >= sentence.start && found.end <= sentence.end
                let near = found.end + 4 >= index && found.start <= index + 4
                return inside && near && !namesCustomer(tokens[found.end], in: tokens, lexicon: lexicon)
            }
        guard let found, !widened(tokens, lexicon: lexicon) else { return nil }
        return quote(tokens, found.start...found.end)
    }

    /// Whether `token` names the customer in the third person in a reply a relative or carer writes for
    /// them (a `writes_for.customer` word, and a `writes_for.prefaces` phrase anywhere in the reply). A
    /// customer word written with an accent counts only written so ("él", not the article "el").
    static func namesCustomer(_ token: ReplyToken, in tokens: [ReplyToken], lexicon: ReplyLexicon) -> Bool {
        token.kind == .word
            && lexicon.customerWords.contains(where: { $0.matches(token).0 && ($0.marked == nil || token.marked == $0.marked) })
            && lexicon.writesFor.contains { !$0.matches(in: tokens, typos: false).isEmpty }
    }

    /// Whether a `narrowed.unless` phrase anywhere in the reply widens a narrowed request back
    /// ("not at 6am, not at all").
    static func widened(_ tokens: [ReplyToken], lexicon: ReplyLexicon) -> Bool {
        lexicon.narrowedUnless.contains { !$0.matches(in: tokens, typos: false).isEmpty }
    }

    /// Whether words ending at `end` reach a request starting at `start`: at most `words` words between
    /// them (four unless told), and no clause boundary or word of `stoppedBy` (a contrast or a reason) among those.
    static func reaches(from end: Int, to start: Int, in tokens: [ReplyToken], stoppedBy: Set<String> = [], words: Int = 4) -> Bool {
        let between = (end + 1)..<start
        return !between.contains(where: { tokens[$0].isBoundary || (tokens[$0].kind == .word && tokens[$0].forms.contains(where: stoppedBy.contains)) })
            && between.filter({ tokens[$0].kind == .word }).count <= words
    }

    /// The `asks_who` phrases in the reply, not negated, each quoted with where it starts.
    static func asksWho(in tokens: [ReplyToken], lexicon: ReplyLexicon) -> [(text: String, start: Int)] {
        unnegated(lexicon.asksWho, in: tokens, lexicon: lexicon).sorted { $0.start < $1.start }.map { ($0.text, $0.start) }
    }

    /// The commas between the items of a list: followed by a word of `list_words` or by the word the
    /// item before began with ("no calls, no texts", "ni llamadas, ni mensajes", "don't call, don't text").
    static func listCommas(_ tokens: [ReplyToken], lexicon: ReplyLexicon) -> Set<Int> {
        var result = Set<Int>()
        var itemStart: Int?
        for index in tokens.indices {
            let token = tokens[index]
            if token.kind == .punctuation {
                guard token.text == ",", let first = itemStart, index + 1 < tokens.count, tokens[index + 1].kind == .word else {
                    itemStart = nil
                    continue
                }
                let next = tokens[index + 1]
                if next.forms.contains(where: lexicon.listWords.contains) || next.text == tokens[first].text {
                    result.insert(index)
                }
                itemStart = nil
            } else if itemStart == nil, token.kind == .word {
                itemStart = index
            }
        }
        return result
    }

    public static func classify(_ text: String, lexicon: ReplyLexicon, model: ReplyModel? = nil) -> ReplyUnderstanding {
        let own = ReplyText.withoutQuotedText(text)
        let tokens = tokens(own, lexicon: lexicon)
        let promiseDetails = PromiseExtraction.extract(tokens, lexicon: lexicon)
        var explain: [String] = []
        var refused: [String] = []
        if own.count < text.count { explain.append("quoted text ignored: \(text.count - own.count) characters of the message answered") }
        var unglued: [String] = []
        for token in tokens { if let written = token.unglued, !unglued.contains(written) { unglued.append(written) } }
        for written in unglued {
            let words = tokens.filter { $0.unglued == written }.map(\.text)
            explain.append("read '\(written)' as '\(words.joined(separator: " "))' (words written with no spaces)")
        }

        var intents: [ReplyIntent] = []
        var firstHit: [ReplyIntent: Int] = [:]
        // Sentences or clauses (split at . , ; : ! ?) that ask to stop: "Don't call, don't text, don't email."
        var demandClauses = Set<Int>()
        func clause(_ index: Int) -> Int { tokens[..<index].filter(\.isBoundary).count }
        // Intents a guard refused because the words mean something else here: the model may not add them.
        var readOtherwise = Set<ReplyIntent>()
        var lastRequest: [ReplyIntent: Int] = [:]
        var requestStarts: [Int] = []
        for intent in ReplyIntent.allCases {
            var otherSense = false
            let found = hits(lexicon.intents[intent] ?? [], name: intent.rawValue, tokens: tokens, lexicon: lexicon, promise: promiseDetails,
                             explain: &refused, otherSense: &otherSense)
            if otherSense { readOtherwise.insert(intent) }
            guard let first = found.first else { continue }
            if intent == .optOut || intent == .ceaseContact {
                demandClauses.formUnion(found.map { clause($0.start) })
                requestStarts += found.map(\.start)
                lastRequest[intent] = found.map(\.end).max()
            }
            firstHit[intent] = first.start
            intents.append(intent)
            let typo = first.typo ? " (read through a typo)" : ""
            explain.append("\(intent.rawValue): '\(quote(tokens, first.start...first.end))'\(typo) [\(first.rule.origin)]")
        }
        // A request taken back later in the reply ("STOP. nvm, wrong chat", "BAJA... no espera, me equivoqué"),
        // or in the words that take it back ("disregard my STOP"), is not asked; said again after the
        // taking back, it counts. The model adds none either.
        let retractions = takenBack(in: tokens, lexicon: lexicon)
        if !retractions.isEmpty {
            for intent in [ReplyIntent.optOut, .ceaseContact] {
                if let last = lastRequest[intent], let after = retractions.last(where: { $0.end >= last }) {
                    intents.removeAll { $0 == intent }
                    firstHit[intent] = nil
                    explain.removeAll { $0.hasPrefix("\(intent.rawValue):") }
                    explain.append("not \(intent.rawValue): taken back ('\(after.text)') [\(lexicon.language).yml taken_back]")
                }
                if !intents.contains(intent) { readOtherwise.insert(intent) }
            }
        }
        // The messages said to be welcome ("texts are fine", "mejor por mensaje"), not negated: the
        // request is about calls or a place, not the texts.
        let welcomes = welcome(in: tokens, lexicon: lexicon)
        let welcomed = welcomes.first?.text
        // A reply that says some messages are welcome ("stop calling me, text me instead", "don't call me
        // at the hospital, texts are fine") asks about one channel or place, not to cease all contact.
        // E-mail kept open ("ya no me escriban por mensaje, solo por correo") is no cease either, but
        // the texts are still to stop: the request becomes an opt_out.
        let emailWelcomes = welcome(in: tokens, phrases: lexicon.welcomeEmail, lexicon: lexicon)
        let emailWelcomed = emailWelcomes.first?.text
        if let kept = welcomed ?? emailWelcomed, let at = intents.firstIndex(of: .ceaseContact) {
            intents.remove(at: at)
            explain.removeAll { $0.hasPrefix("cease_contact:") }
            explain.append("not cease_contact: '\(kept)' says messages are welcome, so the request is about one channel or place [\(lexicon.language).yml \(welcomed != nil ? "welcome" : "welcome_email")]")
            readOtherwise.insert(.ceaseContact)
            if welcomed == nil, !intents.contains(.optOut) {
                intents.append(.optOut)
                intents.sort()
                firstHit[.optOut] = firstHit[.ceaseContact]
                explain.append("opt_out: the request to stop contact keeps only e-mail, so the texts stop")
            }
            firstHit[.ceaseContact] = nil
        }
        // The words that ask for something to stop ("dejen", "ya no", "remove"): without one, the model
        // reads no opt_out or cease_contact (a complaint or a threat is not a request).
        let stopAsked = lexicon.asksToStop.isEmpty ? "" : asksToStop(in: tokens, lexicon: lexicon)
        // The model adds an intent the phrases missed, when its probability reaches the intent's
        // threshold, unless a guard refused a phrase of that intent for its sense ("cancelar la deuda").
        let reading = model?.read(tokens)
        if let model, let reading {
            for intent in ReplyIntent.allCases where !intents.contains(intent) {
                let probability = reading.probability[.intent(intent)] ?? 0
                guard probability >= (model.thresholds[intent] ?? 0.5) else { continue }
                if intent == .promiseToPay && !promiseDetails.hasDate && !promiseDetails.hasAmount { continue }
                if readOtherwise.contains(intent) { continue }
                // A cease_contact carries an opt-out: where the phrases found none and read one otherwise
                // ("no me molesta que me escriban"), the model does not bring it back as a cease.
                if intent == .ceaseContact, readOtherwise.contains(.optOut), !intents.contains(.optOut) { continue }
                // A reply whose phrases ask for the messages again ("please resume texts", "yes text me
                // again") does not revoke them: the model's opt-out there is read from the same words.
                if intent == .optOut, intents.contains(.optIn) {
                    explain.append("not opt_out: model \(format(probability)), but the reply asks for the messages again (opt_in)")
                    continue
                }
                let passages = model.passages(.intent(intent), of: reading, tokens: tokens)
                // Welcome messages hold the model back only where it read the opt-out: a sentence
                // that says the texts are fine ("no me llamen al trabajo, mejor por mensaje"). In
                // another sentence they may be a different thing ("texts were fine until now. leave
                // me alone"), and a missed opt-out costs more.
                if intent == .optOut, let strongest = passages.first?.first {
                    let around = sentence(around: strongest...strongest, in: tokens)
                    if let said = welcomes.first(where: { (around.start...max(around.start, around.end)).contains($0.start) }) {
                        explain.append("not opt_out: model \(format(probability)), but '\(said.text)' in the same sentence says the messages are welcome [\(lexicon.language).yml welcome]")
                        continue
                    }
                    // A question about who writes asks for information ("who keeps texting me?").
                    if let asked = asksWho(in: tokens, lexicon: lexicon).first(where: { (around.start...max(around.start, around.end)).contains($0.start) }) {
                        explain.append("not opt_out: model \(format(probability)), but '\(asked.text)' asks who writes [\(lexicon.language).yml asks_who]")
                        continue
                    }
                    // The messages said to have stopped in that sentence ("ya no me llegaron más mensajes
                    // desde que pagué", "the texts stopped after I paid"): a past fact, not a request.
                    // Not when wished for ("I wish to no longer get messages"): that is the request.
                    if let told = honored(in: tokens, lexicon: lexicon).first(where: { phrase in
                        (around.start...max(around.start, around.end)).contains(phrase.start) && !wished(before: phrase.start, in: tokens, lexicon: lexicon)
                    }) {
                        explain.append("not opt_out: model \(format(probability)), but '\(told.text)' in the same sentence tells that the messages stopped [\(lexicon.language).yml retold.honored]")
                        continue
                    }
                    // A count, an hour, a place or another person at most four words from where the model
                    // read most, in its sentence, narrows it as it narrows a phrase ("pare de fregar con
                    // tantos mensajes al día"); not farther ("ya no me escriban a este cel, el señor se lo
                    // vendió a mi papá" is a request).
                    if let narrowing = narrowed(near: strongest, sentence: around, in: tokens, lexicon: lexicon) {
                        explain.append("not opt_out: model \(format(probability)), but '\(narrowing)', beside what it read, narrows it to an hour, a count, a place or another person [\(lexicon.language).yml narrowed]")
                        continue
                    }
                }
                if intent == .optOut || intent == .ceaseContact, stopAsked == nil {
                    explain.append("not \(intent.rawValue): model \(format(probability)), but no word asks for anything to stop [\(lexicon.language).yml asks_to_stop]")
                    continue
                }
                intents.append(intent)
                firstHit[intent] = passages.first?.first ?? 0
                let phrases = passages.map { "'\($0.text)'" }.joined(separator: ", ")
                explain.append("\(intent.rawValue): model \(format(probability)) (threshold \(format(model.thresholds[intent] ?? 0.5))), most from \(phrases) [\(ReplyModel.fileName)]")
            }
            intents.sort()
        }
        // Asking to stop all contact asks to stop the texts too (README, The labeled set: cease_contact
        // always carries opt_out), however the cease was found.
        if intents.contains(.ceaseContact), !intents.contains(.optOut), welcomed == nil {
            intents.append(.optOut)
            intents.sort()
            firstHit[.optOut] = firstHit[.ceaseContact]
            explain.append("opt_out: implied by cease_contact (all contact includes the texts)")
        }
        // Promotions refused and the debt's reminders kept, before or after ("los recordatorios de pago
        // déjenlos, pero las promos no me las manden", "unsubscribe me from marketing only, keep the due
        // date alerts"): the gateway's messages are the reminders, so nothing it sends is refused. A
        // request that names the reminders or anything else too ("ya no quiero ofertas ni
        // recordatorios"), or the texts beside the promotions ("promociones y mensajes", but not "promo
        // texts", "mensajes de promociones"), refuses them; the kept words must stand outside the
        // request's clauses ("stop texting me the promos and keep the payment texts to yourself").
        // Clauses here also end at an emoji ("STOP sending me the offers lol 😂 reminders are fine") and at a
        // contrast ("stop the promo texts but keep sending the payment reminders").
        if intents.contains(.optOut), !intents.contains(.ceaseContact), let hit = firstHit[.optOut] {
            // Each token's part of the reply (the boundaries, emoji and contrasts before it), counted once.
            var parts: [Int] = []
            var part = 0
            for token in tokens {
                parts.append(part)
                if token.isBoundary || token.kind == .emoji || token.forms.contains(where: lexicon.contrast.contains) { part += 1 }
            }
            let requests = Set((requestStarts.isEmpty ? [hit] : requestStarts).map { parts[$0] })
            let promotions = lexicon.promotionNames.flatMap { $0.matches(in: tokens) }
            let reminders = lexicon.promotionReminders.flatMap { $0.matches(in: tokens) }
            let channels = (lexicon.namesSMS + lexicon.namesEmail).flatMap { $0.matches(in: tokens) }
            // A channel named as the promotions' own: overlapping one, or one word from it with no list
            // word ("y", "and", "ni") or clause boundary between.
            func ofPromotion(_ named: (start: Int, end: Int, typo: Bool)) -> Bool {
                promotions.contains { promotion in
                    let (from, to) = promotion.start > named.end ? (named.end, promotion.start) : (promotion.end, named.start)
                    guard to > from + 1 else { return true }
                    let between = tokens[(from + 1)..<to]
                    return between.filter { $0.kind == .word }.count <= 1
                        && !between.contains { $0.isBoundary || $0.forms.contains(where: lexicon.listWords.contains) }
                }
            }
            if requests.allSatisfy({ request in
                   promotions.contains { parts[$0.start] == request } && !reminders.contains { parts[$0.start] == request }
                       && !channels.contains { parts[$0.start] == request && !ofPromotion($0) }
               }),
               let kept = unnegated(lexicon.remindersKept, in: tokens, lexicon: lexicon).first(where: { !requests.contains(parts[$0.start]) }) {
                intents.removeAll { $0 == .optOut }
                firstHit[.optOut] = nil
                explain.removeAll { $0.hasPrefix("opt_out:") }
                explain.append("not opt_out: it refuses promotions ('\(promotions.map { quote(tokens, $0.start...$0.end) }.joined(separator: "', '"))') and '\(kept.text)' keeps the reminders [\(lexicon.language).yml promotions]")
            }
        }
        // WhatsApp refused and the texts kept by another name, in another clause ("no me escriban por
        // whatsapp, solo por mensaje de texto"): the gateway sends no WhatsApp, so the request refuses
        // nothing it sends. Only when the request's own clause names WhatsApp and not the texts, and the
        // welcome names no WhatsApp ("ya no me manden mensajes, mejor escríbanme al whatsapp" stays an
        // opt-out of the texts); e-mail named anywhere but in a welcome ("ni al correo") leaves the
        // opt-out, for the e-mail.
        if intents.contains(.optOut), !intents.contains(.ceaseContact), let hit = firstHit[.optOut] {
            let whatsapp = lexicon.namesWhatsApp.flatMap { $0.matches(in: tokens) }
            func namesWhatsApp(_ span: ClosedRange<Int>) -> Bool { whatsapp.contains { span.overlaps($0.start...$0.end) } }
            let request = clause(hit)
            let textsInRequest = lexicon.namesSMS.flatMap { $0.matches(in: tokens) }
                .contains { !namesWhatsApp($0.start...$0.end) && clause($0.start) == request }
            if let refused = whatsapp.first(where: { clause($0.start) == request }), !textsInRequest,
               let kept = welcomes.first(where: { !namesWhatsApp($0.start...$0.end) && clause($0.start) != request }) {
                // E-mail named only where it is said to be welcome ("solo correo o sms") refuses no e-mail.
                if lexicon.namesEmail.flatMap({ $0.matches(in: tokens) }).allSatisfy({ named in emailWelcomes.contains { ($0.start...$0.end).overlaps(named.start...named.end) } }) {
                    intents.removeAll { $0 == .optOut }
                    firstHit[.optOut] = nil
                    explain.removeAll { $0.hasPrefix("opt_out:") }
                    explain.append("not opt_out: it refuses WhatsApp ('\(quote(tokens, refused.start...refused.end))'), which the gateway does not send, and '\(kept.text)' keeps the texts [\(lexicon.language).yml names_whatsapp, welcome]")
                }
            }
        }
        // Which channels the opt-out is about: those the reply names, less those it keeps.
        var optOutChannels: [String] = [], keptChannels: [String] = []
        if intents.contains(.optOut) {
            var named: [(channel: String, said: String)] = []
            for (channel, phrases) in [("sms", lexicon.namesSMS), ("email", lexicon.namesEmail)] {
                if let found = phrases.lazy.compactMap({ $0.matches(in: tokens).first }).first { named.append((channel, quote(tokens, found.start...found.end))) }
            }
            let kept = [("sms", welcomed), ("email", emailWelcomed)].compactMap { channel, said in said.map { (channel, $0) } }
            keptChannels = kept.map(\.0)
            optOutChannels = named.map(\.channel).filter { !keptChannels.contains($0) }
            if !named.isEmpty || !kept.isEmpty {
                let names = named.filter { optOutChannels.contains($0.channel) }.map { "\($0.channel) ('\($0.said)')" }
                let keeps = kept.map { "\($0.0) kept ('\($0.1)')" }
                explain.append("opt_out channels: " + (names.isEmpty ? "the reply's own" : names.joined(separator: ", "))
                               + (keeps.isEmpty ? "" : "; " + keeps.joined(separator: ", ")) + " [\(lexicon.language).yml names_sms, names_email, welcome, welcome_email]")
            }
        }
        // A refusal is only worth showing when the intent was not found another way.
        explain += refused.filter { line in !intents.contains { line.hasPrefix("not \($0.rawValue):") } }

        var promise: PaymentPromise?
        if intents.contains(.promiseToPay) {
            promise = promiseDetails
            var parts: [String] = []
            if let date = promiseDetails.dateText { parts.append("date '\(date)'") }
            if let amount = promiseDetails.amountText { parts.append("amount '\(amount)'") }
            if !parts.isEmpty { explain.append("promise: " + parts.joined(separator: ", ")) }
        }

        let sentiment = Sentiment.score(tokens, lexicon: lexicon)

        var cueHits: [ReplyLabel: RuleHit] = [:]
        var cueRefusals: [String] = []
        for label in [ReplyLabel.upset, .willing, .worried] {
            var otherSense = false
            if let hit = hits(lexicon.cues[label] ?? [], name: label.rawValue, tokens: tokens, lexicon: lexicon, promise: promiseDetails,
                              explain: &cueRefusals, otherSense: &otherSense).first {
                cueHits[label] = hit
            }
        }
        func cue(_ label: ReplyLabel) -> String? {
            cueHits[label].map { "'\(quote(tokens, $0.start...$0.end))' [\($0.rule.origin)]" }
        }
        // Shouting: a reply of three words or more in capitals, two words in capitals, "!!" or "???".
        let words = tokens.filter { $0.kind == .word && $0.original.count >= 2 }
        let letters = own.filter(\.isLetter)
        var emphasis: [String] = []
        if words.count >= 3, !letters.isEmpty, letters.allSatisfy({ !$0.isLowercase }) { emphasis.append("all in capitals") }
        if tokens.filter(\.shouted).count >= 2 { emphasis.append("words in capitals") }
        if tokens.filter({ $0.text == "!" }).count >= 2 { emphasis.append("'!!'") }
        if tokens.filter({ $0.text == "?" }).count >= 3 { emphasis.append("'???'") }
        let offers = intents.contains(.promiseToPay) || cueHits[.willing] != nil
        let complaint = intents.first { [.optOut, .ceaseContact, .dispute, .paid, .wrongNumber].contains($0) }

        var label: ReplyLabel
        var weakLabel = false
        if let reason = cue(.upset) {
            label = .upset
            explain.append("label upset: \(reason)")
        } else if !emphasis.isEmpty, !offers, !intents.contains(.hardship), complaint != nil || sentiment.score < 0 {
            label = .upset
            explain.append("label upset: shouting (\(emphasis.joined(separator: ", "))) with \(complaint.map { "\($0.rawValue)" } ?? "a negative score")")
        } else if demandClauses.count >= 3 {
            label = .upset
            explain.append("label upset: asks to stop in \(demandClauses.count) clauses")
        } else if intents.contains(.paid), intents.contains(.optOut) || intents.contains(.ceaseContact), sentiment.score < 0 {
            label = .upset
            explain.append("label upset: says it has paid and asks to stop")
        } else if intents.contains(.wrongNumber) {
            label = .neutral
            explain.append("label neutral: wrong_number (not the debtor)")
        } else if let hardship = firstHit[.hardship], let offer = firstHit[.promiseToPay] ?? cueHits[.willing]?.start,
                  let pivot = tokens.lastIndex(where: { $0.kind == .word && $0.forms.contains(where: lexicon.contrast.contains) }),
                  offer < pivot, pivot < hardship {
            label = .worried
            explain.append("label worried: the hardship comes after '\(tokens[pivot].original)', the offer before it")
        } else if intents.contains(.promiseToPay) {
            label = .willing
            explain.append("label willing: promise_to_pay")
        } else if let reason = cue(.willing) {
            label = .willing
            explain.append("label willing: \(reason)")
        } else if sentiment.score <= lexicon.upsetBelow && !intents.contains(.hardship) && cueHits[.worried] == nil {
            label = .upset
            weakLabel = true
            explain.append("label upset: score \(format(sentiment.score)) is at or below \(format(lexicon.upsetBelow)) (upset_below) with no hardship or worried phrase")
        } else if intents.contains(.hardship) {
            label = .worried
            explain.append("label worried: hardship")
        } else if let reason = cue(.worried) {
            label = .worried
            explain.append("label worried: \(reason)")
        } else if sentiment.score <= lexicon.worriedBelow, !intents.contains(where: { [ReplyIntent.dispute, .paid, .wrongNumber].contains($0) }) {
            label = .worried
            weakLabel = true
            explain.append("label worried: score \(format(sentiment.score)) is at or below \(format(lexicon.worriedBelow)) (worried_below)")
        } else {
            label = .neutral
            weakLabel = true
            explain.append("label neutral: no upset, willing or worried cue")
        }
        // When no phrase decided the label (only the score, or nothing), the model's label stands.
        if let model, let reading, weakLabel, reading.label != label {
            label = reading.label
            explain.removeLast()
            let phrases = model.passages(.label(label), of: reading, tokens: tokens).map { "'\($0.text)'" }.joined(separator: ", ")
            explain.append("label \(label.rawValue): model \(format(reading.probability[.label(label)] ?? 0)) (no phrase decided), most from \(phrases) [\(ReplyModel.fileName)]")
        }
        explain += cueRefusals.filter { line in !cueHits.keys.contains { line.hasPrefix("not \($0.rawValue):") } }
        if !sentiment.reasons.isEmpty {
            explain.append("score \(format(sentiment.score)): " + sentiment.reasons.joined(separator: ", "))
        } else {
            explain.append("score 0: no sentiment words")
        }
        return ReplyUnderstanding(text: text, language: lexicon.language, label: label, score: sentiment.score, intents: intents,
                                  promise: promise, explain: explain, optOutChannels: optOutChannels, keptChannels: keptChannels)
    }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }
}

/// VADER's rules (Hutto & Gilbert 2014) over the lexicon's valences: intensifiers, negation within
/// three words (×-0.74), capitals, "but"/"pero" (before ×0.5, after ×1.5), "!" and "?", emoji.
enum Sentiment {
    static let capsBoost = 0.733
    static let negationScale = -0.74

    static func score(_ tokens: [ReplyToken], lexicon: ReplyLexicon) -> (score: Double, reasons: [String]) {
        var values = [Double](repeating: 0, count: tokens.count)
        var reasons: [String] = []
        for (index, token) in tokens.enumerated() {
            guard let (base, key) = lexicon.valence(of: token) else { continue }
            // Intensifiers are not themselves sentiment.
            if token.kind == .word, token.forms.contains(where: { lexicon.intensifiers[$0] != nil }) { continue }
            var value = base
            var notes: [String] = []
            if token.kind == .word {
                // Intensifiers in the three words before, weaker further away.
                var back = index - 1
                var distance = 0
                while back >= 0, distance < 3, !tokens[back].isBoundary {
                    if let boost = tokens[back].forms.lazy.compactMap({ lexicon.intensifiers[$0] }).first {
                        var scalar = boost * [1.0, 0.95, 0.9][distance]
                        if tokens[back].shouted { scalar += boost > 0 ? capsBoost : -capsBoost }
                        value += value > 0 ? scalar : -scalar
                        notes.append("'\(tokens[back].original)' \(boost > 0 ? "boosts" : "softens")")
                    }
                    if tokens[back].kind == .word { distance += 1 }
                    back -= 1
                }
                if token.shouted {
                    value += value > 0 ? capsBoost : -capsBoost
                    notes.append("capitals")
                }
                if let at = ReplyClassifier.negator(before: index, in: tokens, lexicon: lexicon) {
                    value *= negationScale
                    notes.append("negated by '\(tokens[at].original)'")
                }
            }
            values[index] = value
            let shown = token.kind == .emoji ? token.original : key
            reasons.append("'\(shown)' \(ReplyClassifier.format(base))" + (notes.isEmpty ? "" : " (\(notes.joined(separator: ", ")) -> \(ReplyClassifier.format(value)))"))
        }
        // The last "but" / "pero": the clause after it is what the customer means.
        if let pivot = tokens.lastIndex(where: { $0.kind == .word && $0.forms.contains(where: lexicon.contrast.contains) }),
           values.contains(where: { $0 != 0 }) {
            for index in values.indices where values[index] != 0 { values[index] *= index < pivot ? 0.5 : 1.5 }
            reasons.append("'\(tokens[pivot].original)' (before ×0.5, after ×1.5)")
        }
        var sum = values.reduce(0, +)
        if sum != 0 {
            let bangs = min(tokens.filter { $0.text == "!" }.count, 4)
            let questions = tokens.filter { $0.text == "?" }.count
            var emphasis = Double(bangs) * 0.292
            if questions > 1 { emphasis += questions <= 3 ? Double(questions) * 0.18 : 0.96 }
            if emphasis > 0 {
                sum += sum > 0 ? emphasis : -emphasis
                reasons.append("punctuation emphasis \(ReplyClassifier.format(emphasis))")
            }
        }
        let compound = sum / (sum * sum + 15).squareRoot()
        return (max(-1, min(1, compound)), reasons)
    }
}
