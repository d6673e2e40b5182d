import Foundation
import Testing
@testable import Replies

/// Words written with no spaces ("nomandenmas") are split into the words of a request, and real words
/// the lexicon does not know stay whole: checked on the shipped lexicons, and on a small one for the rules.
@Suite struct GluedWordsTests {
    @Test(arguments: [
        ("nomandenmas", "es", "no manden mas"), ("yanomemandenmasmensajes", "es", "ya no me manden mas mensajes"),
        ("pleasestoptexting", "en", "please stop texting"),
    ])
    func aRequestWrittenWithNoSpacesIsRead(text: String, language: String, words: String) throws {
        let reading = try Shipped.lexicons.classify(text, language: language)
        #expect(reading.intents.contains(.optOut), "\(reading.explain)")
        #expect(reading.explain.contains("read '\(text)' as '\(words)' (words written with no spaces)"), "\(reading.explain)")
    }

    /// Real words made of shorter ones: "after no on" would put a negator where there is none, "alto
    /// get her" a keyword; a verb and its pronouns ("salirnos") is one word.
    @Test(arguments: [
        ("afternoon", "en"), ("altogether", "en"), ("expediente", "es"), ("resolución", "es"), ("estudiante", "es"),
        ("salirnos", "es"), ("seguirlo", "es"), ("paralelo", "es"), ("separarme", "es"), ("escribiéndome", "es"),
    ])
    func realWordsStayWhole(_ word: String, _ language: String) throws {
        let lexicon = try #require(Shipped.lexicons.byLanguage[language])
        #expect(lexicon.glued.split(ReplyText.fold(word)) == nil)
        let reading = try Shipped.lexicons.classify("\(word) por favor", language: language)
        #expect(!reading.explain.contains { $0.hasPrefix("read '") }, "\(reading.explain)")
    }

    @Test func theRules() throws {
        let text = """
            language: es
            negators: [no]
            clitics: [me, lo]
            filler: [ya]
            asks_to_stop: ["dejen", "mas", "no manden"]
            names_sms: ["mensajes"]
            intents:
              opt_out:
                - {phrase: "no manden", negatable: false}
              paid:
                - "seguir pagando"
            """
        let (findings, lexicons) = ReplyLexiconFile.lexicons(files: ["es.yml": Data(text.utf8)])
        #expect(findings.isEmpty, "\(findings)")
        let glued = try #require(lexicons?.byLanguage["es"]).glued
        #expect(glued.split("nomandenmas") == ["no", "manden", "mas"])
        #expect(glued.split("yanomemandenmensajes") == ["ya", "no", "me", "manden", "mensajes"])
        #expect(glued.split("nomanden") == ["no", "manden"], "eight letters: the shortest split")
        #expect(glued.split("nomande") == nil, "seven letters stay whole")
        #expect(glued.split("losmandenmas") == nil, "it must begin with a negator, a filler word or an asks_to_stop word")
        #expect(glued.split("dejenmelo") == nil, "a word and its pronouns stay whole")
        #expect(glued.split("seguirpagandolo") == nil, "seguir and pagando are not words a request to stop is made of")
        #expect(glued.split("pagandolos") == nil)
    }
}
