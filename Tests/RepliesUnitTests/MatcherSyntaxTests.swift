import Foundation
import Testing
@testable import Replies

/// The phrase matcher's guards that phrases alone cannot express: a keyword asked back or mentioned,
/// a request told of (and taken back), a list of channels split by commas, two facts in separate
/// sentences, no typo reading, and `<name>` in a guard. Each is checked on a small lexicon written
/// here (the syntax) and on the shipped lexicons in both languages (the behaviour). The replies are
/// written for these tests, in customers' voices, not taken from any evaluation set.
@Suite struct MatcherSyntaxTests {
    static func lexicon(_ text: String, _ language: String) -> ReplyLexicon? {
        let (findings, lexicons) = ReplyLexiconFile.lexicons(files: ["\(language).yml": Data(text.utf8)])
        #expect(findings.isEmpty, "\(findings)")
        return lexicons?.byLanguage[language]
    }

    static func findings(_ text: String, _ language: String) -> [String] {
        ReplyLexiconFile.lexicons(files: ["\(language).yml": Data(text.utf8)]).findings.map(\.description)
    }

    func intents(_ text: String, _ language: String) -> Set<ReplyIntent> { Set(Shipped.classify(text, language).intents) }

    // MARK: asked back or mentioned

    @Test func aKeywordAskedBackIsNotUsed() throws {
        let text = """
            language: en
            negators: [no, not]
            filler: [please]
            asked_back:
              mentions: ["what do you mean"]
              answers: ["no way", "nope"]
            intents:
              opt_out:
                - {phrase: "stop|unsubscribe", not_asked_back: true}
              help:
                - "unsubscribe"
            """
        let lexicon = try #require(Self.lexicon(text, "en"))
        func optOut(_ reply: String) -> Bool { ReplyClassifier.classify(reply, lexicon: lexicon).intents.contains(.optOut) }
        #expect(!optOut("unsubscribe? no way, keep sending"))
        #expect(!optOut("what do you mean STOP?"))
        #expect(optOut("STOP"))
        #expect(optOut("stop?"), "a bare keyword asked is still the keyword")
        #expect(optOut("STOP?? how many times"), "asked back but not answered in the negative")
        #expect(optOut("what do you mean. STOP"), "the mention is in another sentence")
        // The guard belongs to the rule: a rule without it still matches.
        #expect(ReplyClassifier.classify("unsubscribe? no way", lexicon: lexicon).intents == [.help])
        let result = ReplyClassifier.classify("unsubscribe? nope", lexicon: lexicon)
        #expect(result.explain.contains { $0.hasPrefix("not opt_out: 'unsubscribe' is asked back and answered 'nope'") }, "\(result.explain)")
    }

    @Test(arguments: [("unsubscribe? no way, these reminders are the only reason I remember to pay", "en"),
                      ("Stop? Why would I want to stop? Keep them coming", "en"), ("what do you mean STOP?", "en"),
                      ("¿baja? jamás, sigan mandando los recordatorios", "es"), ("¿qué significa STOP? me llegó en el mensaje", "es"),
                      ("STOP? ni loca, sin esos avisos se me olvida pagar", "es")])
    func shippedKeywordsAskedBackAreNoOptOuts(_ text: String, _ language: String) {
        let result = Shipped.classify(text, language)
        #expect(!result.intents.contains(.optOut), "\(result.explain)")
    }

    @Test(arguments: [("STOP?? how many times do I have to say it", "en"), ("Stop. What do you not understand", "en"),
                      ("¿BAJA? sí, BAJA, ya no me escriban", "es"), ("STOP", "en"), ("¿baja?", "es")])
    func shippedKeywordsAskedButMeantStillOptOut(_ text: String, _ language: String) {
        let result = Shipped.classify(text, language)
        #expect(result.intents.contains(.optOut), "\(result.explain)")
    }

    @Test func aMentionCloseBeforeTheKeywordNeedsNoQuestionMark() throws {
        let text = """
            language: en
            asked_back:
              mentions: ["why would i"]
            intents:
              opt_out:
                - {phrase: "unsubscribe", not_asked_back: true}
            """
        let lexicon = try #require(Self.lexicon(text, "en"))
        func optOut(_ reply: String) -> Bool { ReplyClassifier.classify(reply, lexicon: lexicon).intents.contains(.optOut) }
        #expect(!optOut("why would I unsubscribe, I need to know when it's due"))
        #expect(!optOut("why would I ever even unsubscribe"), "two words between")
        #expect(optOut("why would I read these, unsubscribe"), "another clause")
        #expect(optOut("why would I keep getting these all day long unsubscribe"), "too far for a mention without a question")
    }

    @Test(arguments: [("why would I unsubscribe, I need to know when it's due", "en"), ("por qué querría darme de baja, si me sirven los avisos", "es"),
                      ("¿cómo que ya no me escriban? si ustedes me escribieron primero", "es")])
    func shippedRhetoricalMentionsAreNoOptOuts(_ text: String, _ language: String) {
        let result = Shipped.classify(text, language)
        #expect(!result.intents.contains(.optOut), "\(result.explain)")
    }

    @Test func notAskedBackWithoutItsSectionIsAFinding() {
        let found = Self.findings("""
            language: en
            intents:
              opt_out:
                - {phrase: "stop", not_asked_back: true}
            """, "en")
        #expect(found.contains { $0.contains("not_asked_back: true needs the asked_back section") }, "\(found)")
    }

    // MARK: a request told of

    @Test func aRequestToldOfCountsUnlessTakenBack() throws {
        let text = """
            language: es
            negators: [no]
            retold:
              words: [dije, mande]
              undone: ["por error", "sigan mandando"]
            intents:
              opt_out:
                - {phrase: "stop", retold: unless_undone}
                - {phrase: "baja", retold: never}
            """
        let lexicon = try #require(Self.lexicon(text, "es"))
        func optOut(_ reply: String) -> Bool { ReplyClassifier.classify(reply, lexicon: lexicon).intents.contains(.optOut) }
        #expect(optOut("ya les dije STOP la semana pasada"))
        #expect(!optOut("les mandé STOP por error"))
        #expect(!optOut("les mandé STOP, pero sigan mandando"))
        #expect(optOut("les mandé STOP, no fue por error"), "a negated undoing does not take it back")
        #expect(!optOut("les mandé BAJA"), "retold: never")
        #expect(optOut("BAJA"))
        let result = ReplyClassifier.classify("le mandé STOP por error", lexicon: lexicon)
        #expect(result.explain.contains { $0.hasPrefix("not opt_out: 'STOP' is told of after 'mandé' and taken back ('por error')") }, "\(result.explain)")
    }

    /// A request told of and honored since ("desde que puse baja ya no me llegan") is a past fact; one still
    /// unheeded counts, and so does one whose honoring is denied.
    @Test func aRequestToldOfAndHonoredIsAPastFact() throws {
        let text = """
            language: es
            negators: [no]
            retold:
              words: [puse, mande]
              undone: ["por error"]
              honored: ["ya no me llegan|llego", "deje de recibir*"]
            intents:
              opt_out:
                - {phrase: "puse|mande ~ baja", retold: unless_undone}
            """
        let lexicon = try #require(Self.lexicon(text, "es"))
        #expect(lexicon.honored.map(\.source) == ["ya no me llegan|llego", "deje de recibir*"])
        func optOut(_ reply: String) -> Bool { ReplyClassifier.classify(reply, lexicon: lexicon).intents.contains(.optOut) }
        #expect(!optOut("desde que puse baja ya no me llegó nada, bien ahí"))
        #expect(!optOut("dejé de recibirlos desde que mandé BAJA"))
        #expect(optOut("les mandé BAJA hace una semana y siguen llegando"))
        let result = ReplyClassifier.classify("puse baja y ya no me llegan, gracias", lexicon: lexicon)
        #expect(result.explain.contains { $0.hasPrefix("not opt_out: 'puse baja' is told of after 'puse' and already honored ('ya no me llegan')") }, "\(result.explain)")
    }

    @Test(arguments: [("desde que puse baja ya no me llegó nada, bien ahí", "es"), ("Dejé de recibir los mensajes desde que puse baja, gracias", "es"),
                      ("I replied STOP last month and stopped getting them, thanks", "en")])
    func shippedRequestsToldOfAndHonoredAreNotOptOuts(_ text: String, _ language: String) {
        let result = Shipped.classify(text, language)
        #expect(!result.intents.contains(.optOut), "\(result.explain)")
    }

    @Test(arguments: [("I already texted STOP last week.", "en"), ("I told you to stop texting me", "en"), ("I replied STOP twice already", "en"),
                      ("ya les mandé STOP la semana pasada", "es"), ("ya les dije que no me escriban", "es"), ("les envié STOP hace un mes", "es")])
    func shippedRequestsToldOfStillOptOut(_ text: String, _ language: String) {
        let result = Shipped.classify(text, language)
        #expect(result.intents.contains(.optOut), "\(result.explain)")
    }

    @Test(arguments: [("I said stop last month but I changed my mind, keep them coming", "en"),
                      ("after I replied STOP last year I opted back in", "en"),
                      ("I sent stop a while ago but I miss the reminders, can I get them back?", "en"),
                      ("le respondí STOP por error, sigan escribiendo", "es"), ("le dije STOP pero me arrepentí, quiero volver a recibir los avisos", "es")])
    func shippedRequestsToldOfAndTakenBackAreNoOptOuts(_ text: String, _ language: String) {
        let result = Shipped.classify(text, language)
        #expect(!result.intents.contains(.optOut), "\(result.explain)")
    }

    @Test func aVerbInsideTheMatchTellsOfTheRequest() throws {
        let text = """
            language: es
            retold:
              words: [escribi, mande]
              undone: ["por error"]
            intents:
              opt_out:
                - {phrase: "escribi|mande ~ baja", retold: unless_undone}
            """
        let lexicon = try #require(Self.lexicon(text, "es"))
        #expect(ReplyClassifier.classify("les escribí BAJA hace una semana, ¿por qué siguen?", lexicon: lexicon).intents == [.optOut])
        #expect(ReplyClassifier.classify("le mandé BAJA por error", lexicon: lexicon).intents.isEmpty)
    }

    @Test(arguments: [("les escribí BAJA hace una semana, ¿por qué siguen?", "es"), ("I have asked you not to text me", "en"),
                      ("ya pedí que me sacaran de la lista y siguen", "es"), ("Already told y'all to stop texting me last week", "en")])
    func shippedRequestsToldOfWithTheirVerbOptOut(_ text: String, _ language: String) {
        let result = Shipped.classify(text, language)
        #expect(result.intents.contains(.optOut), "\(result.explain)")
    }

    @Test(arguments: [("le mandé BAJA sin querer, sigan avisándome", "es"), ("Say I text STOP, does the debt go away?", "en"),
                      ("I'd never tell you to stop the texts, I just need the payoff", "en"), ("nunca les pediría que dejen de escribirme, solo quiero el monto", "es"),
                      ("no voy a poner STOP, solo díganme el saldo", "es"), ("quiero dar de baja el débito automático", "es"),
                      ("no le escriban a mi hermana, escríbanme a mí", "es"), ("stop freaking me out with the interest talk, I'll pay monday", "en")])
    func shippedLookAlikesAreNoOptOuts(_ text: String, _ language: String) {
        let result = Shipped.classify(text, language)
        #expect(!result.intents.contains(.optOut), "\(result.explain)")
    }

    @Test(arguments: [("Not interested. Remove.", "en"), ("I'd prefer you didn't text me", "en"), ("me quiero salir de esta lista", "es")])
    func shippedOptOutsInOtherWords(_ text: String, _ language: String) {
        let result = Shipped.classify(text, language)
        #expect(result.intents.contains(.optOut), "\(result.explain)")
    }

    @Test func retoldWithoutItsWordsIsAFinding() {
        let found = Self.findings("""
            language: en
            intents:
              opt_out:
                - {phrase: "stop", retold: unless_undone}
                - {phrase: "quit", retold: sometimes}
            """, "en")
        #expect(found.contains { $0.contains("retold needs retold.words") }, "\(found)")
        #expect(found.contains { $0.contains("retold: unless_undone needs retold.undone") }, "\(found)")
        #expect(found.contains { $0.contains("must be unless_undone") && $0.contains("or never") }, "\(found)")
    }

    // MARK: lists split by commas

    @Test func aListPhraseReadsAcrossTheListsCommas() throws {
        let text = """
            language: es
            negators: [no, ni]
            list_words: [ni, no]
            intents:
              cease_contact:
                - {phrase: "ni|no llamadas ... ni|no mensajes", negatable: false, lists: true}
              opt_out:
                - {phrase: "ni|no llamadas ... ni|no mensajes", negatable: false}
            """
        let lexicon = try #require(Self.lexicon(text, "es"))
        // Only the rule with lists: true reads across the commas; the opt-out then comes from the cease
        // (all contact includes the texts), not from the opt_out phrase, which stops at the first comma.
        for reply in ["ni llamadas, ni mensajes, ni correos", "no llamadas, no mensajes"] {
            let result = ReplyClassifier.classify(reply, lexicon: lexicon)
            #expect(result.intents == [.optOut, .ceaseContact])
            #expect(result.explain.contains("opt_out: implied by cease_contact (all contact includes the texts)"), "\(result.explain)")
        }
        // A comma that does not begin another item of the list still ends the clause.
        #expect(ReplyClassifier.classify("no llamadas, mejor mensajes", lexicon: lexicon).intents.isEmpty)
        #expect(ReplyClassifier.classify("no llamadas. ni mensajes", lexicon: lexicon).intents.isEmpty)
        let commas = ReplyClassifier.listCommas(ReplyText.tokenize("don't call, don't text, or email"), lexicon: Self.lexicon("language: en\nlist_words: [or]", "en")!)
        #expect(commas.count == 2)
    }

    @Test(arguments: [("no calls, no texts, no letters", "en"), ("don't call, don't text, don't email", "en"),
                      ("ni llamadas, ni mensajes, ni correos", "es"), ("no quiero llamadas, ni mensajes, ni visitas", "es")])
    func shippedChannelListsAreCeaseContact(_ text: String, _ language: String) {
        let result = Shipped.classify(text, language)
        #expect(result.intents.contains(.ceaseContact), "\(result.explain)")
        #expect(result.intents.contains(.optOut), "\(result.explain)")
    }

    @Test(arguments: [("no calls please, texts are fine", "en"), ("no me llamen, mejor por mensaje", "es")])
    func shippedOneChannelIsNoCease(_ text: String, _ language: String) {
        let result = Shipped.classify(text, language)
        #expect(!result.intents.contains(.ceaseContact), "\(result.explain)")
    }

    @Test func aCommaInAPhraseMatchesThePunctuationBetweenClauses() throws {
        let text = """
            language: en
            negators: [no, not]
            taken_back: ["wait , never mind"]
            intents:
              opt_out:
                - "stop"
            """
        let lexicon = try #require(Self.lexicon(text, "en"))
        func optOut(_ reply: String) -> Bool { ReplyClassifier.classify(reply, lexicon: lexicon).intents.contains(.optOut) }
        // Any run of punctuation marks between the two clauses: a comma, an ellipsis, a semicolon.
        #expect(!optOut("stop, wait, never mind"))
        #expect(!optOut("stop... wait... never mind. what's my balance?"))
        #expect(!optOut("STOP. wait; never mind"))
        // "," stands for punctuation: without any, the words do not match it.
        #expect(optOut("stop wait never mind"))
        // Said again after it, the request counts.
        #expect(optOut("stop, wait, never mind. no, actually, stop"))
        let phrase = try Phrase("wait , never mind")
        #expect(phrase.elements.count == 4)
        #expect(phrase.matches(in: ReplyText.tokenize("ok wait,,, never mind")).count == 1)
        #expect(phrase.matches(in: ReplyText.tokenize("wait never mind")).isEmpty)
    }

    @Test func aCommaAtAPhrasesEdgeOrNextToAGapIsAFinding() {
        let found = Self.findings("""
            language: en
            intents:
              opt_out:
                - ", stop"
                - "stop ,"
                - "stop , ... texts"
                - "stop ~ , texts"
            """, "en")
        #expect(found.filter { $0.contains("may not start or end with \",\"") }.count == 2, "\(found)")
        #expect(found.filter { $0.contains("has ... or ~ next to \",\"") }.count == 2, "\(found)")
    }

    @Test func listsWithoutAGapOrListWordsIsAFinding() {
        let found = Self.findings("""
            language: en
            intents:
              opt_out:
                - {phrase: "no calls no texts", lists: true}
            """, "en")
        #expect(found.contains { $0.contains("lists: true has no effect without ... or ~") }, "\(found)")
        #expect(found.contains { $0.contains("lists: true needs list_words") }, "\(found)")
    }

    // MARK: two facts in separate sentences

    @Test func withNeedsTheOtherFactElsewhereInTheReply() throws {
        let text = """
            language: en
            negators: [no, not]
            intents:
              opt_out:
                - {phrase: "enough", with: ["texts|messages"], negatable: false}
            """
        let lexicon = try #require(Self.lexicon(text, "en"))
        #expect(ReplyClassifier.classify("Five texts since Monday. Enough.", lexicon: lexicon).intents == [.optOut])
        #expect(ReplyClassifier.classify("Enough.", lexicon: lexicon).intents.isEmpty)
        #expect(ReplyClassifier.classify("Enough. I got no texts this month", lexicon: lexicon).intents.isEmpty, "a negated fact does not count")
        let result = ReplyClassifier.classify("enough", lexicon: lexicon)
        #expect(result.explain.contains { $0.hasPrefix("not opt_out: 'enough' with no 'texts|messages' elsewhere in the reply") }, "\(result.explain)")
    }

    @Test(arguments: [("5 texts since Monday. Enough.", "en"), ("I get these reminders every day. I'm done.", "en"),
                      ("Tres mensajes hoy. Ya basta.", "es"), ("Párenle. Todo el día con sus mensajitos", "es")])
    func shippedTwoSentencesMakeAnOptOut(_ text: String, _ language: String) {
        let result = Shipped.classify(text, language)
        #expect(result.intents.contains(.optOut), "\(result.explain)")
    }

    @Test(arguments: [("Not enough money this month, the texts help me remember", "en"), ("I'm done paying the fees. the texts say I owe 40", "en"),
                      ("ya basta de intereses, el mensaje dice 300 mil", "es"), ("Ya no puedo más. El mensaje dice que debo 500", "es")])
    func shippedOneFactAloneIsNoOptOut(_ text: String, _ language: String) {
        let result = Shipped.classify(text, language)
        #expect(!result.intents.contains(.optOut), "\(result.explain)")
    }

    // MARK: a clause of its own

    @Test func aloneIsAClauseOfItsOwnAndNoOtherSense() throws {
        let text = """
            language: es
            negators: [no]
            intents:
              opt_out:
                - {phrase: "no mas", negatable: false, alone: true}
            """
        let lexicon = try #require(Self.lexicon(text, "es"))
        func optOut(_ reply: String) -> Bool { ReplyClassifier.classify(reply, lexicon: lexicon).intents.contains(.optOut) }
        #expect(optOut("8 mensajes en un día. NO MÁS"))
        #expect(optOut("no más!! 😡"), "punctuation and emoji are not words")
        #expect(!optOut("no más de 20 mil al mes puedo"))
        #expect(!optOut("pago 20 y no más"))
        // Refused for its place, not for its sense: the model may still find the intent.
        let tokens = ReplyClassifier.tokens("no más de 20 mil al mes", lexicon: lexicon)
        let rule = try #require(lexicon.intents[.optOut]?.first)
        let found = try #require(rule.phrase.matches(in: tokens).first)
        let refusal = try #require(ReplyClassifier.refusal(rule, found: found, tokens: tokens, lexicon: lexicon,
                                                           promise: PromiseExtraction.extract(tokens, lexicon: lexicon)))
        #expect(refusal.reason == "is not a clause of its own (also 'de')")
        #expect(!refusal.otherSense)
    }

    // MARK: no typo reading

    @Test func typosFalseTakesWordsOnlyAsWritten() throws {
        let text = """
            language: en
            cues:
              worried:
                - {phrase: "going through ~ tough", typos: false}
              upset:
                - "going through ~ tough"
            """
        let lexicon = try #require(Self.lexicon(text, "en"))
        let rule = try #require(lexicon.cues[.worried]?.first)
        #expect(!rule.typos)
        let tokens = ReplyText.tokenize("going through it though")
        #expect(rule.phrase.matches(in: tokens, typos: false).isEmpty)
        #expect(rule.phrase.matches(in: tokens).count == 1, "the same phrase with typos reads 'though' as 'tough'")
        #expect(ReplyClassifier.classify("going through it though", lexicon: lexicon).label == .upset)
        #expect(ReplyClassifier.classify("going through a tough time", lexicon: lexicon).label == .upset)
        #expect(!ReplyClassifier.classify("going through it though", lexicon: lexicon).explain.contains { $0.hasPrefix("label worried") })
    }

    @Test func shippedShortWordsWithoutTypos() {
        #expect(Shipped.classify("going through a tough time", "en").label == .worried)
        // "though" is not "tough"; "presenta" (the bank) is not "presentar".
        #expect(Shipped.classify("ok going through it though", "en").label != .worried)
        let filing = Shipped.lexicons.byLanguage["es"]?.intents[.lawyer]?.first { !$0.typos && $0.phrase.source.hasPrefix("poner|pongo") }
        #expect(filing != nil, "the shipped rule for filing a complaint reads its verbs only as written")
        if let filing {
            let tokens = ReplyClassifier.tokens("el banco presenta la demanda", lexicon: Shipped.lexicons.byLanguage["es"]!)
            #expect(filing.phrase.matches(in: tokens, typos: filing.typos).isEmpty)
            #expect(filing.phrase.matches(in: tokens).count == 1, "with typos 'presenta' reads as 'presentar'")
            let mine = ReplyClassifier.tokens("ya presenté la demanda", lexicon: Shipped.lexicons.byLanguage["es"]!)
            #expect(filing.phrase.matches(in: mine, typos: filing.typos).count == 1)
        }
    }

    // MARK: <name> in guards

    @Test func aNameInAGuardMatchesANameLikeWord() throws {
        let text = """
            language: en
            negators: [not]
            intents:
              wrong_number:
                - {phrase: "is not here", negatable: false, not_preceded_by: [<name>], note: "a person named, read by the name rules"}
            """
        let lexicon = try #require(Self.lexicon(text, "en"))
        #expect(lexicon.intents[.wrongNumber]?.first?.notPrecededBy == [.anyName])
        #expect(ReplyClassifier.classify("Carlos is not here", lexicon: lexicon).intents.isEmpty)
        #expect(ReplyClassifier.classify("he is not here", lexicon: lexicon).intents == [.wrongNumber])
        #expect(ReplyClassifier.classify("HE is not here", lexicon: lexicon).intents == [.wrongNumber], "capitals only are no name")
        let found = Self.findings("""
            language: en
            intents:
              opt_out:
                - {phrase: "stop", not_followed_by: ["<nombre>"]}
            """, "en")
        #expect(found.contains { $0.contains("must be one word") }, "\(found)")
    }
}
