import Foundation
import GatewayCore

/// One piece of a reply, after normalization.
public struct ReplyToken: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case word
        case number
        /// A currency sign: $, ₡, €, £.
        case currency
        /// A clause boundary (. , ; : ! ?) or a slash; negation and phrases do not cross boundaries.
        case punctuation
        case emoji
    }

    public var kind: Kind
    /// Lowercased, accents folded (ñ reads as n, so "manana" and "mañana" are one word), apostrophes
    /// dropped, runs of three or more of a letter collapsed to one ("noooo" -> "no").
    public var text: String
    /// The same word with those runs collapsed to two letters ("goood" -> "good"), when it differs.
    public var alternative: String?
    /// As written (for explanations and the promise's text).
    public var original: String
    /// Lowercased with its acute accents kept (ñ and ü folded), when it has one ("envíe", "envié"; nil
    /// for "envie", "mañana"): where a lexicon word is written with an accent, a word written with a
    /// different one is another word (envíe, an instruction; envié, a request told of).
    public var marked: String?
    /// Written in capitals (two letters or more) in a reply that is not all capitals.
    public var shouted: Bool = false
    /// Glued to the token before it, with no space ("25k", "15th").
    public var glued: Bool = false
    /// The run of words written with no spaces this word was split from ("nomandenmas"), if any.
    public var unglued: String?
    /// A quote mark comes right before it (" “ ” « » or a single quote outside a word): the words that
    /// follow are quoted ("she replied \"no me escriban\"").
    public var quoteBefore: Bool = false

    public init(kind: Kind, text: String, alternative: String? = nil, original: String) {
        self.kind = kind
        self.text = text
        self.alternative = alternative
        self.original = original
    }

    /// The forms a lexicon entry may match.
    var forms: [String] { alternative.map { [text, $0] } ?? [text] }
    var isBoundary: Bool { kind == .punctuation && text != "/" }
}

/// Text normalization: the same steps for replies and for the phrases in the lexicon files.
public enum ReplyText {
    /// Lowercase and fold accents (á -> a, ñ -> n, ü -> u).
    public static func fold(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil).lowercased()
    }

    static let acuteVowels: Set<Character> = ["á", "é", "í", "ó", "ú"]

    /// The word in lower case with its acute accents kept and every other mark folded, or nil when it
    /// has no acute accent: "Envíe" -> "envíe", "envié" -> "envié", "envie" -> nil, "mañana" -> nil.
    public static func marked(_ word: String) -> String? {
        let lower = word.lowercased()
        guard lower.contains(where: acuteVowels.contains) else { return nil }
        return lower.map { acuteVowels.contains($0) ? String($0) : fold(String($0)) }.joined()
    }

    static func isEmoji(_ character: Character) -> Bool {
        guard let first = character.unicodeScalars.first else { return false }
        if first.properties.isEmojiPresentation { return true }
        // Text-style emoji made emoji by a variation selector (❤️, ☹️).
        return first.properties.isEmoji && first.value > 0x203C && character.unicodeScalars.count > 1
            || (first.properties.isEmoji && (0x2600...0x27BF).contains(first.value))
    }

    /// The emoji's base (no skin tone or variation selector), so 👍🏽 reads as 👍.
    static func emojiBase(_ character: Character) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in character.unicodeScalars {
            if (0x1F3FB...0x1F3FF).contains(scalar.value) || scalar.value == 0xFE0F || scalar.value == 0xFE0E { continue }
            scalars.append(scalar)
        }
        return String(scalars)
    }

    static let emoticons: [(String, String)] = [
        (":-)", "🙂"), (":)", "🙂"), ("(:", "🙂"), (":-(", "🙁"), (":(", "🙁"), (":'(", "😢"), (":D", "😀"), ("xD", "😆"), ("XD", "😆"),
        ("<3", "❤"), (":/", "😕"), (":-/", "😕"), (":@", "😠"),
    ]

    static func collapseRuns(_ word: String, keep: Int) -> String {
        var result = ""
        let chars = Array(word)
        var index = 0
        while index < chars.count {
            let character = chars[index]
            var end = index
            while end + 1 < chars.count && chars[end + 1] == character { end += 1 }
            let length = end - index + 1
            let copies = character.isLetter && length >= 3 ? keep : length
            result.append(contentsOf: String(repeating: String(character), count: copies))
            index = end + 1
        }
        return result
    }

    /// The reply without the message it answers, as mail and phone clients set it apart: lines
    /// quoted with ">", and everything from the first header of a quoted or forwarded message on
    /// ("On ... wrote:" / "El ... escribió:", also wrapped over two lines, unless the quoted message
    /// under it is all ">" lines: then the customer's words below them count; "-----Original Message-----",
    /// "----- Mensaje original -----", "---------- Forwarded message ---------"; a "From:" / "De:" line
    /// after the customer's words; a line of dashes, underscores or equals signs after them, as
    /// clients put above the quoted message and "-- " above a signature), and the line a phone or mail
    /// client signs with ("Sent from my iPhone", `ClientSignature`). Our own text, with its "Reply STOP", must not count as
    /// the customer's words.
    public static func withoutQuotedText(_ text: String) -> String {
        var kept: [Substring] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // A header whose quoted message is all ">" lines may be answered below it (the customer's words
        // between or after the quoted lines); one followed by unmarked lines ends the customer's words.
        func quotedWithMarksAfter(_ index: Int) -> Bool {
            lines[(index + 1)...].first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }?
                .trimmingCharacters(in: .whitespaces).hasPrefix(">") ?? false
        }
        for (index, line) in lines.enumerated() {
            let lower = fold(line.trimmingCharacters(in: .whitespaces))
            if lower.hasPrefix(">") || isQuotedMessage(lower) || ClientSignature.matches(lower) { continue }
            if lower.hasSuffix("wrote:") || lower.hasSuffix("escribio:") {
                if lower.hasPrefix("on ") || lower.hasPrefix("el ") {
                    if quotedWithMarksAfter(index) { continue }
                    break
                }
                // "On Mon, Nov 30, 2026 at 9:12 AM Bank <notices@bank.com>" / "wrote:" wrapped by the client.
                if let previous = kept.last.map({ fold($0.trimmingCharacters(in: .whitespaces)) }),
                   previous.hasPrefix("on ") || previous.hasPrefix("el ") {
                    kept.removeLast()
                    if quotedWithMarksAfter(index) { continue }
                    break
                }
            }
            let words = lower.filter { !"-_=*".contains($0) }.trimmingCharacters(in: .whitespaces)
            let rule = !lower.isEmpty && words.isEmpty && lower.count >= 2
            let header = (Self.quotedHeaders.contains { words.hasPrefix($0) } || words.hasPrefix("from:") || words.hasPrefix("de:")) && words.count < lower.count
                || (!kept.isEmpty && (lower.hasPrefix("from: ") || lower.hasPrefix("de: ")))
                || (rule && kept.contains { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
            if header { break }
            kept.append(line)
        }
        return kept.joined(separator: "\n")
    }

    static let quoteMarks: Set<Character> = ["\"", "“", "”", "«", "»"]

    /// A line that opens with a quote mark and closes with one (final punctuation aside), with twelve
    /// words or more between, or four or more with a number among them (an amount, a date, a short code):
    /// the bank's message pasted in ("\"Su pago vence hoy. Para dejar de recibir SMS envie STOP al 55123.\""),
    /// not the customer's own short request quoted back.
    static func isQuotedMessage(_ line: String) -> Bool {
        var inner = Substring(line.trimmingCharacters(in: .whitespaces))
        while let last = inner.last, ".,;:!?".contains(last) { inner = inner.dropLast() }
        guard inner.count >= 2, let first = inner.first, let last = inner.last, quoteMarks.contains(first), quoteMarks.contains(last) else { return false }
        inner = inner.dropFirst().dropLast()
        guard !inner.contains(where: quoteMarks.contains) else { return false }
        let words = inner.split(whereSeparator: { $0.isWhitespace }).count
        return words >= 12 || (words >= 4 && inner.contains(where: \.isNumber))
    }

    /// What a client writes between dashes above a quoted or forwarded message.
    static let quotedHeaders = ["original message", "mensaje original", "forwarded message", "mensaje reenviado", "message d'origine"]

    /// Whether the star at `index` stands for a letter of the word begun as `word`: more letters follow
    /// the stars ("sh*t", "f***ing"), or two or more stars end a word of one or two letters ("p***").
    static func censors(_ characters: [Character], at index: Int, after word: String) -> Bool {
        var end = index
        while end < characters.count && characters[end] == "*" { end += 1 }
        if end < characters.count && characters[end].isLetter { return true }
        let starsBefore = word.reversed().prefix { $0 == "*" }.count
        return end - index + starsBefore >= 2 && word.count - starsBefore <= 2
    }

    /// A word with stars for letters read as the lexicon word it hides, among the strongly negative
    /// ones (people hide swearing, not kind words): the same length ("sh*t" = shit), or a word that
    /// starts with a prefix entry ("f***ing" = fuck*), every letter shown in its place. Without one,
    /// the word without its stars.
    public static func uncensored(_ text: String, words: [String: Double], prefixWords: [(String, Double)]) -> String {
        let letters = Array(text)
        func fits(_ candidate: [Character]) -> Bool {
            zip(letters, candidate).allSatisfy { $0 == "*" || $0 == $1 }
        }
        var best: (word: String, valence: Double)?
        for (word, valence) in words where valence <= -1.5 && word.count == letters.count && fits(Array(word)) {
            if best == nil || valence < best!.valence || valence == best!.valence && word < best!.word { best = (word, valence) }
        }
        if best == nil {
            for (prefix, valence) in prefixWords where valence <= -1.5 && prefix.count <= letters.count && fits(Array(prefix)) && letters.first != "*" {
                let shown = String(prefix) + String(letters.dropFirst(prefix.count)).replacingOccurrences(of: "*", with: "")
                if best == nil || valence < best!.valence || valence == best!.valence && shown < best!.word { best = (shown, valence) }
            }
        }
        return best?.word ?? text.replacingOccurrences(of: "*", with: "")
    }

    /// Splits a reply into tokens. Contractions: "n't" stays on its word (don't -> dont, a negator),
    /// "'ll" / "'m" / "'re" / "'ve" / "'d" become will / am / are / have / would.
    public static func tokenize(_ input: String) -> [ReplyToken] {
        var text = input
        for (emoticon, emoji) in emoticons {
            text = text.replacingOccurrences(of: " \(emoticon)", with: " \(emoji) ")
            if text.hasPrefix(emoticon) { text = emoji + " " + text.dropFirst(emoticon.count) }
            if text.hasSuffix(" " + emoticon) || text == emoticon { text = String(text.dropLast(emoticon.count)) + " " + emoji }
        }
        let letters = text.filter(\.isLetter)
        let allCaps = !letters.isEmpty && letters.allSatisfy { !$0.isLowercase }
        var tokens: [ReplyToken] = []
        var current = ""
        var currentKind: ReplyToken.Kind?
        var spaceBefore = true
        var gluedNext = false
        var quoteNext = false

        func flush() {
            guard let kind = currentKind, !current.isEmpty else { current = ""; currentKind = nil; return }
            defer { current = ""; currentKind = nil }
            if kind == .number {
                var token = ReplyToken(kind: .number, text: current.trimmingCharacters(in: CharacterSet(charactersIn: ".,")), original: current)
                token.glued = gluedNext
                tokens.append(token)
                return
            }
            var word = current.replacingOccurrences(of: "’", with: "'")
            var extra: String?
            let lower = word.lowercased()
            for (suffix, expansion) in [("'ll", "will"), ("'m", "am"), ("'re", "are"), ("'ve", "have"), ("'d", "would")] where lower.hasSuffix(suffix) && lower.count > suffix.count {
                word = String(word.dropLast(suffix.count))
                extra = expansion
                break
            }
            word = word.replacingOccurrences(of: "'", with: "")
            guard !word.isEmpty else { return }
            let folded = fold(word)
            let censored = folded.contains("*")
            let single = censored ? folded : collapseRuns(folded, keep: 1)
            // A censored word's other form is the word without its stars ("**no**" is "no" to the language guess).
            let double = censored ? folded.replacingOccurrences(of: "*", with: "") : collapseRuns(folded, keep: 2)
            var token = ReplyToken(kind: .word, text: single, alternative: double != single ? double : nil, original: word)
            token.quoteBefore = quoteNext
            quoteNext = false
            let wordLetters = word.filter(\.isLetter)
            token.shouted = !allCaps && wordLetters.count >= 2 && wordLetters.allSatisfy { !$0.isLowercase }
            token.glued = gluedNext
            token.marked = marked(word)
            tokens.append(token)
            if let extra { tokens.append(ReplyToken(kind: .word, text: extra, original: extra)) }
        }

        let characters = Array(text)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let next: Character? = index + 1 < characters.count ? characters[index + 1] : nil
            if character.isLetter || ((character == "'" || character == "’") && currentKind == .word && next?.isLetter == true) {
                if currentKind != .word {
                    let glued = currentKind == .number
                    flush()
                    gluedNext = glued
                    currentKind = .word
                }
                current.append(character)
            } else if character.isNumber && character.isASCII {
                if currentKind != .number {
                    let glued = currentKind != nil || (!spaceBefore && tokens.last?.kind == .currency)
                    flush()
                    gluedNext = glued
                    currentKind = .number
                }
                current.append(character)
            } else if (character == "." || character == ",") && currentKind == .number && next?.isNumber == true {
                current.append(character)
            } else if character == "*" && currentKind == .word && censors(characters, at: index, after: current) {
                // A word written with stars for letters ("f***ing", "sh*t", "p***"): kept whole, for the
                // lexicon to read (ReplyClassifier.tokens).
                current.append(character)
            } else {
                flush()
                gluedNext = false
                if character.isWhitespace {
                    spaceBefore = true
                    index += 1
                    continue
                }
                if isEmoji(character) {
                    tokens.append(ReplyToken(kind: .emoji, text: emojiBase(character), original: String(character)))
                } else if character == "+", spaceBefore, let next, next.isWhitespace || next.isLetter {
                    // "+" said as a word ("no + msj", "+ o -"): the lexicon's abbreviations read it (más, more).
                    // Not in a phone number (+56 9 ...) or a count (60+ times).
                    tokens.append(ReplyToken(kind: .word, text: "+", original: "+"))
                } else if "$₡€£".contains(character) {
                    tokens.append(ReplyToken(kind: .currency, text: String(character), original: String(character)))
                } else if ".,;:!?/".contains(character) || character == "…" {
                    let mark = character == "…" ? "." : String(character)
                    tokens.append(ReplyToken(kind: .punctuation, text: mark, original: String(character)))
                }
                // Anything else (¿ ¡ quotes, hyphens, #) separates words and is otherwise ignored; a quote
                // mark is noted on the word after it.
                if "\"“”«»'‘’".contains(character) { quoteNext = true }
            }
            spaceBefore = character.isWhitespace
            index += 1
        }
        flush()
        return tokens
    }
}
