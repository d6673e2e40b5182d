import Foundation
import Testing
import TestSupport
@testable import Replies

/// Figures on the project's labeled replies (Tests/Fixtures/replies/labeled.jsonl), on all of it and
/// on its "test" split, which the lexicons were not tuned on. The floors are what the shipped
/// lexicons reach; the issue's targets are in the README with the figures.
@Suite struct LabeledSetEvaluationTests {
    struct Example {
        var text: String
        var language: String?
        var label: ReplyLabel
        var intents: Set<ReplyIntent>
        var split: String
    }

    struct Figures: CustomStringConvertible {
        var total = 0
        var correct = 0
        var byLanguage: [String: (correct: Int, total: Int)] = [:]
        var confusion: [ReplyLabel: [ReplyLabel: Int]] = [:]
        var intentCounts: [ReplyIntent: (tp: Int, fp: Int, fn: Int)] = [:]
        var misses: [String] = []

        var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }

        func recall(_ label: ReplyLabel) -> Double {
            let row = confusion[label] ?? [:]
            let all = row.values.reduce(0, +)
            return all == 0 ? 1 : Double(row[label] ?? 0) / Double(all)
        }

        func precision(_ intent: ReplyIntent) -> Double {
            let c = intentCounts[intent] ?? (0, 0, 0)
            return c.tp + c.fp == 0 ? 1 : Double(c.tp) / Double(c.tp + c.fp)
        }

        func recall(_ intent: ReplyIntent) -> Double {
            let c = intentCounts[intent] ?? (0, 0, 0)
            return c.tp + c.fn == 0 ? 1 : Double(c.tp) / Double(c.tp + c.fn)
        }

        static func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }

        var description: String {
            var lines = ["label accuracy \(Self.percent(accuracy)) (\(correct)/\(total))"]
            for (language, counts) in byLanguage.sorted(by: { $0.key < $1.key }) {
                lines.append("  \(language): \(Self.percent(Double(counts.correct) / Double(max(counts.total, 1)))) (\(counts.correct)/\(counts.total))")
            }
            lines.append("confusion (rows: expected; columns: upset worried neutral willing)")
            for label in ReplyLabel.allCases {
                let row = ReplyLabel.allCases.map { String(format: "%4d", confusion[label]?[$0] ?? 0) }.joined(separator: " ")
                lines.append("  \(label.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(row)   recall \(Self.percent(recall(label)))")
            }
            lines.append("intent              precision  recall   (tp/fp/fn)")
            for intent in ReplyIntent.allCases {
                let c = intentCounts[intent] ?? (0, 0, 0)
                lines.append("  \(intent.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) \(Self.percent(precision(intent)).padding(toLength: 10, withPad: " ", startingAt: 0)) \(Self.percent(recall(intent)).padding(toLength: 8, withPad: " ", startingAt: 0)) (\(c.tp)/\(c.fp)/\(c.fn))")
            }
            return lines.joined(separator: "\n")
        }
    }

    static let path = Shipped.repository + "/Tests/Fixtures/replies/labeled.jsonl"

    static func examples() throws -> [Example]? {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else { return nil }
        var result: [Example] = []
        for (number, line) in text.split(separator: "\n").enumerated() where !line.allSatisfy(\.isWhitespace) {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let reply = object["text"] as? String,
                  let label = (object["label"] as? String).flatMap(ReplyLabel.init(rawValue:)) else {
                Issue.record("labeled.jsonl line \(number + 1) has no text or a label that is not upset, worried, neutral or willing")
                continue
            }
            var intents: Set<ReplyIntent> = []
            for name in object["intents"] as? [String] ?? [] {
                guard let intent = ReplyIntent(rawValue: name) else { Issue.record("labeled.jsonl line \(number + 1): unknown intent \(name)"); continue }
                intents.insert(intent)
            }
            result.append(Example(text: reply, language: object["lang"] as? String, label: label, intents: intents, split: object["split"] as? String ?? "train"))
        }
        return result
    }

    /// Each reply is classified once; the figures for a split are read from the same results.
    static func classify(_ examples: [Example]) -> [ReplyUnderstanding] {
        examples.map { Shipped.classify($0.text, $0.language) }
    }

    static func evaluate(_ examples: [Example], _ results: [ReplyUnderstanding]) -> Figures {
        var figures = Figures()
        for (example, result) in zip(examples, results) {
            figures.total += 1
            let language = example.language ?? result.language
            var counts = figures.byLanguage[language] ?? (0, 0)
            counts.total += 1
            if result.label == example.label {
                figures.correct += 1
                counts.correct += 1
            } else {
                figures.misses.append("label \(example.label.rawValue) -> \(result.label.rawValue): \(example.text)")
            }
            figures.byLanguage[language] = counts
            figures.confusion[example.label, default: [:]][result.label, default: 0] += 1
            let found = Set(result.intents)
            for intent in ReplyIntent.allCases {
                var c = figures.intentCounts[intent] ?? (0, 0, 0)
                switch (example.intents.contains(intent), found.contains(intent)) {
                case (true, true): c.tp += 1
                case (false, true): c.fp += 1; figures.misses.append("extra \(intent.rawValue): \(example.text)")
                case (true, false): c.fn += 1; figures.misses.append("missed \(intent.rawValue): \(example.text)")
                case (false, false): break
                }
                figures.intentCounts[intent] = c
            }
        }
        return figures
    }

    /// Webhooks bring no language: guessed from the words, a Spanish reply must not reach the English
    /// lexicon (its opt-outs would be missed), and few replies may be guessed wrong at all.
    @Test func theLanguageIsGuessedFromTheWords() throws {
        guard let examples = try Self.examples() else { return }
        var wrong: [String: Int] = [:]
        for example in examples {
            guard let language = example.language else { continue }
            let guessed = try Shipped.lexicons.language(for: nil, text: example.text)
            if guessed != language { wrong["\(language)->\(guessed)", default: 0] += 1 }
        }
        print("language guessed wrong: \(wrong.sorted { $0.key < $1.key }) of \(examples.count)")
        #expect(Double(wrong.values.reduce(0, +)) <= 0.015 * Double(examples.count), "\(wrong)")
        #expect(Double(wrong["es->en", default: 0]) <= 0.001 * Double(examples.count), "\(wrong)")
    }

    @Test func figuresOnTheLabeledSet() async throws {
        guard let examples = try Self.examples() else {
            print("no \(Self.path): nothing to measure")
            return
        }
        // Hundreds of replies classified: off Swift's cooperative pool (see offThePool).
        let (all, test) = try await offThePool {
            let results = Self.classify(examples)
            let held = zip(examples, results).filter { $0.0.split == "test" }
            return (Self.evaluate(examples, results), Self.evaluate(held.map(\.0), held.map(\.1)))
        }
        print("ALL (\(examples.count) replies)\n\(all)\n\nTEST SPLIT (\(test.total) replies)\n\(test)")
        if ProcessInfo.processInfo.environment["REPLIES_SHOW_MISSES"] != nil {
            print(all.misses.joined(separator: "\n"))
        }
        // Floors: what the shipped lexicons reach (README, Replies), so a lexicon edit that loses ground fails here.
        #expect(all.accuracy >= Floors.accuracy, "\(all)")
        #expect(all.precision(.optOut) >= Floors.optOutPrecision && all.recall(.optOut) >= Floors.optOutRecall, "\(all)")
        for intent in [ReplyIntent.dispute, .lawyer, .bankruptcy] {
            #expect(all.recall(intent) >= Floors.legalRecall, "\(intent.rawValue)\n\(all)")
        }
        #expect(test.accuracy >= Floors.testAccuracy, "\(test)")
        #expect(test.recall(.optOut) >= Floors.testOptOutRecall && test.precision(.optOut) >= Floors.testOptOutPrecision, "\(test)")
        for intent in [ReplyIntent.dispute, .lawyer, .bankruptcy] {
            #expect(test.recall(intent) >= Floors.testLegalRecall, "\(intent.rawValue)\n\(test)")
        }
    }

    enum Floors {
        // All replies mix in the test split (37% of them, read at about 87%), so this drifts down as fresh
        // test batches are added without any reading getting worse; the test split has its own floor.
        static let accuracy = 0.895
        static let optOutPrecision = 0.97
        static let optOutRecall = 0.98
        static let legalRecall = 0.97
        static let testAccuracy = 0.86
        // The issue's targets: opt-out precision and recall 97%, dispute, lawyer and bankruptcy recall 95%.
        static let testOptOutRecall = 0.97
        static let testOptOutPrecision = 0.97
        static let testLegalRecall = 0.95
    }
}
