/// A well-formedness check for e-mail HTML: every tag closed in order (void elements excepted),
/// no tag left open at the end, no unterminated tag or comment. Not a validator: enough to catch
/// the mistakes that make mail clients show a broken message.
enum HTMLCheck {
    struct Problem: Equatable {
        var line: Int
        var column: Int
        var message: String
    }

    static let voidElements: Set<String> = ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"]

    /// - Parameter firstLine: the file line the HTML starts on, so every reported line is a file line.
    static func problems(_ html: String, firstLine: Int = 1) -> [Problem] {
        let chars = Array(html)
        var positions: [(line: Int, column: Int)] = []
        positions.reserveCapacity(chars.count + 1)
        var line = firstLine
        var column = 1
        for character in chars {
            positions.append((line, column))
            if character == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        positions.append((line, column))
        return problems(in: chars) { "\(positions[$0].line):\(positions[$0].column)" }.map {
            Problem(line: positions[$0.index].line, column: positions[$0.index].column, message: $0.message)
        }
    }

    /// The problems in `chars`, each at the index of the character where it starts. `describe`
    /// names a position for messages that point at another place (the tag still open).
    static func problems(in chars: [Character], describe: (Int) -> String) -> [(index: Int, message: String)] {
        var problems: [(index: Int, message: String)] = []
        var open: [(name: String, index: Int)] = []
        var i = 0
        while i < chars.count {
            guard chars[i] == "<" else {
                i += 1
                continue
            }
            let start = i
            if String(chars[i..<min(i + 4, chars.count)]) == "<!--" {
                guard let end = find("-->", chars, from: i + 4) else {
                    problems.append((start, "comment is never closed with -->"))
                    return problems
                }
                i = end + 3
                continue
            }
            let next = i + 1 < chars.count ? chars[i + 1] : " "
            guard next.isLetter || next == "/" || next == "!" || next == "?" else {
                problems.append((start, "a literal < must be written &lt;"))
                i += 1
                continue
            }
            // Find the closing '>' outside quotes.
            var j = i + 1
            var quote: Character?
            while j < chars.count {
                if let q = quote {
                    if chars[j] == q { quote = nil }
                } else if chars[j] == "\"" || chars[j] == "'" {
                    quote = chars[j]
                } else if chars[j] == ">" {
                    break
                } else if chars[j] == "<" {
                    break
                }
                j += 1
            }
            guard j < chars.count, chars[j] == ">" else {
                problems.append((start, quote != nil ? "attribute quote is never closed in this tag" : "tag is never closed with >"))
                i += 1
                continue
            }
            let inner = String(chars[(i + 1)..<j])
            i = j + 1
            if inner.hasPrefix("!") || inner.hasPrefix("?") { continue }
            let closing = inner.hasPrefix("/")
            let selfClosing = inner.hasSuffix("/")
            let nameChars = (closing ? inner.dropFirst() : Substring(inner)).prefix { $0.isLetter || $0.isNumber || $0 == "-" }
            let name = nameChars.lowercased()
            guard !name.isEmpty, nameChars.first?.isLetter == true else {
                problems.append((start, "\"<\(inner)>\" is not a tag (write &lt; for a literal <)"))
                continue
            }
            if closing {
                if voidElements.contains(name) { continue }
                guard let last = open.last else {
                    problems.append((start, "</\(name)> closes nothing"))
                    continue
                }
                if last.name == name {
                    open.removeLast()
                } else {
                    problems.append((start, "</\(name)> found, but <\(last.name)> from \(describe(last.index)) is still open"))
                    if let index = open.lastIndex(where: { $0.name == name }) { open.removeSubrange(index...) }
                }
            } else if !selfClosing && !voidElements.contains(name) {
                open.append((name, start))
            }
        }
        for tag in open.reversed() {
            problems.append((tag.index, "<\(tag.name)> is never closed"))
        }
        return problems
    }

    private static func find(_ needle: String, _ chars: [Character], from start: Int) -> Int? {
        let n = Array(needle)
        var i = start
        while i + n.count <= chars.count {
            if Array(chars[i..<i + n.count]) == n { return i }
            i += 1
        }
        return nil
    }
}
