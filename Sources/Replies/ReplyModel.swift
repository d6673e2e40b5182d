import Foundation

/// The learned part of reply understanding: a linear model (logistic regression, one output per
/// intent and per label) over a reply's words, word pairs and triples, and the letter groups of its
/// words (so "escrivan" shares most of its features with "escriban"). It is trained offline by
/// `gateway replies train` (scripts/train-replies) on the labeled set's train split, and its
/// weights are a data file, `model.tsv`, in the lexicon folder. Pure: no I/O.
///
/// The model adds what the phrase rules miss: an intent whose probability reaches its threshold,
/// explained by the passages of the reply that weighed most; it never removes what a rule found.
public struct ReplyModel: Sendable, Equatable {
    /// What the model scores, in the file's column order: each intent, then each label.
    public enum Output: Hashable, Sendable {
        case intent(ReplyIntent)
        case label(ReplyLabel)

        public var name: String {
            switch self {
            case .intent(let intent): intent.rawValue
            case .label(let label): "label:" + label.rawValue
            }
        }
    }

    public static let outputs: [Output] = ReplyIntent.allCases.map(Output.intent) + ReplyLabel.allCases.map(Output.label)

    /// Per feature, one weight per output.
    public var weights: [String: [Float]]
    public var bias: [Float]
    /// The probability at which the model adds an intent the rules did not find.
    public var thresholds: [ReplyIntent: Double]
    /// Comment lines of the file (what it was trained on), kept for `gateway replies lint`.
    public var about: [String]

    public init(weights: [String: [Float]], bias: [Float], thresholds: [ReplyIntent: Double], about: [String] = []) {
        self.weights = weights
        self.bias = bias
        self.thresholds = thresholds
        self.about = about
    }

    /// One feature of a reply and the tokens it comes from.
    struct Feature: Hashable {
        var name: String
        var first: Int
        var last: Int
    }

    /// A token as the model sees it: words as normalized, numbers as "#", currency signs as "$",
    /// emoji as themselves, "?" and "!" kept; other punctuation ends an n-gram.
    static func unit(_ token: ReplyToken) -> String? {
        switch token.kind {
        case .word: token.text
        case .number: "#"
        case .currency: "$"
        case .emoji: token.text
        case .punctuation: token.text == "?" || token.text == "!" ? token.text : nil
        }
    }

    /// Word 1-, 2- and 3-grams within a clause, and the 3- to 5-letter groups of each word of three
    /// letters or more (with its edges marked: "<esc", "van>"). Each feature appears once.
    static func features(_ tokens: [ReplyToken]) -> [Feature] {
        var result: [Feature] = []
        var seen = Set<String>()
        func add(_ name: String, _ first: Int, _ last: Int) {
            if seen.insert(name).inserted { result.append(Feature(name: name, first: first, last: last)) }
        }
        var run: [(unit: String, index: Int)] = []
        for (index, token) in tokens.enumerated() {
            guard let unit = unit(token) else { run.removeAll(); continue }
            add("w:" + unit, index, index)
            if let previous = run.last { add("b:" + previous.unit + " " + unit, previous.index, index) }
            if run.count >= 2 { add("t:" + run[run.count - 2].unit + " " + run[run.count - 1].unit + " " + unit, run[run.count - 2].index, index) }
            run.append((unit, index))
            if token.kind == .punctuation { run.removeAll() }
            if token.kind == .word, token.text.count >= 3 {
                let letters = Array("<" + token.text + ">")
                for size in 3...5 where size <= letters.count {
                    for start in 0...(letters.count - size) { add("c:" + String(letters[start..<(start + size)]), index, index) }
                }
            }
        }
        return result
    }

    /// Each feature's value: 1 / sqrt(number of features), so long e-mails do not outweigh SMS.
    static func value(count: Int) -> Float { count == 0 ? 0 : 1 / Float(count).squareRoot() }

    public struct Reading: Sendable, Equatable {
        /// Probability per output (intents: is it there; labels: one-vs-rest, the largest wins).
        public var probability: [Output: Double]
        /// The reply's features that have weights, and their value: what `passages` explains from.
        var features: [Feature]
        var value: Float

        public var label: ReplyLabel {
            ReplyLabel.allCases.max { (probability[.label($0)] ?? 0) < (probability[.label($1)] ?? 0) }!
        }
    }

    /// Bias plus each named feature's weights times `value`, per output (names without a weight count nothing).
    func logits(_ names: some Sequence<String>, value: Float) -> [Double] {
        var logits = bias.map(Double.init)
        for name in names {
            guard let row = weights[name] else { continue }
            for output in row.indices { logits[output] += Double(row[output] * value) }
        }
        return logits
    }

    func read(_ tokens: [ReplyToken]) -> Reading {
        let all = Self.features(tokens)
        let features = all.filter { weights[$0.name] != nil }
        let value = Self.value(count: all.count)
        let logits = logits(features.map(\.name), value: value)
        var probability: [Output: Double] = [:]
        for (column, output) in Self.outputs.enumerated() { probability[output] = 1 / (1 + exp(-logits[column])) }
        return Reading(probability: probability, features: features, value: value)
    }

    /// The passages behind one output of a reading, for its explanation (only asked for the outputs
    /// that decided something).
    func passages(_ output: Output, of reading: Reading, tokens: [ReplyToken]) -> [(text: String, first: Int, weight: Double)] {
        phrases(column: Self.outputs.firstIndex(of: output)!, features: reading.features, value: reading.value, tokens: tokens)
    }

    /// The passages of the reply that pushed `column` up most, as a reviewer reads them: each
    /// feature's weight is shared among the tokens it covers, and runs of tokens that weigh for the
    /// output (at least a tenth of the strongest token) are the phrases, strongest first, at most
    /// three, each cut to its six strongest consecutive words.
    func phrases(column: Int, features: [Feature], value: Float, tokens: [ReplyToken]) -> [(text: String, first: Int, weight: Double)] {
        var perToken = [Double](repeating: 0, count: tokens.count)
        for feature in features {
            let contribution = Double(weights[feature.name]![column] * value)
            let share = contribution / Double(feature.last - feature.first + 1)
            for index in feature.first...feature.last { perToken[index] += share }
        }
        guard let strongest = perToken.max(), strongest > 0 else { return [] }
        let floor = strongest / 10
        var runs: [(first: Int, last: Int)] = []
        var index = 0
        while index < tokens.count {
            guard perToken[index] >= floor, Self.unit(tokens[index]) != nil else { index += 1; continue }
            var end = index
            while end + 1 < tokens.count, perToken[end + 1] >= floor, Self.unit(tokens[end + 1]) != nil, !tokens[end].isBoundary { end += 1 }
            // At most six words: the window of six with the most weight.
            var best = (first: index, last: end)
            if end - index >= 6 {
                var bestSum = -Double.infinity
                for start in index...(end - 5) {
                    let sum = perToken[start...(start + 5)].reduce(0, +)
                    if sum > bestSum { bestSum = sum; best = (start, start + 5) }
                }
            }
            runs.append(best)
            index = end + 1
        }
        var found: [(text: String, first: Int, weight: Double)] = []
        for run in runs {
            let words = tokens[run.first...run.last].map(\.original).filter { !$0.isEmpty }
            let weight = perToken[run.first...run.last].reduce(0, +)
            found.append((words.joined(separator: " "), run.first, weight))
        }
        found.sort { $0.weight > $1.weight || ($0.weight == $1.weight && $0.first < $1.first) }
        return Array(found.prefix(3))
    }
}

// MARK: - The weights file

extension ReplyModel {
    public static let fileName = "model.tsv"

    /// model.tsv: comment lines starting with "#", then `outputs`, `bias` and `threshold` lines, then
    /// one line per feature: the feature, a tab, and one weight per output separated by spaces.
    static func parse(_ data: Data, file: String = fileName) -> (findings: [ReplyLintFinding], model: ReplyModel?) {
        guard let text = String(data: data, encoding: .utf8) else {
            return ([ReplyLintFinding(file: file, line: nil, message: "not UTF-8 text; train it again with scripts/train-replies")], nil)
        }
        var findings: [ReplyLintFinding] = []
        var about: [String] = []
        var weights: [String: [Float]] = [:]
        var bias: [Float]?
        var thresholds: [ReplyIntent: Double] = [:]
        let expected = outputs.map(\.name)
        func numbers(_ field: Substring, line: Int) -> [Float]? {
            let values = field.split(separator: " ").map { Float($0) }
            guard values.count == expected.count, values.allSatisfy({ $0 != nil && $0!.isFinite }) else {
                findings.append(ReplyLintFinding(file: file, line: line, message: "needs \(expected.count) finite numbers (one per output), found \"\(field.prefix(60))\""))
                return nil
            }
            return values.map { $0! }
        }
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            if line.isEmpty { continue }
            if line.hasPrefix("#") { about.append(String(line.dropFirst().drop(while: { $0 == " " }))); continue }
            let parts = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                findings.append(ReplyLintFinding(file: file, line: number, message: "expected a name, a tab and numbers"))
                continue
            }
            switch parts[0] {
            case "outputs":
                if parts[1].split(separator: " ").map(String.init) != expected {
                    findings.append(ReplyLintFinding(file: file, line: number, message: "outputs must be \"\(expected.joined(separator: " "))\"; train it again with scripts/train-replies"))
                }
            case "bias":
                bias = numbers(parts[1], line: number)
            case "threshold":
                for pair in parts[1].split(separator: " ") {
                    let halves = pair.split(separator: "=")
                    guard halves.count == 2, let intent = ReplyIntent(rawValue: String(halves[0])), let value = Double(halves[1]), value > 0, value <= 1 else {
                        findings.append(ReplyLintFinding(file: file, line: number, message: "threshold \"\(pair)\" must be intent=probability, the probability in (0, 1]"))
                        continue
                    }
                    thresholds[intent] = value
                }
            default:
                let name = String(parts[0])
                guard ["w:", "b:", "t:", "c:"].contains(where: name.hasPrefix) else {
                    findings.append(ReplyLintFinding(file: file, line: number, message: "feature \"\(name.prefix(40))\" must start with w:, b:, t: or c:"))
                    continue
                }
                guard weights[name] == nil else {
                    findings.append(ReplyLintFinding(file: file, line: number, message: "feature \"\(name.prefix(40))\" appears twice"))
                    continue
                }
                if let row = numbers(parts[1], line: number) { weights[name] = row }
            }
        }
        if bias == nil && findings.isEmpty { findings.append(ReplyLintFinding(file: file, line: nil, message: "no bias line; train it again with scripts/train-replies")) }
        guard findings.isEmpty, let bias else { return (findings, nil) }
        return ([], ReplyModel(weights: weights, bias: bias, thresholds: thresholds, about: about))
    }

    /// The file's bytes: sorted features, weights with 4 significant digits.
    public func serialized() -> Data {
        func row(_ values: [Float]) -> String {
            values.map { $0 == 0 ? "0" : String(format: "%.4g", $0) }.joined(separator: " ")
        }
        var lines = about.map { "# " + $0 }
        lines.append("outputs\t" + Self.outputs.map(\.name).joined(separator: " "))
        lines.append("bias\t" + row(bias))
        lines.append("threshold\t" + ReplyIntent.allCases.compactMap { intent in
            thresholds[intent].map { "\(intent.rawValue)=\(String(format: "%.2f", $0))" }
        }.joined(separator: " "))
        for name in weights.keys.sorted() { lines.append(name + "\t" + row(weights[name]!)) }
        return Data((lines.joined(separator: "\n") + "\n").utf8)
    }
}
