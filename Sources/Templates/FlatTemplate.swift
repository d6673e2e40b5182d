import Mustache

/// A template part that is only text, variables and partials written in the middle of a line,
/// flattened at load time into text and variable lookups, so rendering it is a walk over a short
/// list instead of swift-mustache's dynamic casts on every lookup (its renderer was the largest
/// part of rendering in the throughput benchmark).
///
/// Anything else (sections, comments, a tag alone on its line, which Mustache's rules drop with
/// its line, a variable with a transform, a partial that is not all of this) makes `flatten`
/// return nil, and the part is rendered by swift-mustache as before. Where a flat template exists
/// the two renderers agree byte for byte (FlatTemplateTests compares them).
struct FlatTemplate: Sendable {
    enum Segment: Sendable {
        case text(String)
        /// A dotted name, split; `escape` for `{{name}}` in HTML (not `{{{name}}}` or `{{& name}}`).
        case variable(path: [String], escape: Bool)
    }

    let segments: [Segment]
    /// Each variable segment's name and where it is written, in order, for the strict check.
    var variables: [MissingVariable] = []

    /// The flat form of a part, with its variables' places from the tag scan (`nodes`, and the
    /// partials' own), or nil when the part is not flat.
    static func make(_ text: String, html: Bool, file: String, nodes: [TemplateNode], partials: [String: PartialSource]) -> FlatTemplate? {
        guard var flat = flatten(text, html: html, partials: partials.mapValues(\.text)),
              let variables = places(nodes, file: file, partials: partials) else { return nil }
        // Both walks read the same tags in the same order; if they ever disagree, stay with swift-mustache.
        guard variables.count == flat.segments.count(where: { if case .variable = $0 { true } else { false } }) else { return nil }
        flat.variables = variables
        return flat
    }

    /// Every variable tag in document order, partials expanded, as the strict check names them.
    static func places(_ nodes: [TemplateNode], file: String, partials: [String: PartialSource], depth: Int = 0) -> [MissingVariable]? {
        var found: [MissingVariable] = []
        for node in nodes {
            switch node {
            case .variable(let name, let line, let column):
                found.append(MissingVariable(name: name, location: "\(file):\(line):\(column)"))
            case .partial(let name, _, _):
                guard depth < 8, let partial = partials[name],
                      let inner = places(partial.nodes, file: partial.file, partials: partials, depth: depth + 1) else { return nil }
                found += inner
            case .section:
                return nil
            }
        }
        return found
    }

    /// Flattens `text`, inlining the partials it names (from `partials`, by name, as written in
    /// their files without the trailing newline). `html`: variables are escaped, as in an HTML part.
    static func flatten(_ text: String, html: Bool, partials: [String: String], depth: Int = 0) -> FlatTemplate? {
        // Line ends other than \n and \r\n are left to swift-mustache (they decide which tags stand alone).
        guard depth < 8, !text.contains(where: { $0.isNewline && $0 != "\n" && $0 != "\r\n" }) else { return nil }
        var bytes = Array(text.utf8)
        // swift-mustache drops spaces and tabs that stand alone on the last line (from a line start
        // to the end of the text, as at the end of a partial).
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        if end < bytes.count, end == 0 || bytes[end - 1] == 0x0A { bytes.removeSubrange(end...) }
        var segments: [Segment] = []
        var textStart = 0
        var index = 0
        func flushText(upTo end: Int) {
            if end > textStart { segments.append(.text(String(decoding: bytes[textStart..<end], as: UTF8.self))) }
        }
        while index + 1 < bytes.count {
            guard bytes[index] == UInt8(ascii: "{"), bytes[index + 1] == UInt8(ascii: "{") else {
                index += 1
                continue
            }
            let tagStart = index
            let triple = index + 2 < bytes.count && bytes[index + 2] == UInt8(ascii: "{")
            let open = index + (triple ? 3 : 2)
            let closer: [UInt8] = triple ? Array("}}}".utf8) : Array("}}".utf8)
            guard let close = TagScanner.find(closer, in: bytes, from: open) else { return nil }
            let tagEnd = close + closer.count
            var inner = Substring(String(decoding: bytes[open..<close], as: UTF8.self))
            inner = inner.drop { $0 == " " || $0 == "\t" }
            while let last = inner.last, last == " " || last == "\t" { inner = inner.dropLast() }
            guard let sigil = inner.first else { return nil }
            flushText(upTo: tagStart)
            if triple {
                guard let path = Self.path(inner) else { return nil }
                segments.append(.variable(path: path, escape: false))
            } else if sigil == "&" {
                guard let path = Self.path(inner.dropFirst().drop { $0 == " " || $0 == "\t" }) else { return nil }
                segments.append(.variable(path: path, escape: false))
            } else if sigil == ">" {
                // A partial alone on its line is indented and takes its line with it: not flat.
                guard !isStandalone(bytes, tagStart: tagStart, tagEnd: tagEnd) else { return nil }
                let name = String(inner.dropFirst().drop { $0 == " " || $0 == "\t" })
                guard let source = partials[name], let partial = flatten(source, html: html, partials: partials, depth: depth + 1) else { return nil }
                segments += partial.segments
            } else if "#^/!=%$<*".contains(sigil) {
                return nil
            } else {
                guard let path = Self.path(inner) else { return nil }
                segments.append(.variable(path: path, escape: html))
            }
            index = tagEnd
            textStart = tagEnd
        }
        flushText(upTo: bytes.count)
        return FlatTemplate(segments: segments)
    }

    /// The lookup path of a plain variable name, or nil for what swift-mustache reads differently
    /// (a transform like `lower(name)`, `.` for the current object, other characters).
    static func path(_ name: Substring) -> [String]? {
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-?".contains($0)) }),
              name.first != ".", name.contains(where: { $0 != "." }) else { return nil }
        return name.split(separator: ".").map(String.init)
    }

    /// Whether the tag has nothing but spaces and tabs before it on its line and after it up to the
    /// line's end (Mustache's "standalone" tag).
    static func isStandalone(_ bytes: [UInt8], tagStart: Int, tagEnd: Int) -> Bool {
        var before = tagStart
        while before > 0, bytes[before - 1] == 0x20 || bytes[before - 1] == 0x09 { before -= 1 }
        guard before == 0 || bytes[before - 1] == 0x0A else { return false }
        var after = tagEnd
        while after < bytes.count, bytes[after] == 0x20 || bytes[after] == 0x09 { after += 1 }
        return after == bytes.count || bytes[after] == 0x0A || bytes[after] == 0x0D
    }

    /// Renders against the context swift-mustache would get, and lists the variables that are
    /// missing or blank (what the strict check would list). Nil when a value is something other than
    /// text (a number is text here; a list or a yes/no is not): the caller then checks and renders
    /// the usual way, and swift-mustache prints those its own way.
    func render(_ context: [String: Any]) -> (text: String, missing: [MissingVariable])? {
        var out = ""
        var missing: [MissingVariable] = []
        var variable = 0
        for segment in segments {
            switch segment {
            case .text(let text):
                out += text
            case .variable(let path, let escape):
                defer { variable += 1 }
                var value: Any? = context
                for name in path {
                    switch value {
                    case let object as [String: Any]: value = object[name]
                    case let parent as MoneyHelper: value = parent.child(named: name)
                    case let parent as DateHelper: value = parent.child(named: name)
                    case nil: value = nil
                    default: return nil
                    }
                }
                switch value {
                case let text as String:
                    if !text.hasNonSpace, variable < variables.count { missing.append(variables[variable]) }
                    out += escape ? Self.htmlEscape(text) : text
                case nil:
                    if variable < variables.count { missing.append(variables[variable]) }
                default:
                    return nil
                }
            }
        }
        return (out, missing)
    }

    /// swift-mustache's HTML escaping: the five characters, compared as whole Characters.
    static func htmlEscape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x3C || $0 == 0x3E || $0 == 0x26 || $0 == 0x22 || $0 == 0x27 }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for character in text {
            switch character {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
