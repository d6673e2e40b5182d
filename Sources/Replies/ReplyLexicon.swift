import Foundation

/// What a reply may ask or say. Several can hold at once.
public enum ReplyIntent: String, Sendable, CaseIterable, Codable, Comparable {
    case optOut = "opt_out"
    case optIn = "opt_in"
    case help
    case dispute
    case lawyer
    case bankruptcy
    case ceaseContact = "cease_contact"
    case hardship
    case promiseToPay = "promise_to_pay"
    case paid
    case wrongNumber = "wrong_number"

    public static func < (a: ReplyIntent, b: ReplyIntent) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// How a reply sounds. When a reply mixes them: upset > willing > worried > neutral.
public enum ReplyLabel: String, Sendable, CaseIterable, Codable {
    case upset, worried, neutral, willing
}

/// One element of a phrase: a word, a word prefix ("escrib*"), alternatives ("me|nos"), a gap
/// of up to three words ("..."), a gap to the end of the clause ("~"), or punctuation between two
/// clauses (","), which any run of punctuation marks matches ("stop, wait... never mind").
public enum PhraseElement: Sendable, Equatable {
    case alternatives([WordPattern])
    case gap(Int)
    case punctuation

    /// The gap of `~`: up to the end of the clause.
    public static let clause = 1000
}

public struct WordPattern: Sendable, Equatable, CustomStringConvertible {
    public var text: String {
        didSet { typoEligible = WordPattern.typoEligible(text) }
    }
    public var prefix: Bool
    /// Whether a misspelling of `text` counts (five letters or more), worked out once.
    private var typoEligible: Bool
    /// `<name>` in a phrase: a word written with a capital and then small letters ("no soy Guadalupe",
    /// "I am not Derek"), as people write names. Words in capitals only ("NO SOY YO") are not names.
    public var name: Bool = false
    /// The word as the lexicon wrote it, with its acute accents (ReplyText.marked), when it has one:
    /// then a reply word written with other accents does not match ("envié" is not "Envíe"); one
    /// written without any still does, since people often leave accents out.
    public var marked: String?

    public init(text: String, prefix: Bool, marked: String? = nil) {
        self.text = text
        self.prefix = prefix
        self.marked = marked
        typoEligible = WordPattern.typoEligible(text)
    }

    /// False only when both the pattern and the word carry accents and they differ.
    func accentsAgree(_ token: ReplyToken) -> Bool {
        guard let marked, let written = token.marked else { return true }
        return prefix ? written.hasPrefix(marked) : written == marked
    }

    static func typoEligible(_ text: String) -> Bool { text.count >= 5 && text.allSatisfy(\.isLetter) }

    /// The `<name>` placeholder.
    public static let anyName: WordPattern = {
        var pattern = WordPattern(text: "<name>", prefix: false)
        pattern.name = true
        return pattern
    }()

    public var description: String { name ? "<name>" : prefix ? text + "*" : text }

    /// Exact, prefix, or (for words of five letters or more) one typo away.
    func matches(_ token: ReplyToken) -> (Bool, typo: Bool) {
        guard token.kind != .punctuation else { return (false, false) }
        if name {
            guard token.kind == .word, let first = token.original.first, first.isUppercase, token.original.count >= 2,
                  token.original.dropFirst().contains(where: \.isLowercase) else { return (false, false) }
            return (true, false)
        }
        // The token's forms without building an array: this runs for every phrase word against every reply word.
        if marked != nil, !accentsAgree(token) { return (false, false) }
        if prefix {
            if token.text.hasPrefix(text) || token.alternative?.hasPrefix(text) == true { return (true, false) }
            return (false, false)
        }
        if token.text == text || token.alternative == text { return (true, false) }
        if typoEligible, token.kind == .word,
           WordPattern.misspelling(token.text, of: text) || token.alternative.map({ WordPattern.misspelling($0, of: text) }) == true {
            return (true, true)
        }
        return (false, false)
    }

    /// Letters people write for each other (b/v, s/z/c, y/ll, i/y, k/q/c, g/j): "escrivan", "biernes", "desir".
    static let confusable: Set<String> = ["bv", "vb", "sz", "zs", "sc", "cs", "zc", "cz", "yi", "iy", "kc", "ck", "kq", "qk", "gj", "jg", "mn", "nm"]

    /// A common misspelling of `word`: one confusable letter, two neighbours swapped, a letter
    /// doubled or undoubled, a silent h dropped or added, or any letter dropped from a word of nine
    /// letters or more ("unsubcribe"). Not any one-letter change: in Spanish one letter is often
    /// another tense or person ("pago" / "pague"), so short words stay different words.
    static func misspelling(_ written: String, of word: String) -> Bool {
        // Cheap refusals first (this runs for every phrase word against every reply word).
        let a = written.utf8, b = word.utf8
        guard abs(a.count - b.count) <= 2, a.count >= 4, b.count >= 4 else { return false }
        let x = Array(written), y = Array(word)
        guard x != y, abs(x.count - y.count) <= 1, min(x.count, y.count) >= 4 else { return false }
        if x.count == y.count {
            let diffs = (0..<x.count).filter { x[$0] != y[$0] }
            if diffs.count == 1 { return confusable.contains(String([x[diffs[0]], y[diffs[0]]])) }
            return diffs.count == 2 && diffs[1] == diffs[0] + 1 && x[diffs[0]] == y[diffs[1]] && x[diffs[1]] == y[diffs[0]]
        }
        let (long, short) = x.count > y.count ? (x, y) : (y, x)
        var i = 0
        while i < short.count && long[i] == short[i] { i += 1 }
        guard Array(long[(i + 1)...]) == Array(short[i...]) else { return false }
        // A letter dropped from a long word ("unsubcribe", "notificacones"): too long to be another word.
        if x.count < y.count && y.count >= 9 { return true }
        let extra = long[i]
        return extra == "h" || (i > 0 && long[i - 1] == extra) || (i + 1 < long.count && long[i + 1] == extra)
    }

}

/// A phrase pattern as compliance writes it: `ya no ... escrib*|mand*`.
public struct Phrase: Sendable, Equatable, CustomStringConvertible {
    public var elements: [PhraseElement]
    public var source: String

    public var description: String { source }

    public enum SyntaxError: Error, Equatable { case empty, gapAtEdge, punctuationAtEdge, gapNextToPunctuation, emptyAlternative, badGap(String), badCharacter(String) }

    public init(_ source: String) throws(SyntaxError) {
        self.source = source
        var elements: [PhraseElement] = []
        let parts = ReplyText.tokenizePattern(source)
        for part in parts {
            if part == "..." { elements.append(.gap(3)); continue }
            // "~": any number of words, within the same clause ("paren ~ mensajes": "paren ya con todos esos mensajes").
            if part == "~" { elements.append(.gap(PhraseElement.clause)); continue }
            if part.hasPrefix("...") { throw .badGap(part) }
            // ",": one or more punctuation marks, where a clause ends and the next begins ("wait , never mind").
            if part == "," {
                if case .punctuation? = elements.last { continue }
                if case .gap? = elements.last { throw .gapNextToPunctuation }
                elements.append(.punctuation); continue
            }
            var options: [WordPattern] = []
            for option in part.split(separator: "|", omittingEmptySubsequences: false) {
                if option == "<name>" { options.append(.anyName); continue }
                var text = String(option)
                let prefix = text.hasSuffix("*") && text.count > 1
                if prefix { text.removeLast() }
                let marked = ReplyText.marked(text)
                if text.count == 1, let character = text.first, ReplyText.isEmoji(character) {
                    text = ReplyText.emojiBase(character)
                } else {
                    text = ReplyText.fold(text)
                }
                guard !text.isEmpty, !text.contains("*") else { throw .emptyAlternative }
                // Replies are split into words, numbers and emoji: "wrong-number" or "again?" would never match.
                let isEmoji = text.count == 1 && ReplyText.isEmoji(text.first!)
                guard isEmoji || text.allSatisfy({ $0.isLetter || $0.isNumber }) else { throw .badCharacter(text) }
                options.append(WordPattern(text: text, prefix: prefix, marked: marked))
            }
            elements.append(.alternatives(options))
        }
        guard !elements.isEmpty else { throw .empty }
        if case .gap = elements.first! { throw .gapAtEdge }
        if case .gap = elements.last! { throw .gapAtEdge }
        if case .punctuation = elements.first! { throw .punctuationAtEdge }
        if case .punctuation = elements.last! { throw .punctuationAtEdge }
        for (element, next) in zip(elements, elements.dropFirst()) {
            if case .punctuation = element, case .gap = next { throw .gapNextToPunctuation }
        }
        self.elements = elements
    }

    /// Whether one of the phrase's own words matches this token.
    func names(_ token: ReplyToken) -> Bool {
        elements.contains { element in
            if case .alternatives(let options) = element { return options.contains { $0.matches(token).0 } }
            return false
        }
    }

    /// Every place the phrase matches: (first token, last token, used a typo). `typos: false` takes
    /// each word only as written (no misspelling); a gap may skip the commas in `listCommas` (the
    /// commas between the items of a list, "no calls, no texts, no letters").
    func matches(in tokens: [ReplyToken], typos: Bool = true, listCommas: Set<Int> = []) -> [(start: Int, end: Int, typo: Bool)] {
        var found: [(Int, Int, Bool)] = []
        for start in tokens.indices {
            if let (end, typo) = match(tokens, at: start, element: 0, typos: typos, listCommas: listCommas) { found.append((start, end, typo)) }
        }
        return found
    }

    /// The phrase starting at `start` (its last token), or nil: "me to" right after "stop sending".
    func match(in tokens: [ReplyToken], startingAt start: Int) -> Int? {
        match(tokens, at: start, element: 0, typos: true, listCommas: []).map(\.0)
    }

    /// Where the phrase starts when it ends exactly at `end`, its gaps reaching back within the clause
    /// ("the calls to his job to" right before "stop"), or nil.
    func match(in tokens: [ReplyToken], endingAt end: Int) -> Int? {
        guard end >= 0, end < tokens.count else { return nil }
        var start = end
        while start >= 0, !tokens[start].isBoundary {
            if match(tokens, at: start, element: 0, typos: true, listCommas: [], mustEnd: end) != nil { return start }
            start -= 1
        }
        return nil
    }

    /// `mustEnd`: the last element must fall on this token (a gap then tries further words).
    private func match(_ tokens: [ReplyToken], at index: Int, element: Int, typos: Bool, listCommas: Set<Int>, mustEnd: Int? = nil) -> (Int, Bool)? {
        guard index < tokens.count else { return nil }
        if let mustEnd, index > mustEnd { return nil }
        if case .punctuation = elements[element] {
            guard tokens[index].isBoundary else { return nil }
            var next = index + 1
            while next < tokens.count, tokens[next].isBoundary { next += 1 }
            return match(tokens, at: next, element: element + 1, typos: typos, listCommas: listCommas, mustEnd: mustEnd)
        }
        guard case .alternatives(let options) = elements[element] else { return nil }
        var typo = false
        var hit = false
        for option in options {
            let (ok, viaTypo) = option.matches(tokens[index])
            if ok && viaTypo && !typos { continue }
            if ok { hit = true; typo = viaTypo; if !viaTypo { break } }
        }
        guard hit else { return nil }
        if element == elements.count - 1 { return mustEnd == nil || mustEnd == index ? (index, typo) : nil }
        if case .gap(let most) = elements[element + 1] {
            var next = index + 1
            var skipped = 0
            while next < tokens.count, skipped <= most {
                if let (end, t) = match(tokens, at: next, element: element + 2, typos: typos, listCommas: listCommas, mustEnd: mustEnd) { return (end, typo || t) }
                if tokens[next].isBoundary && !listCommas.contains(next) { break }
                next += 1
                skipped += 1
            }
            return nil
        }
        guard let (end, t) = match(tokens, at: index + 1, element: element + 1, typos: typos, listCommas: listCommas, mustEnd: mustEnd) else { return nil }
        return (end, typo || t)
    }

    /// Whether the phrase has a gap (`...` or `~`).
    var hasGap: Bool { elements.contains { if case .gap = $0 { return true } else { return false } } }
}

extension ReplyText {
    /// Splits a phrase pattern on spaces, keeping emoji as their own parts.
    static func tokenizePattern(_ source: String) -> [String] {
        var parts: [String] = []
        for piece in source.split(whereSeparator: \.isWhitespace) {
            if piece.contains("|") {
                parts.append(String(piece).replacingOccurrences(of: "'", with: "").replacingOccurrences(of: "’", with: ""))
                continue
            }
            var word = ""
            for character in piece {
                if isEmoji(character) {
                    if !word.isEmpty { parts.append(word); word = "" }
                    parts.append(emojiBase(character))
                } else {
                    word.append(character == "’" ? "'" : character)
                }
            }
            if !word.isEmpty { parts.append(word.replacingOccurrences(of: "'", with: "")) }
        }
        return parts
    }
}

/// Where a rule came from, for explanations and lint: "es.yml opt_out #3, line 42".
public struct RuleOrigin: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var section: String
    public var number: Int
    public var line: Int

    public init(file: String, section: String, number: Int, line: Int) {
        self.file = file
        self.section = section
        self.number = number
        self.line = line
    }

    public var description: String { "\(file) \(section) #\(number), line \(line)" }
}

/// A phrase that signals an intent or a label, with its guards.
public struct PhraseRule: Sendable, Equatable {
    public var phrase: Phrase
    /// Not when one of these words comes within `window` words after the phrase ("cancelar" + deuda).
    public var notFollowedBy: [WordPattern] = []
    /// Not when one of these words comes within `window` words before it ("can't" + stop).
    public var notPrecededBy: [WordPattern] = []
    /// Not when one of these words is among the words a gap (...) skipped: "I don't want ... texts"
    /// is no opt-out in "I don't want to stop getting these texts".
    public var notWithin: [WordPattern] = []
    /// Not when one of these phrases begins at the word right after the match: "stop sending" +
    /// "me to" (a recording, voicemail: where a call is sent, not the texts).
    public var notFollowedByPhrase: [Phrase] = []
    /// Not when one of these phrases ends at the word right before the match, its gaps reaching back
    /// within the clause: "the calls to his job to" + "stop" (the calls are what should stop, not the
    /// texts), "so I" + "stop" (a purpose, not a request).
    public var notPrecededByPhrase: [Phrase] = []
    public var window: Int = 3
    /// A negator within three words before the phrase, in the same clause, cancels it
    /// ("no quiero que dejen de escribirme"). Off for phrases that are themselves negative.
    public var negatable: Bool = true
    /// Only when the reply says nothing else (apart from filler words, punctuation and emoji): STOP, FIN.
    public var whole: Bool = false
    /// Only as a clause of its own: no word before or after it up to the clause's ends (. , ; : ! ?):
    /// "8 mensajes en un día. NO MÁS", "Not interested. Remove." Unlike a word guard, a match refused
    /// for this is not read as another sense, so the model may still find the intent.
    public var alone: Bool = false
    /// Only when the reply states a date or an amount ("I can do" + "$25").
    public var needsDateOrAmount: Bool = false
    /// Only in a question: the phrase's sentence ends with "?" ("cuánto debo?", "what are my options?").
    public var inQuestion: Bool = false
    /// Each word only as written, no misspelling: for short words where a typo is another word.
    public var typos: Bool = true
    /// Not when the phrase is asked back or mentioned rather than used: a keyword that is a question
    /// of its own, answered in the negative ("unsubscribe? no way", "¿cancelar? jamás"), or a question
    /// about the word ("what do you mean STOP?", "¿qué significa BAJA?"). The words are the
    /// lexicon's `asked_back` section.
    public var notAskedBack: Bool = false
    /// A request told of ("I told you to stop", "ya les dije que no me escriban", after a word of the
    /// lexicon's `retold.words` in its clause): nil counts it like any other; `unlessUndone` counts it
    /// unless the reply says it was taken back (`retold.undone`: "by mistake", "opted back in");
    /// `never` does not count it.
    public var retold: Retold?
    public enum Retold: String, Sendable, Equatable { case unlessUndone = "unless_undone", never }
    /// The phrase's gaps (`...`, `~`) may skip the commas between the items of a list: a comma
    /// followed by a word of the lexicon's `list_words` (ni, no, nor, or) or by the word the item
    /// before began with ("no calls, no texts, no letters", "ni llamadas, ni mensajes, ni correos").
    public var lists: Bool = false
    /// Only when one of these phrases is also in the reply, outside the match (in any sentence): two
    /// facts that together make the intent ("8 mensajes al día." + "Ya basta.").
    public var with: [Phrase] = []
    /// Why the guards exist, shown when one of them refuses a match ("payment sense").
    public var note: String?
    public var origin: RuleOrigin

    public init(phrase: Phrase, origin: RuleOrigin) {
        self.phrase = phrase
        self.origin = origin
    }
}

/// One language's words, phrases and valences (config/replies/<lang>.yml, with shared.yml merged in).
public struct ReplyLexicon: Sendable, Equatable {
    public var language: String
    /// Common words that tell this language from the others when a reply comes without one.
    public var markers: Set<String> = []
    /// Letters only this language writes (Spanish: an accent, ñ, ¿ ¡): a reply with any of them counts
    /// one marker more for it.
    public var markerLetters: Set<Character> = []
    public var negators: Set<String> = []
    /// Verbs of wanting (quiero, deseo, want): a negator before one reaches further, to the verb the
    /// wish is about ("no quiero que me dejen de escribir", "I don't want you to stop texting").
    public var wishes: Set<String> = []
    /// Unstressed pronouns (me, te, se, nos, le ...) that do not count as words when a negator's reach
    /// is measured: "no quiero que me den de baja" is "no quiero que den de baja" for negation.
    public var clitics: Set<String> = []
    /// Words that strengthen (positive) or soften (negative) the next sentiment word.
    public var intensifiers: [String: Double] = [:]
    /// "pero", "but": the clause before counts half, the clause after one and a half.
    public var contrast: Set<String> = []
    /// "porque", "because": a reason begins. With `contrast`, it ends how far a rule's
    /// `not_followed_by` looks: in "que ya no los manden porque mi mamá se pone triste" the mother is
    /// the reason, not where the messages go.
    public var reasons: Set<String> = []
    /// Abbreviations and common misspellings, word -> what it stands for ("q" -> "que", "xfa" -> "por favor").
    public var abbreviations: [String: [String]] = [:]
    /// Words that do not stop a reply from being "only" a keyword (please, gracias, ya).
    public var filler: Set<String> = []
    /// Words that address the reader ("mae", "weón", "dude"): next to a keyword that must be a clause of
    /// its own (`alone`) or the whole reply (`whole`) they do not make it part of a longer clause ("BAJA weón").
    public var vocatives: Set<String> = []
    /// `addressed.words`: words for a relative or a friend that address the reader ("deje de mandarme
    /// esos mensajitos hermano", "ya no me escriba hermana que me tiene harta"): as the last word of a
    /// clause, or followed by a word of `addressed.then` (que, ya), and not right after a word of
    /// `addressed.not_after` (a preposition, an article), nor after one and a word of
    /// `addressed.possessives` ("a mi hermano"). A `not_followed_by` guard does not read them as the person
    /// the messages are for.
    public var addressed: Set<String> = []
    public var addressedNotAfter: Set<String> = []
    public var addressedPossessives: Set<String> = []
    public var addressedThen: Set<String> = []
    /// `asked_back.mentions`: words that, before a keyword in the same question or around it, mention
    /// it rather than use it ("what do you mean", "qué significa").
    public var mentions: [Phrase] = []
    /// `asked_back.answers`: a negative answer right after a keyword asked back ("no way", "jamás").
    public var answers: [Phrase] = []
    /// `asked_back.jokes`: laughter ("jaja", "lol", 😂) anywhere in the sentence after a keyword asked
    /// back on its own: the keyword was played with ("Baja? si ya bajé 5 kilos jaja"), not used.
    public var jokes: [Phrase] = []
    /// `retold.words`: verbs that tell of a request made before ("told", "dije", "pedí").
    public var retellings: [WordPattern] = []
    /// `retold.undone`: the request told of was taken back ("by mistake", "opted back in", "por error").
    public var undone: [Phrase] = []
    /// `retold.honored`: the request told of was honored, the messages stopped ("ya no me llegan", "I
    /// stopped getting them"): a past fact, not a request now.
    public var honored: [Phrase] = []
    /// `retold.others`: someone else's act or advice told of before a request in its clause ("my cousin
    /// said he replied", "mi hermano dice que él les mandó", "told me to text back"): the request is that
    /// person's, or a suggestion, not this customer's.
    public var others: [Phrase] = []
    /// `retold.for_me`: the other person acted for this customer or from this number ("on my behalf",
    /// "texted you to ...", "desde este número"): their request counts as the customer's.
    public var forMe: [Phrase] = []
    /// `taken_back`: a request said and taken back later in the same reply ("STOP. nvm, wrong chat",
    /// "BAJA... no espera, me equivoqué"): an opt_out or cease_contact found before it does not count, and the
    /// model adds none. Said again after it, the request counts.
    public var takenBack: [Phrase] = []
    /// `not_negating`: phrases that begin with a negator and negate nothing after them ("no más les pido
    /// que me dejen de escribir": no más is "just").
    public var notNegating: [Phrase] = []
    /// `list_words`: words that begin the next item of a list after a comma (ni, no, nor, or).
    public var listWords: Set<String> = []
    /// `welcome`: the customer says the messages are welcome ("texts are fine", "mejor por mensaje"):
    /// a request about calls or a place, so the model may not add opt_out, nor cease_contact imply it.
    /// One that names no texts, followed within two words by e-mail ("escríbanme mejor al correo"),
    /// welcomes e-mail instead.
    public var welcome: [Phrase] = []
    /// `asks_who`: a question about who writes or what this is ("who keeps texting me?", "¿quién me
    /// escribe de este número?"): asks for information, so the model adds no opt_out read from its sentence.
    public var asksWho: [Phrase] = []
    /// `asks_to_stop`: words that ask for something to stop or go ("dejen", "ya no", "no me", "remove",
    /// "don't", "leave"): the model reads an opt_out or a cease_contact only into a reply that has one,
    /// so a complaint about the messages ("ya van 5 mensajes hoy") or a threat on a condition ("one more
    /// text and I'm suing") is not read as a request. Empty: no such check.
    public var asksToStop: [Phrase] = []
    /// `conditional.if` and `conditional.then`: a request announced on a condition, not made ("si me
    /// siguen llamando temprano voy a pedir que no me manden nada", "if I get one more text at 6am I'm
    /// going to ask you to stop texting me"). An opt_out or cease_contact phrase that comes right after a
    /// `then` phrase (the announcement, at most four words before it in its clause), with an `if` phrase
    /// before that in the same sentence, is not asked now, and the model adds none. A request inside
    /// the condition ("si no dejan de escribirme voy a demandar") is not touched.
    public var conditionIf: [Phrase] = []
    public var conditionThen: [Phrase] = []
    /// `purpose.pays` and `purpose.so`: the messages stopping as what paying is for, not asked now
    /// ("cuánto debo para que ya no me lleguen mensajes", "how much do I need to pay to make the texts
    /// stop"). Read as `conditional` is: an opt_out or cease_contact phrase right after a `so` phrase
    /// (at most four words before it in its clause), with a `pays` phrase before that in the same
    /// sentence, is not asked, and the model adds none.
    public var purposePays: [Phrase] = []
    public var purposeSo: [Phrase] = []
    /// `purpose.by`: paying named as the means right after the request ("stop getting reminders by
    /// paying it off", "que dejen de llegar al pagar todo"): a `by` phrase at most three words after an
    /// opt_out or cease_contact phrase, in its clause, with no contrast or reason between, makes it not
    /// asked now, and the model adds none.
    public var purposeBy: [Phrase] = []
    /// `promotions.names` and `promotions.kept`: promotions refused, the debt's reminders kept ("no me
    /// manden lo de créditos preaprobados, nomás lo de mi adeudo", "unsubscribe me from marketing
    /// only, keep the due date alerts"). An opt-out whose every request clause names a promotion
    /// (`names`), and neither the reminders or anything else (`reminders`) nor the texts or e-mail but
    /// as the promotions' own ("promo texts"), in a reply with a `kept` phrase (not negated) outside
    /// those clauses, before or after, is none, whether the phrases or the model found it. A request
    /// that names more ("ya no quiero ofertas ni recordatorios", "promociones y mensajes"), or a reply
    /// that keeps nothing ("stop the promos"), stays an opt-out.
    public var promotionNames: [Phrase] = []
    public var promotionReminders: [Phrase] = []
    public var remindersKept: [Phrase] = []
    /// `promotions.by`: another way the reminders come (a call, a letter), right before or after them: an
    /// opt_out phrase that names the reminders so, and no texts or e-mail, is refused ("stop the robocall
    /// reminders, the texts are fine", "paren los recordatorios por llamada"); a `not_within` word of these
    /// is no kind of the reminders, and one listed with the texts does not refuse ("stop the letters and the texts").
    public var remindersBy: [Phrase] = []
    /// `disclaimed`: words that say the request after them is not one ("it's not that I don't want your
    /// texts", "no es que quiera que me dejen de escribir"). An opt_out or cease_contact phrase that
    /// starts inside one, or at most four words after it in its clause, is not asked, and the model
    /// adds none. A contrast or a reason in between ends its reach ("no es que me moleste, pero ya no
    /// me escriban" is a request).
    public var disclaimed: [Phrase] = []
    /// `narrowed.after`, `narrowed.before`, `narrowed.unless`: words that narrow a request to an hour,
    /// a day, a place, another address of the customer's or another person ("stop texting me at
    /// 6am", "no me escriban al correo del trabajo", "no le escriban más a mi esposo", "en horario
    /// laboral no me escriban"). An opt_out or cease_contact phrase followed by an `after` phrase that
    /// starts inside it or at most two words after it in its clause, or preceded by a `before` phrase
    /// that ends at most two words before it in its clause (no contrast or reason in between), does not
    /// ask for the messages to stop, and the model adds none; unless an `unless` phrase anywhere in the
    /// reply widens it back ("not at 6am, not at all", "ni a mí ni a mi mamá"); one ending in a word
    /// that names the customer in a reply a relative writes for them does not narrow (`writes_for`).
    /// Where no phrase asked, an `after` or `before` phrase within four words of what the model read
    /// most, in that sentence, holds back the model's opt-out ("pare de fregar con tantos mensajes al día").
    public var narrowedAfter: [Phrase] = []
    public var narrowedBefore: [Phrase] = []
    public var narrowedUnless: [Phrase] = []
    /// `writes_for.prefaces`, `writes_for.customer`: a relative or carer writing for the customer
    /// ("this is her son", "les escribe la hija de la señora ...") names the customer in the third
    /// person ("please stop texting my mother", "ya no le manden mensajes a ella"). In a reply with a
    /// `prefaces` phrase, a `customer` word after or before an opt_out or cease_contact phrase does not
    /// refuse it as a request about another person (`not_followed_by`, `not_preceded_by`), nor narrows
    /// it (a `narrowed` phrase ending in one); an hour or a place still narrows it. The shipped lists
    /// name only the customer (pronouns, parents, spouse, grandparents: "soy el hijo de doña Marta, no
    /// le escriban a mi hermana" asks for someone else); a word written with an accent counts only so
    /// written ("él", not the article "el").
    public var writesFor: [Phrase] = []
    public var customerWords: [WordPattern] = []
    /// `names_sms`, `names_email`: words naming the texts ("texting", "sms", "mensajes de texto") or
    /// e-mail ("emails", "correo"): an opt-out that names a channel is for that channel.
    public var namesSMS: [Phrase] = []
    public var namesEmail: [Phrase] = []
    /// `names_whatsapp`: words naming WhatsApp, which the gateway does not send. A request whose
    /// clause names WhatsApp (and not the texts), in a reply that keeps the texts by another name in
    /// another clause ("no me escriban por whatsapp, solo por mensaje de texto"), refuses nothing the
    /// gateway sends. Otherwise a refusal of WhatsApp is read as the lexicon's other words make it
    /// (in Spanish, `names_sms` counts WhatsApp as the texts, what most customers mean).
    public var namesWhatsApp: [Phrase] = []
    /// `welcome_email`: e-mail said to be welcome ("email is fine", "solo por correo"): an opt-out
    /// is not for e-mail then (`welcome` does the same for the texts).
    public var welcomeEmail: [Phrase] = []
    /// The words it writes out, to split a run of words written with no spaces ("nomandenmas").
    /// Worked out from the rest when the file is read (not compared by ==: it follows from the rest).
    public var glued = GluedWords()
    public var intents: [ReplyIntent: [PhraseRule]] = [:]
    public var cues: [ReplyLabel: [PhraseRule]] = [:]
    /// Sentiment valences from -4 to 4 (VADER's scale). A key ending in * matches word prefixes.
    public var words: [String: Double] = [:]
    public var prefixWords: [(String, Double)] = []
    public var emoji: [String: Double] = [:]
    public var dates = DateWords()
    public var amounts = AmountWords()
    /// Below this sentiment score with no cue, a reply is upset; below `worriedBelow`, worried.
    public var upsetBelow: Double = -0.6
    public var worriedBelow: Double = -0.35

    public init(language: String) { self.language = language }

    public static func == (a: ReplyLexicon, b: ReplyLexicon) -> Bool {
        a.language == b.language && a.markers == b.markers && a.markerLetters == b.markerLetters && a.negators == b.negators && a.wishes == b.wishes && a.clitics == b.clitics && a.intensifiers == b.intensifiers
            && a.contrast == b.contrast && a.reasons == b.reasons && a.abbreviations == b.abbreviations && a.filler == b.filler && a.vocatives == b.vocatives && a.addressed == b.addressed && a.addressedNotAfter == b.addressedNotAfter && a.addressedPossessives == b.addressedPossessives && a.addressedThen == b.addressedThen && a.intents == b.intents
            && a.mentions == b.mentions && a.answers == b.answers && a.jokes == b.jokes && a.retellings == b.retellings && a.undone == b.undone && a.honored == b.honored && a.others == b.others && a.forMe == b.forMe && a.takenBack == b.takenBack && a.notNegating == b.notNegating && a.listWords == b.listWords && a.welcome == b.welcome && a.asksWho == b.asksWho && a.asksToStop == b.asksToStop
            && a.conditionIf == b.conditionIf && a.conditionThen == b.conditionThen && a.purposePays == b.purposePays && a.purposeSo == b.purposeSo && a.purposeBy == b.purposeBy
            && a.promotionNames == b.promotionNames && a.promotionReminders == b.promotionReminders && a.remindersKept == b.remindersKept && a.remindersBy == b.remindersBy && a.disclaimed == b.disclaimed
            && a.narrowedAfter == b.narrowedAfter && a.narrowedBefore == b.narrowedBefore && a.narrowedUnless == b.narrowedUnless
            && a.writesFor == b.writesFor && a.customerWords == b.customerWords
            && a.namesSMS == b.namesSMS && a.namesEmail == b.namesEmail && a.namesWhatsApp == b.namesWhatsApp && a.welcomeEmail == b.welcomeEmail
            && a.cues == b.cues && a.words == b.words && a.prefixWords.map(\.0) == b.prefixWords.map(\.0)
            && a.prefixWords.map(\.1) == b.prefixWords.map(\.1) && a.emoji == b.emoji && a.dates == b.dates && a.amounts == b.amounts
            && a.upsetBelow == b.upsetBelow && a.worriedBelow == b.worriedBelow
    }

    func valence(of token: ReplyToken) -> (Double, String)? {
        if token.kind == .emoji { return emoji[token.text].map { ($0, token.text) } }
        guard token.kind == .word else { return nil }
        for form in token.forms { if let value = words[form] { return (value, form) } }
        for form in token.forms {
            if let (prefix, value) = prefixWords.first(where: { form.hasPrefix($0.0) }) { return (value, prefix + "*") }
        }
        return nil
    }
}

/// Words for dates in promises: weekdays, months, and relative days ("mañana", "quincena").
public struct DateWords: Sendable, Equatable {
    /// word -> english weekday name (lunes -> monday).
    public var weekdays: [String: String] = [:]
    /// word -> month number (diciembre -> 12).
    public var months: [String: Int] = [:]
    /// phrase -> normalized name (mañana -> tomorrow, fin de mes -> end_of_month).
    public var relative: [(Phrase, String)] = []
    /// Ordinal suffixes after a day number (th, st, nd, rd, ro, avo).
    public var ordinals: Set<String> = []
    /// Words before a day number that make it a date ("el 15", "the 15th").
    public var dayArticles: Set<String> = []

    public init() {}

    /// The word's meaning in `table`, also when misspelled ("biernes").
    static func lookup<Value>(_ token: ReplyToken, in table: [String: Value]) -> Value? {
        guard token.kind == .word else { return nil }
        for form in token.forms { if let value = table[form] { return value } }
        for form in token.forms where form.count >= 5 {
            if let key = table.keys.filter({ $0.count >= 5 && WordPattern.misspelling(form, of: $0) }).min() { return table[key] }
        }
        return nil
    }

    public static func == (a: DateWords, b: DateWords) -> Bool {
        a.weekdays == b.weekdays && a.months == b.months && a.relative.map(\.0) == b.relative.map(\.0)
            && a.relative.map(\.1) == b.relative.map(\.1) && a.ordinals == b.ordinals && a.dayArticles == b.dayArticles
    }
}

/// Words for amounts in promises.
public struct AmountWords: Sendable, Equatable {
    /// Words after a number that multiply it (mil -> 1000, lucas -> 1000, k -> 1000).
    public var multipliers: [String: Double] = [:]
    /// Currency words and signs -> ISO code (dolares -> USD, colones -> CRC, soles -> PEN), or "" when it depends on the country (pesos).
    public var currencies: [String: String] = [:]
    /// Words near a bare number that make it an amount ("pagar 20", "abonar 30").
    public var payVerbs: [WordPattern] = []

    public init() {}
}
