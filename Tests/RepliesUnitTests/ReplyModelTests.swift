import Foundation
import Testing
import TestSupport
@testable import Replies

/// The learned part of reply understanding: its file, how it joins the phrase rules, and that the
/// shipped weights are what the training script makes from the labeled set.
@Suite struct ReplyModelTests {
    static let columns = ReplyModel.outputs.count

    /// A model with one feature that pushes `output` up.
    static func model(_ feature: String, _ output: ReplyModel.Output, weight: Float = 40, threshold: Double = 0.5) -> ReplyModel {
        var row = [Float](repeating: 0, count: columns)
        row[ReplyModel.outputs.firstIndex(of: output)!] = weight
        var bias = [Float](repeating: -4, count: columns)
        // Labels: neutral is the model's default, so a feature decides only when it outweighs it.
        bias[ReplyModel.outputs.firstIndex(of: .label(.neutral))!] = 0
        return ReplyModel(weights: [feature: row], bias: bias, thresholds: Dictionary(uniqueKeysWithValues: ReplyIntent.allCases.map { ($0, threshold) }))
    }

    static func lexicons(_ model: ReplyModel) -> ReplyLexicons {
        var lexicons = Shipped.lexicons
        lexicons.model = model
        return lexicons
    }

    @Test func theModelAddsAnIntentThePhrasesMissAndNamesTheWordsThatWeighed() throws {
        let text = "zorpen ustedes con sus cosas, ya no"
        #expect(!Shipped.lexicons.withoutModel.classify(text, "es").intents.contains(.optOut))
        let reading = try Self.lexicons(Self.model("w:zorpen", .intent(.optOut))).classify(text, language: "es")
        #expect(reading.intents.contains(.optOut))
        let line = try #require(reading.explain.first { $0.hasPrefix("opt_out: model") })
        #expect(line.contains("'zorpen'") && line.contains("[model.tsv]"), "\(line)")
    }

    /// Texts said to be welcome hold back the model's opt-out only in the sentence it read it from
    /// (commas do not end it: "no me llamen al trabajo, mejor por mensaje"): a missed opt-out costs
    /// more than a needless one.
    @Test func aWelcomeHoldsBackTheModelsOptOutOnlyInItsOwnSentence() throws {
        let lexicons = Self.lexicons(Self.model("w:zorpen", .intent(.optOut)))
        let same = try lexicons.classify("zorpen las llamadas mejor por mensaje", language: "es")
        #expect(!same.intents.contains(.optOut), "\(same.explain)")
        #expect(same.explain.contains { $0.hasPrefix("not opt_out: model") && $0.contains("in the same sentence") }, "\(same.explain)")
        let comma = try lexicons.classify("ya no más zorpen por favor, mejor escríbanme", language: "es")
        #expect(!comma.intents.contains(.optOut), "\(comma.explain)")
        let apart = try lexicons.classify("antes mejor por mensaje. ahora zorpen, dejen", language: "es")
        #expect(apart.intents.contains(.optOut), "\(apart.explain)")
    }

    /// A question about who writes asks for information: the model's opt-out read from it is held back,
    /// not one read from another sentence.
    @Test func aQuestionAboutWhoWritesHoldsBackTheModelsOptOut() throws {
        let lexicons = Self.lexicons(Self.model("w:zorpen", .intent(.optOut)))
        let who = try lexicons.classify("who keeps zorpen me from this number?", language: "en")
        #expect(!who.intents.contains(.optOut), "\(who.explain)")
        #expect(who.explain.contains { $0.hasPrefix("not opt_out: model") && $0.contains("asks who writes") }, "\(who.explain)")
        let quien = try lexicons.classify("¿quién me escribe tanto zorpen de este número?", language: "es")
        #expect(!quien.intents.contains(.optOut), "\(quien.explain)")
        let apart = try lexicons.classify("¿quién me escribe de este número? ya no zorpen.", language: "es")
        #expect(apart.intents.contains(.optOut), "\(apart.explain)")
    }

    /// A sentence that tells the messages stopped (retold.honored: "ya no me mandaron", "the texts
    /// stopped") is a past fact: the model's opt-out read from it is held back, not one read from
    /// another sentence.
    @Test func messagesToldToHaveStoppedHoldBackTheModelsOptOut() throws {
        let lexicons = Self.lexicons(Self.model("w:zorpen", .intent(.optOut)))
        let told = try lexicons.classify("ya no me mandaron zorpen desde que pagué", language: "es")
        #expect(!told.intents.contains(.optOut), "\(told.explain)")
        #expect(told.explain.contains { $0.hasPrefix("not opt_out: model") && $0.contains("tells that the messages stopped") }, "\(told.explain)")
        let english = try lexicons.classify("the texts stopped, zorpen, thanks", language: "en")
        #expect(!english.intents.contains(.optOut), "\(english.explain)")
        let apart = try lexicons.classify("ya no me mandaron nada. ahora zorpen, dejen", language: "es")
        #expect(apart.intents.contains(.optOut), "\(apart.explain)")
        // Wished for, it is the request itself.
        let wished = try lexicons.classify("I wish to no longer get zorpen from you", language: "en")
        #expect(wished.intents.contains(.optOut), "\(wished.explain)")
    }

    /// The model reads an opt-out or a cease_contact only into a reply with a word that asks for
    /// something to stop (es.yml / en.yml asks_to_stop): a complaint ("ya van 5 mensajes hoy") or a
    /// threat on a condition ("one more text and I'm suing") asks for nothing.
    @Test func withoutAWordThatAsksToStopTheModelReadsNoOptOutOrCease() throws {
        for intent in [ReplyIntent.optOut, .ceaseContact] {
            let lexicons = Self.lexicons(Self.model("w:zorpen", .intent(intent)))
            for (text, language) in [("ya van 5 zorpen hoy", "es"), ("one more zorpen and I'm suing", "en")] {
                let complaint = try lexicons.classify(text, language: language)
                #expect(!complaint.intents.contains(intent) && !complaint.intents.contains(.optOut), "\(complaint.explain)")
                #expect(complaint.explain.contains { $0.hasPrefix("not \(intent.rawValue): model") && $0.contains("asks_to_stop") }, "\(complaint.explain)")
            }
            for (text, language) in [("ya van 5 zorpen hoy, bórrenme", "es"), ("zorpen, dont want them", "en")] {
                let asked = try lexicons.classify(text, language: language)
                #expect(asked.intents.contains(intent) && asked.intents.contains(.optOut), "\(asked.explain)")
            }
        }
        // Without the list (a lexicon that has none) the model is not held back.
        var lexicons = Self.lexicons(Self.model("w:zorpen", .intent(.optOut)))
        lexicons.byLanguage["es"]?.asksToStop = []
        #expect(try lexicons.classify("ya van 5 zorpen hoy", language: "es").intents.contains(.optOut))
    }

    /// A reply the phrases read as asking for the messages again is no revocation, whatever the model reads.
    @Test func anOptInHoldsBackTheModelsOptOut() throws {
        let lexicons = Self.lexicons(Self.model("w:zorpen", .intent(.optOut)))
        let back = try lexicons.classify("zorpen, please resume texts to this number", language: "en")
        #expect(back.intents.contains(.optIn) && !back.intents.contains(.optOut), "\(back.explain)")
        #expect(back.explain.contains { $0.hasPrefix("not opt_out: model") && $0.contains("opt_in") }, "\(back.explain)")
        let plain = try lexicons.classify("zorpen, this number, done", language: "en")
        #expect(plain.intents.contains(.optOut), "\(plain.explain)")
    }

    @Test func belowItsThresholdTheModelAddsNothing() throws {
        let reading = try Self.lexicons(Self.model("w:zorpen", .intent(.dispute), weight: 8, threshold: 0.99)).classify("zorpen", language: "es")
        #expect(!reading.intents.contains(.dispute))
    }

    @Test func aPhraseAGuardRefusedIsNotReadBackInByTheModel() throws {
        // "cancelar" followed by "deuda" is paying off, refused as opt_out by es.yml: the model may not overrule it.
        let text = "quiero cancelar la deuda"
        let reading = try Self.lexicons(Self.model("w:deuda", .intent(.optOut))).classify(text, language: "es")
        #expect(!reading.intents.contains(.optOut), "\(reading.explain)")
        #expect(reading.explain.contains { $0.hasPrefix("not opt_out:") })
    }

    @Test func aKeywordThatOnlyCountsAloneDoesNotStopTheModel() throws {
        // "quit" is an opt-out as the whole reply; here it is not alone, which says nothing about its sense.
        let reading = try Self.lexicons(Self.model("w:zorpen", .intent(.optOut))).classify("quit zorpen my phone", language: "en")
        #expect(reading.intents.contains(.optOut), "\(reading.explain)")
        #expect(try !Shipped.lexicons.withoutModel.classify("quit zorpen my phone", language: "en").intents.contains(.optOut))
    }

    @Test func aPromiseNeedsADateOrAnAmountEvenFromTheModel() throws {
        let model = Self.model("w:zorpen", .intent(.promiseToPay))
        #expect(try !Self.lexicons(model).classify("zorpen", language: "es").intents.contains(.promiseToPay))
        #expect(try Self.lexicons(model).classify("zorpen el viernes", language: "es").intents.contains(.promiseToPay))
    }

    @Test func theModelDecidesTheLabelOnlyWhenNoPhraseDid() throws {
        let lexicons = Self.lexicons(Self.model("w:zorpen", .label(.upset)))
        // No cue: the rules fall back to neutral, and the model's upset stands, explained.
        let plain = try lexicons.classify("zorpen", language: "es")
        #expect(plain.label == .upset)
        #expect(plain.explain.contains { $0.hasPrefix("label upset: model") && $0.contains("'zorpen'") })
        #expect(!plain.explain.contains { $0.hasPrefix("label neutral") })
        // A promise decides willing by its phrase; the model does not overrule it.
        let promise = try lexicons.classify("zorpen, le pago el viernes", language: "es")
        #expect(promise.label == .willing)
    }

    @Test func featuresAreWordsPairsTriplesAndLetterGroupsWithinAClause() {
        let names = Set(ReplyModel.features(ReplyText.tokenize("No me escrivan, gracias")).map(\.name))
        for expected in ["w:no", "b:no me", "t:no me escrivan", "c:<es", "c:ivan>", "w:gracias"] {
            #expect(names.contains(expected), "\(expected) in \(names.sorted())")
        }
        // The comma ends the clause: no pair across it.
        #expect(!names.contains("b:escrivan gracias"))
    }

    @Test func aWeightsFileRoundTripsAndLintNamesEachBadLine() throws {
        let model = Self.model("w:zorpen", .intent(.optOut), weight: 1.25)
        let parsed = ReplyModel.parse(model.serialized())
        #expect(parsed.findings.isEmpty)
        #expect(parsed.model?.weights == model.weights)
        #expect(parsed.model?.thresholds == model.thresholds)

        let good = String(decoding: model.serialized(), as: UTF8.self)
        let bad = good + "w:otra\t1 2 3\nq:rara\t" + Array(repeating: "0", count: Self.columns).joined(separator: " ") + "\n"
            + "w:zorpen\t" + Array(repeating: "0", count: Self.columns).joined(separator: " ") + "\nthreshold\topt_out=2\n"
        let findings = ReplyModel.parse(Data(bad.utf8)).findings.map(\.description)
        #expect(findings.count == 4, "\(findings)")
        #expect(findings.contains { $0.contains("model.tsv") && $0.contains("needs \(Self.columns) finite numbers") })
        #expect(findings.contains { $0.contains("must start with w:, b:, t: or c:") })
        #expect(findings.contains { $0.contains("appears twice") })
        #expect(findings.contains { $0.contains("opt_out=2") })
        #expect(ReplyModel.parse(Data("# nothing\n".utf8)).findings.map(\.message) == ["no bias line; train it again with scripts/train-replies"])
    }

    @Test func aBadWeightsFileIsRefusedAndTheLastGoodSetStaysInService() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(LexiconFileTests.minimal.utf8).write(to: folder.appendingPathComponent("es.yml"))
        try Self.model("w:zorpen", .intent(.optOut)).serialized().write(to: folder.appendingPathComponent("model.tsv"))
        let store = try RepliesStore(directory: folder.path)
        #expect(try store.current.classify("zorpen", language: "es").intents == [.optOut])
        try Data("outputs\tnot the outputs\n".utf8).write(to: folder.appendingPathComponent("model.tsv"))
        guard case .rejected(let problems) = store.reloadIfChanged() else { Issue.record("a bad model.tsv was not refused"); return }
        #expect(problems.contains { $0.contains("model.tsv") })
        #expect(try store.current.classify("zorpen", language: "es").intents == [.optOut])
    }

    @Test func trainingLearnsWhatTheExamplesShareAndIsTheSameEveryTime() throws {
        // Invented words, so nothing in the lexicons knows them: only training can.
        var examples: [ReplyModelTrainer.Example] = []
        let fillers = ["hola", "buenas", "mire", "oiga", "pues", "bueno", "vea", "ey"]
        for (index, filler) in fillers.enumerated() {
            examples.append(.init(text: "\(filler) zorpen ya", language: "es", label: .upset, intents: [.optOut]))
            examples.append(.init(text: "\(filler) blimo \(index)", language: "es", label: .neutral, intents: []))
            examples.append(.init(text: "\(filler) quandro el banco", language: "es", label: .worried, intents: [.hardship]))
        }
        var settings = ReplyModelTrainer.Settings()
        settings.folds = 0
        let model = try ReplyModelTrainer.train(examples, lexicons: Shipped.lexicons, settings: settings)
        let again = try ReplyModelTrainer.train(examples, lexicons: Shipped.lexicons, settings: settings)
        let same = model.serialized() == again.serialized()
        #expect(same)
        let reading = model.read(ReplyText.tokenize("zorpen"))
        #expect(reading.probability[.intent(.optOut)]! > 0.5)
        #expect(reading.probability[.intent(.hardship)]! < 0.5)
        #expect(model.read(ReplyText.tokenize("quandro")).probability[.intent(.hardship)]! > 0.5)
    }
}

extension ReplyLexicons {
    var withoutModel: ReplyLexicons {
        var copy = self
        copy.model = nil
        return copy
    }

    func classify(_ text: String, _ language: String?) -> ReplyUnderstanding {
        do { return try classify(text, language: language) } catch { fatalError("\(error)") }
    }
}
