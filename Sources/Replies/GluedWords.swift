/// Words written with no spaces between them ("nomandenmas", "pleasestoptexting"): split so the
/// phrases can read the request. Only a word of eight letters or more that the lexicon does not know
/// is split (a word one of its prefixes reads, escrib*, with at most five letters after it, is known),
/// only into the words a request to stop is made of (negators, pronouns, filler and its abbreviations,
/// list words, the asks_to_stop words and the channels' names, two letters or more), in as few pieces
/// as possible, and only when the first piece is a negator, a filler word or an asks_to_stop word and
/// the pieces are more than one word and its pronouns.
public struct GluedWords: Sendable {
    /// Every word the lexicon writes out whole: in its phrases, guards and word lists.
    public private(set) var words: Set<String> = []
    /// The words a split may make: those a request to stop is made of.
    public private(set) var pieces: Set<String> = []
    /// A split must begin with one of these (a negator or an asks_to_stop word) or a filler word: it
    /// is there to read requests.
    private var stopWords: Set<String> = []
    private var filler: Set<String> = []
    private var clitics: Set<String> = []
    /// The stems of its prefix patterns (escrib* -> "escrib").
    public private(set) var stems: Set<String> = []
    private var longest = 0

    static let shortest = 8
    static let inflection = 5

    public init() {}

    public init(lexicon: ReplyLexicon) {
        // Known: every word the lexicon writes out. Pieces: only the words a request to stop is made
        // of (negators, pronouns, filler, the asks_to_stop words, the names of the channels), so a real
        // word the lexicon does not know ("afternoon", "expediente") is not read as "after no on".
        var known = Set<String>(), pieces = Set<String>(), stems = Set<String>()
        func add(_ pattern: WordPattern, piece: Bool = false) {
            guard !pattern.name, pattern.text.allSatisfy(\.isLetter) else { return }
            if pattern.prefix { stems.insert(pattern.text) } else { known.insert(pattern.text); if piece { pieces.insert(pattern.text) } }
        }
        func add(_ phrase: Phrase, piece: Bool = false) {
            for case .alternatives(let patterns) in phrase.elements { patterns.forEach { add($0, piece: piece) } }
        }
        func add(_ rule: PhraseRule) {
            add(rule.phrase)
            (rule.notFollowedBy + rule.notPrecededBy + rule.notWithin).forEach { add($0) }
            (rule.notFollowedByPhrase + rule.notPrecededByPhrase + rule.with).forEach { add($0) }
        }
        lexicon.intents.values.joined().forEach(add)
        lexicon.cues.values.joined().forEach(add)
        (lexicon.mentions + lexicon.answers + lexicon.undone + lexicon.honored + lexicon.takenBack + lexicon.welcome + lexicon.asksWho + lexicon.welcomeEmail + lexicon.conditionIf + lexicon.conditionThen + lexicon.disclaimed
         + lexicon.purposePays + lexicon.purposeSo + lexicon.purposeBy + lexicon.promotionNames + lexicon.promotionReminders + lexicon.remindersKept + lexicon.remindersBy + lexicon.narrowedAfter + lexicon.narrowedBefore + lexicon.narrowedUnless + lexicon.writesFor).forEach { add($0) }
        (lexicon.asksToStop + lexicon.namesSMS + lexicon.namesEmail + lexicon.namesWhatsApp).forEach { add($0, piece: true) }
        lexicon.retellings.forEach { add($0) }
        let small = [lexicon.negators, lexicon.clitics, lexicon.filler, lexicon.listWords]
        let lists = small + [lexicon.markers, lexicon.wishes, lexicon.contrast, lexicon.reasons, Set(lexicon.intensifiers.keys),
                             Set(lexicon.words.keys), Set(lexicon.abbreviations.keys), Set(lexicon.abbreviations.values.joined())]
        for list in lists { known.formUnion(list.filter { $0.allSatisfy(\.isLetter) }) }
        for list in small { pieces.formUnion(list.filter { $0.allSatisfy(\.isLetter) }) }
        // An abbreviation of filler words is a piece too ("yanomemandenmensajesxfavor": xfavor, por favor).
        for (short, long) in lexicon.abbreviations where short.allSatisfy(\.isLetter) && long.allSatisfy(lexicon.filler.contains) { pieces.insert(short) }
        words = known
        self.pieces = pieces.filter { $0.count >= 2 }
        stopWords = lexicon.negators.union(Self.literals(lexicon.asksToStop))
        filler = lexicon.filler
        clitics = lexicon.clitics
        self.stems = stems.filter { $0.count >= 3 }
        longest = self.pieces.map(\.count).max() ?? 0
    }

    static func literals(_ phrases: [Phrase]) -> Set<String> {
        var result = Set<String>()
        for phrase in phrases {
            for case .alternatives(let patterns) in phrase.elements { for pattern in patterns where !pattern.prefix { result.insert(pattern.text) } }
        }
        return result
    }

    /// Whether the lexicon reads `word` as it is.
    func knows(_ word: String) -> Bool {
        words.contains(word) || stems.contains { word.hasPrefix($0) && word.count - $0.count <= Self.inflection }
    }

    /// The words `word` is made of, or nil when it is one word or cannot be split into known words.
    public func split(_ word: String) -> [String]? {
        let letters = Array(word)
        guard letters.count >= Self.shortest, longest > 0, letters.allSatisfy(\.isLetter), !knows(word) else { return nil }
        // fewest[i]: the fewest known words that make letters[..<i]; from[i]: where the last one starts.
        var fewest = [Int?](repeating: nil, count: letters.count + 1), from = [Int](repeating: 0, count: letters.count + 1)
        fewest[0] = 0
        for end in 2...letters.count {
            for start in max(0, end - longest)...(end - 2) {
                guard let before = fewest[start], pieces.contains(String(letters[start..<end])) else { continue }
                if fewest[end].map({ before + 1 < $0 }) ?? true { fewest[end] = before + 1; from[end] = start }
            }
        }
        guard let count = fewest[letters.count], count >= 2 else { return nil }
        var split: [String] = [], end = letters.count
        while end > 0 { split.append(String(letters[from[end]..<end])); end = from[end] }
        split.reverse()
        // It begins with the request ("no", "ya", "please", "stop") and is more than a verb and its
        // pronouns ("salirnos", "seguirlo" stay whole).
        guard let first = split.first, stopWords.contains(first) || filler.contains(first),
              split.filter({ !clitics.contains($0) }).count >= 2 else { return nil }
        return split
    }
}
