import Foundation
import YAMLMessages
import Yams

/// A problem in a lexicon file, with where it is and what to fix.
public struct ReplyLintFinding: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)" }
}

/// config/replies/: one `<lang>.yml` per language and an optional `shared.yml` (emoji valences
/// for every language). Reads YAML into a ReplyLexicon and lints it: unknown keys, empty or
/// malformed phrases, duplicate phrases, valences outside -4...4, with file:line.
public enum ReplyLexiconFile {
    static let topKeys: Set<String> = ["language", "markers", "marker_letters", "negators", "wishes", "intensifiers", "contrast", "reasons", "abbreviations", "filler", "vocatives", "addressed",
                                       "intents", "cues", "words", "emoji", "dates", "amounts", "thresholds",
                                       "asked_back", "retold", "taken_back", "list_words", "welcome", "asks_who", "asks_to_stop", "not_negating", "names_sms", "names_email", "names_whatsapp", "welcome_email", "clitics", "conditional", "purpose", "promotions", "disclaimed", "narrowed", "writes_for"]
    static let sharedKeys: Set<String> = ["emoji"]
    static let ruleKeys: Set<String> = ["phrase", "not_followed_by", "not_preceded_by", "not_within", "window", "negatable", "whole",
                                        "needs_date_or_amount", "in_question", "note", "typos", "not_asked_back", "retold", "lists", "with", "alone",
                                        "not_followed_by_phrase", "not_preceded_by_phrase"]
    static let askedBackKeys: Set<String> = ["mentions", "answers", "jokes"]
    static let addressedKeys: Set<String> = ["words", "not_after", "possessives", "then"]
    static let retoldKeys: Set<String> = ["words", "undone", "honored", "others", "for_me"]
    static let conditionalKeys: Set<String> = ["if", "then"]
    static let purposeKeys: Set<String> = ["pays", "so", "by"]
    static let promotionsKeys: Set<String> = ["names", "reminders", "kept", "by"]
    static let narrowedKeys: Set<String> = ["after", "before", "unless"]
    static let writesForKeys: Set<String> = ["prefaces", "customer"]
    static let dateKeys: Set<String> = ["weekdays", "months", "relative", "ordinals", "day_articles"]
    static let amountKeys: Set<String> = ["multipliers", "currencies", "pay_verbs"]
    static let thresholdKeys: Set<String> = ["upset_below", "worried_below"]
    static let weekdayNames: Set<String> = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    /// Reads every *.yml in `directory` (bytes only; parsing is `lexicons(files:)`).
    public static func read(directory: String) throws(ReplyError) -> [String: Data] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw ReplyError(code: "no_lexicons", message: "cannot read the reply lexicon folder \(directory): create it with es.yml and en.yml (see README, Replies)")
        }
        var files: [String: Data] = [:]
        for name in names.sorted() where name.hasSuffix(".yml") || name == ReplyModel.fileName {
            guard let data = FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent(name)) else {
                throw ReplyError(code: "unreadable_lexicon", message: "cannot read \(directory)/\(name)")
            }
            files[name] = data
        }
        return files
    }

    /// Lints the files and, when there is no finding, builds the lexicons from the same bytes.
    public static func lexicons(files: [String: Data], defaultLanguage: String = "es") -> (findings: [ReplyLintFinding], lexicons: ReplyLexicons?) {
        var findings: [ReplyLintFinding] = []
        var shared: [String: Double] = [:]
        if let data = files["shared.yml"] {
            var parser = Parser(file: "shared.yml")
            if let top = parser.top(data) {
                for (key, value) in top {
                    guard let name = key.string, sharedKeys.contains(name) else {
                        parser.problem(key, "unknown key \"\(key.string ?? "?")\"; shared.yml has only: emoji")
                        continue
                    }
                    shared = parser.valences(value, section: name, emoji: true)
                }
            }
            findings += parser.findings
        }
        var lexicons: [ReplyLexicon] = []
        var model: ReplyModel?
        if let data = files[ReplyModel.fileName] {
            let parsed = ReplyModel.parse(data)
            findings += parsed.findings
            model = parsed.model
        }
        for (name, data) in files.sorted(by: { $0.key < $1.key }) where name != "shared.yml" && name != ReplyModel.fileName {
            var parser = Parser(file: name)
            if var lexicon = parser.lexicon(data, expected: String(name.dropLast(4))) {
                for (emoji, value) in shared where lexicon.emoji[emoji] == nil { lexicon.emoji[emoji] = value }
                lexicons.append(lexicon)
            }
            findings += parser.findings
        }
        if lexicons.isEmpty && findings.isEmpty {
            findings.append(ReplyLintFinding(file: ".", line: nil, message: "no language file (<lang>.yml, like es.yml) in the reply lexicon folder"))
        }
        guard findings.isEmpty else { return (findings, nil) }
        let fallback = lexicons.contains { $0.language == defaultLanguage } ? defaultLanguage : lexicons[0].language
        return ([], ReplyLexicons(lexicons, defaultLanguage: fallback, model: model))
    }

    public static func load(directory: String, defaultLanguage: String = "es") throws(ReplyError) -> ReplyLexicons {
        let (findings, lexicons) = self.lexicons(files: try read(directory: directory), defaultLanguage: defaultLanguage)
        guard let lexicons else {
            throw ReplyError(code: "lexicon_lint", message: "the reply lexicons in \(directory) do not pass lint:\n" + findings.map { "  \($0)" }.joined(separator: "\n"))
        }
        return lexicons
    }

    struct Parser {
        var file: String
        var findings: [ReplyLintFinding] = []
        /// Rules whose guards read a section of the lexicon (asked_back, retold, list_words): lint
        /// says when that section is missing.
        var usesSections: [(PhraseRule, Node)] = []

        mutating func problem(_ node: Node?, _ message: String) {
            findings.append(ReplyLintFinding(file: file, line: node?.mark?.line, message: message))
        }

        mutating func top(_ data: Data) -> [(key: Node, value: Node)]? {
            guard let text = String(data: data, encoding: .utf8) else { problem(nil, "not UTF-8 text"); return nil }
            let node: Node?
            do { node = try Yams.compose(yaml: text) } catch { problem(nil, "not valid YAML: \(YAMLMessages.describe(error))"); return nil }
            guard let node else { problem(nil, "the file is empty"); return nil }
            guard let mapping = node.mapping else { problem(node, "must be a mapping of key: value lines"); return nil }
            return Array(mapping)
        }

        mutating func pairs(_ node: Node, _ what: String) -> [(key: Node, value: Node)] {
            guard let mapping = node.mapping else { problem(node, "\(what) must be a mapping (key: value lines)"); return [] }
            var seen: [String: Int] = [:]
            for (key, _) in mapping {
                let name = key.string ?? ""
                if let first = seen[name] { problem(key, "\(what): \"\(name)\" is given twice (first on line \(first))") }
                seen[name] = key.mark?.line ?? 0
            }
            return Array(mapping)
        }

        mutating func strings(_ node: Node, _ what: String) -> [String] {
            guard let sequence = node.sequence else { problem(node, "\(what) must be a list, like [a, b]"); return [] }
            var result: [String] = []
            var seen: Set<String> = []
            for item in sequence {
                guard let text = item.string?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
                    problem(item, "\(what): empty entry; remove it"); continue
                }
                let folded = ReplyText.fold(text)
                if !seen.insert(folded).inserted { problem(item, "\(what): \"\(text)\" is listed twice") }
                result.append(folded)
            }
            return result
        }

        mutating func words(_ node: Node, _ what: String) -> [WordPattern] {
            // The entries as written, for their accents (strings() folds them), in the same order.
            let written = (node.sequence ?? []).compactMap { $0.string?.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return strings(node, what).enumerated().compactMap { position, text in
                // <name>: a word written like a name, as in phrases ("not_preceded_by: [<name>]").
                if text == "<name>" { return .anyName }
                let prefix = text.hasSuffix("*") && text.count > 1
                let word = prefix ? String(text.dropLast()) : text
                guard !word.contains(" "), !word.contains("*"), !word.contains("<"), !word.contains(">") else {
                    problem(node, "\(what): \"\(text)\" must be one word (a trailing * matches the start of words, <name> a word written like a name)"); return nil
                }
                let raw = position < written.count ? written[position] : text
                return WordPattern(text: word, prefix: prefix, marked: ReplyText.marked(prefix ? String(raw.dropLast()) : raw))
            }
        }

        mutating func number(_ node: Node, _ what: String, range: ClosedRange<Double>) -> Double? {
            guard let scalar = node.scalar, let value = Double(scalar.string), value.isFinite else {
                problem(node, "\(what) must be a number, got \"\(node.string ?? "a list or mapping")\""); return nil
            }
            guard range.contains(value) else {
                problem(node, "\(what) is \(scalar.string); it must be between \(range.lowerBound) and \(range.upperBound)"); return nil
            }
            return value
        }

        mutating func bool(_ node: Node, _ what: String) -> Bool? {
            switch node.string?.lowercased() {
            case "true", "yes": return true
            case "false", "no": return false
            default: problem(node, "\(what) must be true or false"); return nil
            }
        }

        mutating func valences(_ node: Node, section: String, emoji: Bool) -> [String: Double] {
            var result: [String: Double] = [:]
            for (key, value) in pairs(node, section) {
                guard let raw = key.string?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { problem(key, "\(section): empty word"); continue }
                guard let valence = number(value, "\(section).\(raw)", range: -4...4) else { continue }
                if emoji {
                    guard raw.count == 1, let character = raw.first, ReplyText.isEmoji(character) else {
                        problem(key, "\(section): \"\(raw)\" is not a single emoji"); continue
                    }
                    result[ReplyText.emojiBase(character)] = valence
                } else {
                    let word = ReplyText.fold(raw)
                    guard !word.contains(" ") else { problem(key, "\(section): \"\(raw)\" must be one word; use cues for phrases"); continue }
                    if result[word] != nil { problem(key, "\(section): \"\(raw)\" is given twice") }
                    result[word] = valence
                }
            }
            return result
        }

        /// One phrase, or nil with a finding saying what to fix.
        mutating func phrase(_ source: String, _ node: Node, _ what: String) -> Phrase? {
            guard !source.isEmpty else {
                problem(node, "\(what): empty phrase; write the words, or remove the entry"); return nil
            }
            let phrase: Phrase
            do { phrase = try Phrase(source) } catch {
                let why: String
                switch error {
                case .empty: why = "has no words"
                case .gapAtEdge: why = "may not start or end with ..."
                case .punctuationAtEdge: why = "may not start or end with \",\" (it stands for the punctuation between two words)"
                case .emptyAlternative: why = "has an empty alternative (a|b needs words on both sides of |, * only at a word's end)"
                case .gapNextToPunctuation: why = "has ... or ~ next to \",\" (a gap stays within a clause; write a word between them)"
                case .badGap(let part): why = "has \"\(part)\"; write ... on its own between words"
                case .badCharacter(let word): why = "has \"\(word)\", which no reply word can be (replies are split into words, numbers and emoji; drop punctuation and hyphens)"
                }
                problem(node, "\(what): \"\(source)\" \(why)"); return nil
            }
            // Replies read "noooo" as "no" (runs of three letters or more collapse), so such a word never matches.
            var fine = true
            for case .alternatives(let options) in phrase.elements {
                for option in options where !option.name && ReplyText.collapseRuns(option.text, keep: 2) != option.text {
                    problem(node, "\(what): \"\(source)\" has \"\(option.text)\", which no reply word can be (a letter three times or more reads as two: write \"\(ReplyText.collapseRuns(option.text, keep: 2))\")")
                    fine = false
                }
            }
            // "dont|do not" reads as "dont not" or "do not", never "dont": each | is between single words.
            let words = phrase.elements.map { element -> [String] in
                if case .alternatives(let options) = element { return options.map(\.text) }
                return []
            }
            for (index, options) in words.enumerated() where index + 1 < words.count && words[index + 1].count == 1 {
                let next = words[index + 1][0]
                guard Self.spelledOut.contains(next) else { continue }
                for short in options {
                    guard let long = options.first(where: { short != $0 && short.hasPrefix($0) && Self.contractions.contains(String(short.dropFirst($0.count))) }) else { continue }
                    problem(node, "\(what): \"\(source)\" reads as \"\(short) \(next)\" or \"\(long) \(next)\", never \"\(short)\" alone (each | is between single words): write \"\(short) ...\" and \"\(long) \(next) ...\" as two phrases")
                    fine = false
                }
            }
            return fine ? phrase : nil
        }

        /// A contraction's ending ("dont" = "do" + "nt") and the word it stands for ("not").
        static let contractions: Set<String> = ["nt", "t", "s", "re", "m", "ll", "d", "ve"]
        static let spelledOut: Set<String> = ["not", "is", "are", "am", "will", "would", "had", "have"]

        /// A list of phrases (or one phrase), each checked like a rule's.
        mutating func phraseList(_ node: Node, _ what: String) -> [Phrase] {
            let items: [Node] = node.sequence.map(Array.init) ?? [node]
            guard node.sequence != nil || node.scalar != nil else { problem(node, "\(what) must be a phrase or a list of phrases"); return [] }
            if items.isEmpty { problem(node, "\(what): empty list; write phrases, or remove the key") }
            return items.compactMap { item in
                guard let source = item.scalar?.string.trimmingCharacters(in: .whitespaces) else {
                    problem(item, "\(what): each entry must be a phrase in quotes"); return nil
                }
                return phrase(source, item, what)
            }
        }

        /// A mapping of phrase lists (asked_back, conditional, narrowed): each known key's phrases; an unknown key
        /// is a finding that names the known ones.
        mutating func phraseLists(_ node: Node, _ what: String, known: Set<String>) -> [String: [Phrase]] {
            var lists: [String: [Phrase]] = [:]
            for (subKey, list) in pairs(node, what) {
                let sub = subKey.string ?? ""
                if known.contains(sub) { lists[sub] = phraseList(list, "\(what).\(sub)") }
                else { problem(subKey, "\(what): unknown key \"\(sub)\"; known: \(known.sorted().joined(separator: ", "))") }
            }
            return lists
        }

        mutating func rules(_ node: Node, section: String) -> [PhraseRule] {
            guard let sequence = node.sequence else { problem(node, "\(section) must be a list of phrases"); return [] }
            var result: [PhraseRule] = []
            var seen: [String: Int] = [:]
            for (offset, item) in sequence.enumerated() {
                let origin = RuleOrigin(file: file, section: section, number: offset + 1, line: item.mark?.line ?? 0)
                var fields: [(key: Node, value: Node)] = []
                var phraseNode = item
                if item.mapping != nil {
                    fields = pairs(item, "\(section) #\(offset + 1)")
                    guard let found = fields.first(where: { $0.key.string == "phrase" })?.value else {
                        problem(item, "\(section) #\(offset + 1) has no phrase: give phrase: \"...\""); continue
                    }
                    phraseNode = found
                }
                // phrase: one string, or a list of strings sharing the same guards.
                var sources: [(String, Node)] = []
                if let list = phraseNode.sequence {
                    sources = list.map { ($0.scalar?.string.trimmingCharacters(in: .whitespaces) ?? "", $0) }
                    if sources.isEmpty { problem(phraseNode, "\(section) #\(offset + 1): empty phrase list; write the words, or remove the entry") }
                } else {
                    sources = [(phraseNode.scalar?.string.trimmingCharacters(in: .whitespaces) ?? "", phraseNode)]
                }
                var phrases: [Phrase] = []
                for (source, node) in sources {
                    guard let phrase = self.phrase(source, node, "\(section) #\(offset + 1)") else { continue }
                    let key = phrase.elements.map { "\($0)" }.joined(separator: " ")
                    if let first = seen[key] { problem(node, "\(section): \"\(source)\" repeats the phrase on line \(first)") }
                    seen[key] = node.mark?.line ?? 0
                    phrases.append(phrase)
                }
                guard let first = phrases.first else { continue }
                var rule = PhraseRule(phrase: first, origin: origin)
                for (key, value) in fields {
                    let name = key.string ?? ""
                    let what = "\(section) #\(offset + 1) \(name)"
                    switch name {
                    case "phrase": break
                    case "not_followed_by": rule.notFollowedBy = words(value, what)
                    case "not_preceded_by": rule.notPrecededBy = words(value, what)
                    case "not_within": rule.notWithin = words(value, what)
                    case "not_followed_by_phrase": rule.notFollowedByPhrase = phraseList(value, what)
                    case "not_preceded_by_phrase": rule.notPrecededByPhrase = phraseList(value, what)
                    case "window": rule.window = Int(number(value, what, range: 1...6) ?? 3)
                    case "negatable": rule.negatable = bool(value, what) ?? true
                    case "whole": rule.whole = bool(value, what) ?? false
                    case "needs_date_or_amount": rule.needsDateOrAmount = bool(value, what) ?? false
                    case "in_question": rule.inQuestion = bool(value, what) ?? false
                    case "note": rule.note = value.string
                    case "typos": rule.typos = bool(value, what) ?? true
                    case "alone": rule.alone = bool(value, what) ?? false
                    case "not_asked_back": rule.notAskedBack = bool(value, what) ?? false
                    case "lists": rule.lists = bool(value, what) ?? false
                    case "with": rule.with = phraseList(value, what)
                    case "retold":
                        if let retold = value.string.flatMap(PhraseRule.Retold.init(rawValue:)) { rule.retold = retold }
                        else { problem(value, "\(what) must be unless_undone (a request told of counts unless the reply takes it back) or never (a request told of does not count)") }
                    default: problem(key, "\(section) #\(offset + 1): unknown key \"\(name)\"; known: \(ruleKeys.sorted().joined(separator: ", "))")
                    }
                }
                if rule.lists, !phrases.contains(where: \.hasGap) {
                    problem(item, "\(section) #\(offset + 1): lists: true has no effect without ... or ~ in the phrase (only a gap skips a list's commas)")
                }
                if rule.lists || rule.notAskedBack || rule.retold != nil { usesSections.append((rule, item)) }
                for phrase in phrases {
                    rule.phrase = phrase
                    result.append(rule)
                }
            }
            return result
        }

        mutating func lexicon(_ data: Data, expected: String) -> ReplyLexicon? {
            guard let top = top(data) else { return nil }
            let before = findings.count
            guard let languageNode = top.first(where: { $0.key.string == "language" })?.value, let language = languageNode.string else {
                problem(nil, "no language: key; add language: \(expected)"); return nil
            }
            if language != expected { problem(languageNode, "language is \"\(language)\" but the file is \(expected).yml; rename one of them") }
            var lexicon = ReplyLexicon(language: language)
            var seenTop: [String: Int] = [:]
            for (key, value) in top {
                let name = key.string ?? ""
                if let first = seenTop[name] { problem(key, "\"\(name)\" is given twice (first on line \(first))") }
                seenTop[name] = key.mark?.line ?? 0
                switch name {
                case "language": break
                case "markers": lexicon.markers = Set(strings(value, name))
                case "marker_letters":
                    if let letters = value.string, !letters.isEmpty, letters.allSatisfy({ $0.isLetter || $0.isPunctuation }) {
                        lexicon.markerLetters = Set(letters.lowercased())
                    } else {
                        problem(value, "marker_letters must be a string of letters (or ¿ ¡) only this language writes, like \"ñáéíóú¿¡\"")
                    }
                case "negators": lexicon.negators = Set(strings(value, name))
                case "wishes": lexicon.wishes = Set(strings(value, name))
                case "clitics": lexicon.clitics = Set(strings(value, name))
                case "contrast": lexicon.contrast = Set(strings(value, name))
                case "reasons": lexicon.reasons = Set(strings(value, name))
                case "filler": lexicon.filler = Set(strings(value, name))
                case "vocatives": lexicon.vocatives = Set(strings(value, name))
                case "addressed":
                    for (key, list) in pairs(value, name) {
                        switch key.string {
                        case "words": lexicon.addressed = Set(strings(list, "addressed.words"))
                        case "not_after": lexicon.addressedNotAfter = Set(strings(list, "addressed.not_after"))
                        case "possessives": lexicon.addressedPossessives = Set(strings(list, "addressed.possessives"))
                        case "then": lexicon.addressedThen = Set(strings(list, "addressed.then"))
                        default: problem(key, "addressed: unknown key \"\(key.string ?? "?")\"; known: \(addressedKeys.sorted().joined(separator: ", "))")
                        }
                    }
                case "intensifiers":
                    for (word, boost) in valences(value, section: name, emoji: false) {
                        lexicon.intensifiers[word] = boost
                    }
                case "abbreviations":
                    for (short, long) in pairs(value, name) {
                        guard let from = short.string, !from.isEmpty, let to = long.string, !to.isEmpty else {
                            problem(short, "abbreviations: give word: what it stands for, like q: que"); continue
                        }
                        lexicon.abbreviations[ReplyText.fold(from)] = ReplyText.fold(to).split(separator: " ").map(String.init)
                    }
                case "intents":
                    for (intentKey, list) in pairs(value, name) {
                        guard let intent = intentKey.string.flatMap(ReplyIntent.init(rawValue:)) else {
                            problem(intentKey, "intents: unknown intent \"\(intentKey.string ?? "?")\"; known: \(ReplyIntent.allCases.map(\.rawValue).joined(separator: ", "))")
                            continue
                        }
                        lexicon.intents[intent] = rules(list, section: intent.rawValue)
                    }
                case "cues":
                    for (labelKey, list) in pairs(value, name) {
                        guard let label = labelKey.string.flatMap(ReplyLabel.init(rawValue:)), label != .neutral else {
                            problem(labelKey, "cues: \"\(labelKey.string ?? "?")\" is not upset, willing or worried"); continue
                        }
                        lexicon.cues[label] = rules(list, section: label.rawValue)
                    }
                case "words":
                    for (word, valence) in valences(value, section: name, emoji: false) {
                        if word.hasSuffix("*") && word.count > 1 { lexicon.prefixWords.append((String(word.dropLast()), valence)) }
                        else { lexicon.words[word] = valence }
                    }
                    lexicon.prefixWords.sort { $0.0.count > $1.0.count || $0.0.count == $1.0.count && $0.0 < $1.0 }
                case "emoji": lexicon.emoji = valences(value, section: name, emoji: true)
                case "dates":
                    for (dateKey, list) in pairs(value, name) {
                        let sub = dateKey.string ?? ""
                        switch sub {
                        case "weekdays":
                            for (word, day) in pairs(list, "dates.weekdays") {
                                guard let day = day.string?.lowercased(), weekdayNames.contains(day) else {
                                    problem(day, "dates.weekdays: \"\(word.string ?? "?")\" must map to an English day name (monday ... sunday)"); continue
                                }
                                lexicon.dates.weekdays[ReplyText.fold(word.string ?? "")] = day
                            }
                        case "months":
                            for (word, month) in pairs(list, "dates.months") {
                                guard let number = self.number(month, "dates.months.\(word.string ?? "?")", range: 1...12) else { continue }
                                lexicon.dates.months[ReplyText.fold(word.string ?? "")] = Int(number)
                            }
                        case "relative":
                            for (phraseKey, meaning) in pairs(list, "dates.relative") {
                                guard let source = phraseKey.string, let phrase = try? Phrase(source), let meaning = meaning.string, !meaning.isEmpty else {
                                    problem(phraseKey, "dates.relative: give phrase: meaning, like \"fin de mes\": end_of_month"); continue
                                }
                                lexicon.dates.relative.append((phrase, meaning))
                            }
                        case "ordinals": lexicon.dates.ordinals = Set(strings(list, "dates.ordinals"))
                        case "day_articles": lexicon.dates.dayArticles = Set(strings(list, "dates.day_articles"))
                        default: problem(dateKey, "dates: unknown key \"\(sub)\"; known: \(dateKeys.sorted().joined(separator: ", "))")
                        }
                    }
                case "amounts":
                    for (amountKey, list) in pairs(value, name) {
                        let sub = amountKey.string ?? ""
                        switch sub {
                        case "multipliers":
                            for (word, factor) in pairs(list, "amounts.multipliers") {
                                guard let factor = number(factor, "amounts.multipliers.\(word.string ?? "?")", range: 1...1_000_000_000) else { continue }
                                lexicon.amounts.multipliers[ReplyText.fold(word.string ?? "")] = factor
                            }
                        case "currencies":
                            for (word, code) in pairs(list, "amounts.currencies") {
                                let code = code.string ?? ""
                                guard code.isEmpty || code.count == 3 && code.allSatisfy({ $0.isUppercase && $0.isASCII }) else {
                                    problem(word, "amounts.currencies: \"\(word.string ?? "?")\" must map to an ISO code like USD, or \"\" when it depends on the country"); continue
                                }
                                let key = word.string ?? ""
                                lexicon.amounts.currencies[key.count == 1 ? key : ReplyText.fold(key)] = code
                            }
                        case "pay_verbs": lexicon.amounts.payVerbs = words(list, "amounts.pay_verbs")
                        default: problem(amountKey, "amounts: unknown key \"\(sub)\"; known: \(amountKeys.sorted().joined(separator: ", "))")
                        }
                    }
                case "thresholds":
                    for (thresholdKey, number) in pairs(value, name) {
                        let sub = thresholdKey.string ?? ""
                        switch sub {
                        case "upset_below": lexicon.upsetBelow = self.number(number, "thresholds.upset_below", range: -1...0) ?? lexicon.upsetBelow
                        case "worried_below": lexicon.worriedBelow = self.number(number, "thresholds.worried_below", range: -1...0) ?? lexicon.worriedBelow
                        default: problem(thresholdKey, "thresholds: unknown key \"\(sub)\"; known: \(thresholdKeys.sorted().joined(separator: ", "))")
                        }
                    }
                case "list_words": lexicon.listWords = Set(strings(value, name))
                case "welcome": lexicon.welcome = phraseList(value, name)
                case "asks_who": lexicon.asksWho = phraseList(value, name)
                case "taken_back": lexicon.takenBack = phraseList(value, name)
                case "not_negating": lexicon.notNegating = phraseList(value, name)
                case "asks_to_stop": lexicon.asksToStop = phraseList(value, name)
                case "names_sms": lexicon.namesSMS = phraseList(value, name)
                case "names_email": lexicon.namesEmail = phraseList(value, name)
                case "names_whatsapp": lexicon.namesWhatsApp = phraseList(value, name)
                case "welcome_email": lexicon.welcomeEmail = phraseList(value, name)
                case "disclaimed": lexicon.disclaimed = phraseList(value, name)
                case "asked_back":
                    let lists = phraseLists(value, name, known: askedBackKeys)
                    lexicon.mentions = lists["mentions"] ?? lexicon.mentions
                    lexicon.answers = lists["answers"] ?? lexicon.answers
                    lexicon.jokes = lists["jokes"] ?? lexicon.jokes
                case "conditional":
                    let lists = phraseLists(value, name, known: conditionalKeys)
                    lexicon.conditionIf = lists["if"] ?? lexicon.conditionIf
                    lexicon.conditionThen = lists["then"] ?? lexicon.conditionThen
                case "purpose":
                    let lists = phraseLists(value, name, known: purposeKeys)
                    lexicon.purposePays = lists["pays"] ?? lexicon.purposePays
                    lexicon.purposeSo = lists["so"] ?? lexicon.purposeSo
                    lexicon.purposeBy = lists["by"] ?? lexicon.purposeBy
                case "promotions":
                    let lists = phraseLists(value, name, known: promotionsKeys)
                    lexicon.promotionNames = lists["names"] ?? lexicon.promotionNames
                    lexicon.promotionReminders = lists["reminders"] ?? lexicon.promotionReminders
                    lexicon.remindersKept = lists["kept"] ?? lexicon.remindersKept
                    lexicon.remindersBy = lists["by"] ?? lexicon.remindersBy
                case "narrowed":
                    let lists = phraseLists(value, name, known: narrowedKeys)
                    lexicon.narrowedAfter = lists["after"] ?? lexicon.narrowedAfter
                    lexicon.narrowedBefore = lists["before"] ?? lexicon.narrowedBefore
                    lexicon.narrowedUnless = lists["unless"] ?? lexicon.narrowedUnless
                case "writes_for":
                    for (subKey, list) in pairs(value, name) {
                        switch subKey.string ?? "" {
                        case "prefaces": lexicon.writesFor = phraseList(list, "writes_for.prefaces")
                        case "customer": lexicon.customerWords = words(list, "writes_for.customer")
                        default: problem(subKey, "writes_for: unknown key \"\(subKey.string ?? "")\"; known: \(writesForKeys.sorted().joined(separator: ", "))")
                        }
                    }
                case "retold":
                    for (subKey, list) in pairs(value, name) {
                        switch subKey.string ?? "" {
                        case "words": lexicon.retellings = words(list, "retold.words")
                        case "undone": lexicon.undone = phraseList(list, "retold.undone")
                        case "honored": lexicon.honored = phraseList(list, "retold.honored")
                        case "others": lexicon.others = phraseList(list, "retold.others")
                        case "for_me": lexicon.forMe = phraseList(list, "retold.for_me")
                        default: problem(subKey, "retold: unknown key \"\(subKey.string ?? "")\"; known: \(retoldKeys.sorted().joined(separator: ", "))")
                        }
                    }
                default:
                    problem(key, "unknown key \"\(name)\"; known: \(topKeys.sorted().joined(separator: ", "))")
                }
            }
            for (rule, node) in usesSections {
                let what = "\(rule.origin.section) #\(rule.origin.number)"
                if rule.lists && lexicon.listWords.isEmpty { problem(node, "\(what): lists: true needs list_words (the words that begin a list's next item: ni, no, nor, or)") }
                if rule.notAskedBack && lexicon.mentions.isEmpty && lexicon.answers.isEmpty {
                    problem(node, "\(what): not_asked_back: true needs the asked_back section (mentions: what do you mean ...; answers: no way ...)")
                }
                if rule.retold != nil && lexicon.retellings.isEmpty { problem(node, "\(what): retold needs retold.words (the verbs that tell of a request: told, dije ...)") }
                if rule.retold == .unlessUndone && lexicon.undone.isEmpty { problem(node, "\(what): retold: unless_undone needs retold.undone (by mistake, opted back in ...)") }
            }
            lexicon.glued = GluedWords(lexicon: lexicon)
            return findings.count == before ? lexicon : nil
        }
    }
}
