import Foundation
import GatewayCore
import Yams

/// Reads `templates/tones.yml`:
///
/// ```yaml
/// default: neutral
/// rules:
///   - id: upset-customers
///     tone: empathetic
///     when:
///       sentiment: [upset, anxious]   # any of these labels
///       score: {max: -0.3}            # sentiment score range, ends inclusive
///       segment: [early]
///       days_past_due: {min: 1, max: 30}
///       category: [collection]
/// ```
/// Every condition of a rule must hold; the first rule that holds picks the tone.
enum TonePolicyFile {
    /// - Parameter data: tones.yml's bytes; nil when there is none (every message is neutral).
    static func load(_ data: Data?) throws(TemplateLoadError) -> TonePolicy {
        guard let data else { return .neutralOnly }
        let file = "tones.yml"
        func fail(_ message: String) -> TemplateLoadError { TemplateLoadError(file: file, message: message) }
        let mapping: [String: Node]
        do { mapping = try YAMLFile.mapping(data: data) } catch { throw fail(error.message) }
        for key in mapping.keys where key != "default" && key != "rules" {
            throw fail("unknown key \"\(key)\" (known: default, rules)")
        }
        guard let defaultTone = mapping["default"]?.string, isTone(defaultTone) else {
            throw fail("default is required: the tone used when no rule matches, e.g. default: neutral")
        }
        var rules: [TonePolicy.Rule] = []
        let items = mapping["rules"]?.sequence ?? []
        if mapping["rules"] != nil, mapping["rules"]?.sequence == nil { throw fail("rules must be a list") }
        for (index, item) in items.enumerated() {
            let place = "rules[\(index)]"
            guard let rule = item.mapping else { throw fail("\(place) must be a mapping with id, tone and when") }
            var fields: [String: Node] = [:]
            for (key, value) in rule {
                guard let name = key.string, ["id", "tone", "when"].contains(name) else {
                    throw fail("\(place): unknown key \"\(key.string ?? "?")\" (known: id, tone, when)")
                }
                fields[name] = value
            }
            guard let id = fields["id"]?.string, !id.isEmpty else { throw fail("\(place): id is required") }
            guard !rules.contains(where: { $0.id == id }) else { throw fail("\(place): id \"\(id)\" is used twice") }
            guard let tone = fields["tone"]?.string, isTone(tone) else {
                throw fail("\(place) (\(id)): tone is required and must be a lower-case word of 4+ letters")
            }
            var parsed = TonePolicy.Rule(id: id, tone: tone)
            if let when = fields["when"] {
                guard let conditions = when.mapping else { throw fail("\(place) (\(id)): when must be a mapping of conditions") }
                for (key, value) in conditions {
                    let name = key.string ?? "?"
                    switch name {
                    case "sentiment": parsed.sentimentLabels = try list(value, "\(place) (\(id)).when.sentiment")
                    case "segment": parsed.segments = try list(value, "\(place) (\(id)).when.segment")
                    case "reply_intents": parsed.replyIntents = try list(value, "\(place) (\(id)).when.reply_intents")
                    case "category":
                        let names = try list(value, "\(place) (\(id)).when.category")
                        parsed.categories = try names.map { name throws(TemplateLoadError) in
                            guard let category = Category(rawValue: name) else {
                                throw fail("\(place) (\(id)).when.category: \"\(name)\" is not collection or transactional")
                            }
                            return category
                        }
                    case "score":
                        let (min, max) = try range(value, "\(place) (\(id)).when.score")
                        guard (min ?? -1) >= -1, (max ?? 1) <= 1 else { throw fail("\(place) (\(id)).when.score must stay within -1 and 1") }
                        parsed.scoreMin = min
                        parsed.scoreMax = max
                    case "days_past_due":
                        let (min, max) = try range(value, "\(place) (\(id)).when.days_past_due")
                        parsed.daysPastDueMin = min.map { Int($0) }
                        parsed.daysPastDueMax = max.map { Int($0) }
                    default:
                        throw fail("\(place) (\(id)).when: unknown condition \"\(name)\" (known: sentiment, score, segment, days_past_due, category, reply_intents)")
                    }
                }
            }
            rules.append(parsed)
        }
        return TonePolicy(rules: rules, defaultTone: defaultTone)

        func list(_ node: Node, _ place: String) throws(TemplateLoadError) -> [String] {
            if let single = node.string { return [single] }
            guard let items = node.sequence?.compactMap(\.string), items.count == node.sequence?.count, !items.isEmpty else {
                throw fail("\(place) must be a word or a list of words")
            }
            return items
        }

        func range(_ node: Node, _ place: String) throws(TemplateLoadError) -> (Double?, Double?) {
            guard let mapping = node.mapping else { throw fail("\(place) must be {min: X, max: Y} (either may be left out)") }
            var min: Double?
            var max: Double?
            for (key, value) in mapping {
                guard let number = value.string.flatMap({ Double($0) }) else { throw fail("\(place).\(key.string ?? "?") must be a number") }
                switch key.string {
                case "min": min = number
                case "max": max = number
                default: throw fail("\(place): only min and max are allowed")
                }
            }
            guard min != nil || max != nil else { throw fail("\(place) needs min, max or both") }
            if let min, let max, min > max { throw fail("\(place): min is above max") }
            return (min, max)
        }
    }

    static func isTone(_ text: String) -> Bool { TemplateCatalog.isToneName(text) }
}
