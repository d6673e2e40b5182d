import Foundation
import Testing
@testable import Replies

@Suite struct LexiconFileTests {
    static let minimal = """
        language: es
        negators: [no]
        intents:
          opt_out:
            - "ya no me escriban"
        words:
          malo: -2.5
        """

    func lint(_ text: String, file: String = "es.yml") -> [String] {
        ReplyLexiconFile.lexicons(files: [file: Data(text.utf8)]).findings.map(\.description)
    }

    @Test func aCleanFileLoads() {
        let (findings, lexicons) = ReplyLexiconFile.lexicons(files: ["es.yml": Data(Self.minimal.utf8)])
        #expect(findings.isEmpty)
        #expect(lexicons?.byLanguage["es"]?.intents[.optOut]?.count == 1)
    }

    @Test func markerLettersLoadAndAreLinted() {
        let (findings, lexicons) = ReplyLexiconFile.lexicons(files: ["es.yml": Data((Self.minimal + "\nmarker_letters: \"ñá¿\"").utf8)])
        #expect(findings.isEmpty, "\(findings)")
        #expect(lexicons?.byLanguage["es"]?.markerLetters == ["ñ", "á", "¿"])
        #expect(lint(Self.minimal + "\nmarker_letters: \"1 2\"").contains { $0.contains("marker_letters must be a string of letters") })
    }

    @Test func wishesNotWithinAndNamesLoad() {
        let text = """
            language: en
            negators: [dont]
            wishes: [want]
            intents:
              opt_out:
                - {phrase: "dont ... want ... texts", not_within: [stop]}
              wrong_number:
                - "am not <name>"
            """
        let (findings, lexicons) = ReplyLexiconFile.lexicons(files: ["en.yml": Data(text.utf8)])
        #expect(findings.isEmpty, "\(findings)")
        let lexicon = lexicons?.byLanguage["en"]
        #expect(lexicon?.wishes == ["want"])
        #expect(lexicon?.intents[.optOut]?.first?.notWithin.map(\.text) == ["stop"])
        #expect(lexicon?.intents[.wrongNumber]?.first?.phrase.description == "am not <name>")
        guard let lexicon else { return }
        #expect(ReplyClassifier.classify("I dont want to stop the texts", lexicon: lexicon).intents.isEmpty)
        #expect(ReplyClassifier.classify("I dont want your texts", lexicon: lexicon).intents == [.optOut])
        #expect(ReplyClassifier.classify("I am not Derek", lexicon: lexicon).intents == [.wrongNumber])
    }

    @Test func aWordWithALetterThreeTimesIsAFinding() {
        let findings = lint("""
            language: en
            intents:
              opt_out:
                - "report to bbb"
            """, file: "en.yml")
        #expect(findings.contains { $0.contains("\"bbb\"") && $0.contains("write \"bb\"") }, "\(findings)")
    }

    /// "dont|do not" is "dont not" or "do not": a contraction and its spelled-out form as alternatives
    /// of one word never match the contraction alone (eight such phrases once sat in en.yml unnoticed).
    @Test func aContractionBesideItsLongFormIsAFinding() {
        let findings = lint("""
            language: en
            intents:
              opt_out:
                - "i dont|do not want texts"
                - "does|do|did not text me"
                - "doesnt|dont speak for me"
            """, file: "en.yml")
        #expect(findings.count == 1, "\(findings)")
        #expect(findings.first?.contains("never \"dont\" alone") == true, "\(findings)")
        #expect(findings.first?.contains("write \"dont ...\" and \"do not ...\" as two phrases") == true, "\(findings)")
    }

    @Test func findingsNameTheFileTheLineAndTheFix() {
        let text = """
            language: es
            negatorz: [no]
            intents:
              opt_out:
                - "ya no me escriban"
                - "YA NO me escriban"
                - ""
                - {phrase: "stop", whole: maybe, colour: red}
                - "a|"
                - "no-more"
              hapiness:
                - "feliz"
            words:
              malo: -7
              bueno: mucho
            """
        let findings = lint(text)
        #expect(findings.contains { $0.hasPrefix("es.yml:2: unknown key \"negatorz\"") }, "\(findings)")
        #expect(findings.contains { $0.hasPrefix("es.yml:6: opt_out: \"YA NO me escriban\" repeats the phrase on line 5") }, "\(findings)")
        #expect(findings.contains { $0.hasPrefix("es.yml:7: opt_out #3: empty phrase") }, "\(findings)")
        #expect(findings.contains { $0.hasPrefix("es.yml:8: opt_out #4 whole must be true or false") }, "\(findings)")
        #expect(findings.contains { $0.hasPrefix("es.yml:8: opt_out #4: unknown key \"colour\"") }, "\(findings)")
        #expect(findings.contains { $0.hasPrefix("es.yml:9: opt_out #5: \"a|\" has an empty alternative") }, "\(findings)")
        #expect(findings.contains { $0.hasPrefix("es.yml:10: opt_out #6: \"no-more\" has \"no-more\"") }, "\(findings)")
        #expect(findings.contains { $0.hasPrefix("es.yml:11: intents: unknown intent \"hapiness\"") }, "\(findings)")
        #expect(findings.contains { $0.hasPrefix("es.yml:14: words.malo is -7; it must be between -4.0 and 4.0") }, "\(findings)")
        #expect(findings.contains { $0.hasPrefix("es.yml:15: words.bueno must be a number") }, "\(findings)")
    }

    @Test func theLanguageMustMatchTheFileName() {
        #expect(lint(Self.minimal, file: "en.yml").contains { $0.contains("language is \"es\" but the file is en.yml") })
    }

    @Test func notYAMLIsAFinding() {
        #expect(lint("language: [es").first?.contains("not valid YAML") == true)
    }

    /// A key written twice names the key and the line, without Yams's copy of the whole mapping (for a
    /// rule's keys, the whole file).
    @Test func aKeyWrittenTwiceIsNamedInOneLine() throws {
        let filler = (1...200).map { "# a comment line \($0)" }.joined(separator: "\n")
        let findings = lint(filler + "\nlanguage: es\nintents:\n  opt_out:\n    - {phrase: \"baja\", not_within: [a], not_within: [b]}\n")
        let finding = try #require(findings.first)
        #expect(finding.contains("not valid YAML: a key is written twice in the mapping at line 204") && finding.contains("'not_within'; keep one"), "\(finding)")
        #expect(finding.count < 200 && !finding.contains("a comment line"), "\(finding)")
    }

    @Test func theStoreKeepsTheLastGoodSetAndSaysWhy() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("replies-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let file = directory + "/es.yml"
        try Self.minimal.write(toFile: file, atomically: true, encoding: .utf8)
        let store = try RepliesStore(directory: directory)
        #expect(try store.current.classify("ya no me escriban").intents == [.optOut])
        #expect(store.reloadIfChanged() == .unchanged)

        try (Self.minimal + "\n  bueno: 9\n").write(toFile: file, atomically: true, encoding: .utf8)
        guard case .rejected(let errors) = store.reloadIfChanged() else { Issue.record("a bad edit was not refused"); return }
        #expect(errors.contains { $0.contains("words.bueno is 9") })
        #expect(store.currentStatus.rejectedErrors == errors)
        #expect(try store.current.classify("ya no me escriban").intents == [.optOut])

        try Self.minimal.replacingOccurrences(of: "ya no me escriban", with: "no mas").write(toFile: file, atomically: true, encoding: .utf8)
        #expect(store.reloadIfChanged() == .reloaded)
        #expect(store.currentStatus.rejectedAt == nil)
        #expect(try store.current.classify("no más").intents == [.optOut])
        #expect(try store.current.classify("ya no me escriban").intents == [])
    }

    @Test func aStoreThatCannotStartSaysEveryFinding() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("replies-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "language: es\nwords: {malo: x}\n".write(toFile: directory + "/es.yml", atomically: true, encoding: .utf8)
        #expect(throws: ReplyError.self) { try RepliesStore(directory: directory) }
    }
}
