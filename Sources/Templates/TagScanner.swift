/// A Mustache template read as a tree of the tags that look values up, with their line and column.
/// swift-mustache renders a missing variable as an empty string; this tree is what lets the gateway
/// refuse to send such a message, and name the variable and where it is used.
public indirect enum TemplateNode: Sendable, Equatable {
    case variable(name: String, line: Int, column: Int)
    case section(name: String, inverted: Bool, children: [TemplateNode], line: Int, column: Int)
    case partial(name: String, line: Int, column: Int)
}

public struct TemplateSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String
    public var description: String { "\(line):\(column): \(message)" }
}

public enum TagScanner {
    /// Reads every `{{...}}` tag with the default delimiters. Set-delimiter tags, blocks and parents are
    /// refused: message templates do not need them, and the strict checks could not follow them.
    /// - Parameter startLine: the file line `text` starts on (parts of a multi-part file start later).
    public static func scan(_ text: String, startLine: Int = 1) throws(TemplateSyntaxError) -> [TemplateNode] {
        let bytes = Array(text.utf8)
        var stack: [(name: String, inverted: Bool, children: [TemplateNode], line: Int, column: Int)] = [("", false, [], 0, 0)]
        var index = 0
        var line = startLine
        var lineStart = 0

        func position(_ at: Int) -> (Int, Int) {
            // Column in characters from the line start, 1-based.
            let column = String(decoding: bytes[lineStart..<at], as: UTF8.self).count + 1
            return (line, column)
        }

        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                line += 1
                lineStart = index + 1
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "{"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "{") else {
                index += 1
                continue
            }
            let (tagLine, tagColumn) = position(index)
            let triple = index + 2 < bytes.count && bytes[index + 2] == UInt8(ascii: "{")
            let open = index + (triple ? 3 : 2)
            let closer: [UInt8] = triple ? Array("}}}".utf8) : Array("}}".utf8)
            guard let close = find(closer, in: bytes, from: open) else {
                throw TemplateSyntaxError(line: tagLine, column: tagColumn, message: "tag opened here is never closed with \(String(decoding: closer, as: UTF8.self))")
            }
            let inner = String(decoding: bytes[open..<close], as: UTF8.self)
            // Count newlines inside the tag (comments may span lines).
            for i in open..<close where bytes[i] == UInt8(ascii: "\n") {
                line += 1
                lineStart = i + 1
            }
            index = close + closer.count
            if triple {
                let name = inner.trimmingSpaces()
                guard !name.isEmpty else { throw TemplateSyntaxError(line: tagLine, column: tagColumn, message: "empty variable tag {{{}}}") }
                stack[stack.count - 1].children.append(.variable(name: name, line: tagLine, column: tagColumn))
                continue
            }
            guard let sigil = inner.trimmingSpaces().first else {
                throw TemplateSyntaxError(line: tagLine, column: tagColumn, message: "empty tag {{}}")
            }
            let rest = String(inner.trimmingSpaces().dropFirst()).trimmingSpaces()
            switch sigil {
            case "!", "%":
                continue
            case "#", "^":
                guard !rest.isEmpty else { throw TemplateSyntaxError(line: tagLine, column: tagColumn, message: "section tag without a name") }
                stack.append((rest, sigil == "^", [], tagLine, tagColumn))
            case "/":
                guard stack.count > 1, let open = stack.last else {
                    throw TemplateSyntaxError(line: tagLine, column: tagColumn, message: "{{/\(rest)}} closes a section that was never opened")
                }
                guard open.name == rest else {
                    throw TemplateSyntaxError(line: tagLine, column: tagColumn, message: "{{/\(rest)}} closes a section, but the open section is {{#\(open.name)}} from line \(open.line)")
                }
                stack.removeLast()
                stack[stack.count - 1].children.append(.section(name: open.name, inverted: open.inverted, children: open.children, line: open.line, column: open.column))
            case ">":
                guard !rest.isEmpty else { throw TemplateSyntaxError(line: tagLine, column: tagColumn, message: "partial tag without a name") }
                stack[stack.count - 1].children.append(.partial(name: rest, line: tagLine, column: tagColumn))
            case "&":
                guard !rest.isEmpty else { throw TemplateSyntaxError(line: tagLine, column: tagColumn, message: "variable tag without a name") }
                stack[stack.count - 1].children.append(.variable(name: rest, line: tagLine, column: tagColumn))
            case "=", "$", "<":
                throw TemplateSyntaxError(line: tagLine, column: tagColumn, message: "{{\(sigil)...}} tags (delimiters, blocks, parents) are not supported in message templates")
            default:
                let name = inner.trimmingSpaces()
                guard !name.contains(" ") else {
                    throw TemplateSyntaxError(line: tagLine, column: tagColumn, message: "\"\(name)\" is not a variable name (no spaces allowed)")
                }
                stack[stack.count - 1].children.append(.variable(name: name, line: tagLine, column: tagColumn))
            }
        }
        if stack.count > 1, let open = stack.last {
            throw TemplateSyntaxError(line: open.line, column: open.column, message: "section {{\(open.inverted ? "^" : "#")\(open.name)}} is never closed with {{/\(open.name)}}")
        }
        return stack[0].children
    }

    /// Where `needle` first occurs in `bytes` at or after `start`.
    static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard needle.count <= bytes.count else { return nil }
        var i = start
        while i + needle.count <= bytes.count {
            if bytes[i] == needle[0], bytes[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}

extension String {
    func trimmingSpaces() -> String {
        let bytes = utf8
        guard let first = bytes.firstIndex(where: { !Self.isSpace($0) }) else { return "" }
        let last = bytes.lastIndex(where: { !Self.isSpace($0) })!
        if first == bytes.startIndex && bytes.index(after: last) == bytes.endIndex { return self }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }

    /// Whether the text has anything but spaces, tabs and line breaks.
    var hasNonSpace: Bool { utf8.contains { !Self.isSpace($0) } }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
}
