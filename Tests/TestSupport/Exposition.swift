import Foundation

/// The Prometheus text exposition format (0.0.4), read strictly: comments (`# HELP`, `# TYPE`),
/// samples `name{label="value",...} value`, label values with the three escapes the format has
/// (\\, \", \n). Every sample must follow its family's TYPE line; a series may appear once.
public struct Exposition {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public struct Sample {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    public struct Family {
        public var type: String
        public var help: String?
        public var samples: [Sample] = []
    }

    public var families: [String: Family] = [:]

    public func samples(_ name: String) -> [Sample] {
        families[Self.family(of: name, in: families)]?.samples.filter { $0.name == name } ?? []
    }

    public func value(_ name: String, _ labels: [String: String]) -> Double? {
        samples(name).first { $0.labels == labels }?.value
    }

    /// Buckets cumulative, +Inf equal to _count.
    public func checkHistogram(_ name: String, _ labels: [String: String]) throws {
        let buckets = samples(name + "_bucket").filter { $0.labels.filter { $0.key != "le" } == labels }
            .map { (bound: $0.labels["le"] == "+Inf" ? Double.infinity : Double($0.labels["le"] ?? "") ?? .nan, count: $0.value) }
            .sorted { $0.bound < $1.bound }
        guard !buckets.isEmpty, buckets.last?.bound == .infinity else { throw Failure(description: "\(name)\(labels): no +Inf bucket") }
        for (lower, upper) in zip(buckets, buckets.dropFirst()) where upper.count < lower.count {
            throw Failure(description: "\(name)\(labels): bucket le=\(upper.bound) has \(upper.count) < \(lower.count) of le=\(lower.bound)")
        }
        guard value(name + "_count", labels) == buckets.last?.count, value(name + "_sum", labels) != nil else {
            throw Failure(description: "\(name)\(labels): _count is not the +Inf bucket, or no _sum")
        }
    }

    static func family(of sample: String, in families: [String: Family]) -> String {
        if families[sample] != nil { return sample }
        for suffix in ["_bucket", "_sum", "_count"] where sample.hasSuffix(suffix) {
            let base = String(sample.dropLast(suffix.count))
            if families[base]?.type == "histogram" { return base }
        }
        return sample
    }

    static func isName(_ text: Substring, colon: Bool) -> Bool {
        guard let first = text.first, first.isASCII, first.isLetter || first == "_" || (colon && first == ":") else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || (colon && $0 == ":")) }
    }

    public static func parse(_ text: String) throws -> Exposition {
        var exposition = Exposition()
        var seen: Set<String> = []
        // HELP lines may come before their TYPE line.
        var pendingHelp: [String: String] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            func fail(_ why: String) -> Failure { Failure(description: "line \(index + 1): \(why): \(line)") }
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                guard parts.count >= 3, parts[0] == "#", parts[1] == "HELP" || parts[1] == "TYPE" else { continue }   // a plain comment
                let name = String(parts[2])
                guard isName(parts[2], colon: true) else { throw fail("bad metric name") }
                let rest = parts.count > 3 ? String(parts[3]) : ""
                if parts[1] == "TYPE" {
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(rest) else { throw fail("unknown type") }
                    guard exposition.families[name] == nil else { throw fail("a second TYPE line for \(name)") }
                    exposition.families[name] = Family(type: rest, help: pendingHelp[name])
                } else {
                    var help = ""
                    var chars = rest.makeIterator()
                    while let c = chars.next() {
                        if c == "\\" {
                            switch chars.next() {
                            case "\\": help.append("\\")
                            case "n": help.append("\n")
                            default: throw fail("bad escape in HELP")
                            }
                        } else {
                            help.append(c)
                        }
                    }
                    if exposition.families[name] != nil { exposition.families[name]?.help = help } else { pendingHelp[name] = help }
                }
                continue
            }
            // A sample.
            var rest = Substring(line)
            let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
            let name = rest[..<nameEnd]
            guard isName(name, colon: true) else { throw fail("bad metric name") }
            rest = rest[nameEnd...]
            var labels: [String: String] = [:]
            if rest.first == "{" {
                rest = rest.dropFirst()
                while rest.first != "}" {
                    guard let equals = rest.firstIndex(of: "=") else { throw fail("a label without =") }
                    let label = rest[..<equals]
                    guard isName(label, colon: false) else { throw fail("bad label name \(label)") }
                    rest = rest[rest.index(after: equals)...]
                    guard rest.first == "\"" else { throw fail("a label value must be quoted") }
                    rest = rest.dropFirst()
                    var value = ""
                    var closed = false
                    while let c = rest.first {
                        rest = rest.dropFirst()
                        if c == "\\" {
                            switch rest.first {
                            case "\\": value.append("\\")
                            case "\"": value.append("\"")
                            case "n": value.append("\n")
                            default: throw fail("bad escape in a label value")
                            }
                            rest = rest.dropFirst()
                        } else if c == "\"" {
                            closed = true
                            break
                        } else {
                            value.append(c)
                        }
                    }
                    guard closed else { throw fail("an unterminated label value") }
                    guard labels.updateValue(value, forKey: String(label)) == nil else { throw fail("label \(label) twice") }
                    if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" { throw fail("expected , or } after a label") }
                }
                rest = rest.dropFirst()
            }
            guard rest.first == " " else { throw fail("expected a space before the value") }
            let fields = rest.dropFirst().split(separator: " ")
            guard fields.count == 1 || fields.count == 2 else { throw fail("expected a value and an optional timestamp") }
            let valueText = String(fields[0])
            let value: Double
            switch valueText {
            case "+Inf": value = .infinity
            case "-Inf": value = -.infinity
            case "NaN": value = .nan
            default:
                // Prometheus reads values as Go's ParseFloat does: "nan" and "inf" in any case too.
                guard let number = Double(valueText) else { throw fail("not a number") }
                value = number
            }
            let family = family(of: String(name), in: exposition.families)
            guard exposition.families[family] != nil else { throw fail("a sample before its TYPE line") }
            let key = String(name) + "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\u{0}") + "}"
            guard seen.insert(key).inserted else { throw fail("the same series twice") }
            exposition.families[family]?.samples.append(Sample(name: String(name), labels: labels, value: value))
        }
        return exposition
    }
}
