import Foundation

/// Trains `ReplyModel` on labeled replies: logistic regression per output by stochastic gradient
/// descent, in a fixed order drawn from a seed, so the same data gives the same weights. Pure.
public enum ReplyModelTrainer {
    public struct Example: Sendable {
        public var text: String
        public var language: String?
        public var label: ReplyLabel
        public var intents: Set<ReplyIntent>

        public init(text: String, language: String?, label: ReplyLabel, intents: Set<ReplyIntent>) {
            self.text = text
            self.language = language
            self.label = label
            self.intents = intents
        }
    }

    public struct Settings: Sendable, Equatable {
        // Chosen by out-of-fold figures on the train split (`gateway replies train --cross-validate`).
        public var epochs = 30
        public var rate = 2.0
        public var l2 = 1e-5
        /// A feature must appear in this many replies to get a weight.
        public var minCount = 2
        /// Weights smaller than this (for every output) are dropped from the file.
        public var prune: Float = 0.002
        public var seed: UInt64 = 20261130
        /// Folds for choosing each intent's threshold on replies the fold's model did not see; 0 keeps 0.5.
        public var folds = 5

        public init() {}
    }

    /// The tokens the model reads, as the classifier makes them (the customer's own words, abbreviations spelled out).
    static func tokens(_ example: Example, lexicons: ReplyLexicons) throws(ReplyError) -> [ReplyToken] {
        let language = try lexicons.language(for: example.language, text: example.text)
        return ReplyClassifier.tokens(ReplyText.withoutQuotedText(example.text), lexicon: lexicons.byLanguage[language]!)
    }

    public static func train(_ examples: [Example], lexicons: ReplyLexicons, settings: Settings = Settings(),
                             about: [String] = []) throws(ReplyError) -> ReplyModel {
        guard !examples.isEmpty else { throw ReplyError(code: "no_examples", message: "no labeled replies to train on") }
        var featureLists: [[String]] = []
        for example in examples { featureLists.append(ReplyModel.features(try tokens(example, lexicons: lexicons)).map(\.name)) }
        let targets = examples.map(Self.targets)
        var model = fit(featureLists, targets, settings: settings)
        var thresholds: [ReplyIntent: Double] = Dictionary(uniqueKeysWithValues: ReplyIntent.allCases.map { ($0, 0.5) })
        if settings.folds >= 2, examples.count >= settings.folds * 4 {
            thresholds = chooseThresholds(outOfFold(featureLists, targets, settings: settings), targets)
        }
        model.thresholds = thresholds
        model.about = about
        return model
    }

    /// Out-of-fold figures of the model alone (each reply read by a model trained on the other folds):
    /// label accuracy, then per intent precision and recall at its threshold. For choosing settings
    /// without looking at the test split.
    public static func crossValidate(_ examples: [Example], lexicons: ReplyLexicons, settings: Settings = Settings()) throws(ReplyError) -> [String] {
        var featureLists: [[String]] = []
        for example in examples { featureLists.append(ReplyModel.features(try tokens(example, lexicons: lexicons)).map(\.name)) }
        let targets = examples.map(Self.targets)
        let predicted = outOfFold(featureLists, targets, settings: settings)
        let thresholds = chooseThresholds(predicted, targets)
        let labelColumns = ReplyModel.outputs.indices.filter { if case .label = ReplyModel.outputs[$0] { true } else { false } }
        let right = examples.indices.filter { item in
            let best = labelColumns.max { predicted[item][$0] < predicted[item][$1] }!
            return targets[item][best] == 1
        }.count
        var lines = [String(format: "label accuracy %.1f%% (out of fold, %d replies)", 100 * Double(right) / Double(examples.count), examples.count)]
        for (column, output) in ReplyModel.outputs.enumerated() {
            guard case .intent(let intent) = output else { continue }
            let threshold = thresholds[intent] ?? 0.5
            let flagged = examples.indices.filter { predicted[$0][column] >= threshold }
            let tp = flagged.filter { targets[$0][column] == 1 }.count
            let positives = examples.indices.filter { targets[$0][column] == 1 }.count
            lines.append(String(format: "%@ threshold %.2f precision %.1f%% recall %.1f%%", intent.rawValue, threshold,
                                100 * Double(tp) / Double(max(flagged.count, 1)), 100 * Double(tp) / Double(max(positives, 1))))
        }
        return lines
    }

    static func targets(_ example: Example) -> [Float] {
        ReplyModel.outputs.map { output in
            switch output {
            case .intent(let intent): example.intents.contains(intent) ? 1 : 0
            case .label(let label): example.label == label ? 1 : 0
            }
        }
    }

    /// SplitMix64: a small seeded generator, the same on every machine.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func fit(_ featureLists: [[String]], _ targets: [[Float]], settings: Settings) -> ReplyModel {
        let outputs = ReplyModel.outputs.count
        var counts: [String: Int] = [:]
        for list in featureLists { for name in list { counts[name, default: 0] += 1 } }
        let vocabulary = counts.filter { $0.value >= settings.minCount }.keys.sorted()
        let index = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($0.element, $0.offset) })
        let encoded: [(features: [Int], value: Float)] = featureLists.map { list in
            (list.compactMap { index[$0] }, ReplyModel.value(count: list.count))
        }
        var weights = [Float](repeating: 0, count: vocabulary.count * outputs)
        var bias = [Float](repeating: 0, count: outputs)
        var generator = Generator(state: settings.seed)
        var order = Array(encoded.indices)
        var gradient = [Float](repeating: 0, count: outputs)
        weights.withUnsafeMutableBufferPointer { w in
            for epoch in 0..<settings.epochs {
                order.shuffle(using: &generator)
                let rate = Float(settings.rate / (1 + Double(epoch) * 0.2))
                let decay = Float(settings.l2)
                for item in order {
                    let (features, value) = encoded[item]
                    let target = targets[item]
                    for output in 0..<outputs {
                        var z = bias[output]
                        for feature in features { z += w[feature * outputs + output] * value }
                        gradient[output] = 1 / (1 + exp(-z)) - target[output]
                    }
                    for output in 0..<outputs {
                        let g = gradient[output]
                        bias[output] -= rate * g
                        for feature in features {
                            let at = feature * outputs + output
                            w[at] -= rate * (g * value + decay * w[at])
                        }
                    }
                }
            }
        }
        var kept: [String: [Float]] = [:]
        for (position, name) in vocabulary.enumerated() {
            let row = Array(weights[(position * outputs)..<((position + 1) * outputs)])
            if row.contains(where: { abs($0) >= settings.prune }) { kept[name] = row }
        }
        return ReplyModel(weights: kept, bias: bias, thresholds: [:])
    }

    /// The precision the model's additions must keep, per intent, on replies it did not see. An
    /// opt-out read wrongly silences a customer's channel, so it must be nearly always right; a
    /// dispute, lawyer, bankruptcy or cease_contact read wrongly goes to a person, while one missed
    /// keeps collecting where the law says stop, so those accept more false alarms.
    static func precisionWanted(_ intent: ReplyIntent) -> Double {
        switch intent {
        case .optOut: 0.95
        case .dispute, .lawyer, .bankruptcy, .ceaseContact: 0.8
        default: 0.9
        }
    }

    /// Per intent, the lowest probability (from 0.9 down to 0.2) at which the out-of-fold predictions
    /// keep `precisionWanted`; 1 (never) when even 0.9 does not.
    static func chooseThresholds(_ predicted: [[Double]], _ targets: [[Float]]) -> [ReplyIntent: Double] {
        var thresholds: [ReplyIntent: Double] = [:]
        for (column, output) in ReplyModel.outputs.enumerated() {
            guard case .intent(let intent) = output else { continue }
            let precision = precisionWanted(intent)
            var best = 1.0
            for candidate in stride(from: 0.9, through: 0.2, by: -0.05) {
                let flagged = predicted.indices.filter { predicted[$0][column] >= candidate }
                let right = flagged.filter { targets[$0][column] == 1 }.count
                if flagged.isEmpty { continue }
                guard Double(right) / Double(flagged.count) >= precision else { break }
                best = (candidate * 100).rounded() / 100
            }
            thresholds[intent] = best
        }
        return thresholds
    }

    /// Each reply's probabilities from a model trained on the other folds.
    static func outOfFold(_ featureLists: [[String]], _ targets: [[Float]], settings: Settings) -> [[Double]] {
        var predicted = [[Double]](repeating: [], count: featureLists.count)
        for fold in 0..<settings.folds {
            let held = featureLists.indices.filter { $0 % settings.folds == fold }
            let kept = featureLists.indices.filter { $0 % settings.folds != fold }
            let model = fit(kept.map { featureLists[$0] }, kept.map { targets[$0] }, settings: settings)
            for item in held {
                let logits = model.logits(featureLists[item], value: ReplyModel.value(count: featureLists[item].count))
                predicted[item] = logits.map { 1 / (1 + exp(-$0)) }
            }
        }
        return predicted
    }
}
