import Mustache

/// Lint's view of an e-mail's HTML part, so an HTML problem is reported where it is written in
/// the template, not where it lands in the rendered message (a three-line partial above it moves
/// every later rendered line; a variable moves every later column).
///
/// The part and its partials are rendered once more with invisible markers: one at the start of
/// every source line and one on each side of every tag, each carrying (file, line, column). Mustache
/// copies literal text as it is, so after rendering every character can be traced to the file,
/// line and column it was written at, or to the tag whose output it is.
enum HTMLSourceMap {
    /// Where a rendered character comes from.
    struct Origin: Equatable {
        /// Index into the files list: 0 is the variant, the others are partials.
        var file: Int
        var line: Int
        var column: Int
        /// The character is a tag's output (a variable's value), and line:column is the tag's.
        var inTag: Bool
    }

    static let literalMark: Unicode.Scalar = "\u{10FFFD}"
    static let tagMark: Unicode.Scalar = "\u{10FFFC}"
    /// Numbers ride as private-use scalars U+F0000 + n (n < 65534).
    static let base: UInt32 = 0xF0000

    /// `text` (which starts at file line `startLine`) with markers added outside its tags.
    static func instrument(_ text: String, file: Int, startLine: Int) -> String {
        let chars = Array(text)
        var out = String.UnicodeScalarView()
        func mark(_ lead: Unicode.Scalar, _ line: Int, _ column: Int) {
            out.append(lead)
            for number in [file, line, column] { out.append(Unicode.Scalar(base + UInt32(min(max(number, 0), 65533)))!) }
        }
        func append(_ character: Character) { out.append(contentsOf: character.unicodeScalars) }
        var line = startLine
        var column = 1
        var atLineStart = true
        var i = 0
        while i < chars.count {
            if atLineStart {
                mark(literalMark, line, column)
                atLineStart = false
            }
            if chars[i] == "{", i + 1 < chars.count, chars[i + 1] == "{" {
                let triple = i + 2 < chars.count && chars[i + 2] == "{"
                let closer: [Character] = triple ? ["}", "}", "}"] : ["}", "}"]
                var end = i + (triple ? 3 : 2)
                while end + closer.count <= chars.count, Array(chars[end..<(end + closer.count)]) != closer { end += 1 }
                guard end + closer.count <= chars.count else {
                    chars[i...].forEach(append)   // unclosed: the parser refuses it anyway
                    break
                }
                mark(tagMark, line, column)
                for character in chars[i..<(end + closer.count)] {
                    append(character)
                    if character == "\n" { line += 1; column = 1 } else { column += 1 }
                }
                i = end + closer.count
                mark(literalMark, line, column)
                continue
            }
            append(chars[i])
            if chars[i] == "\n" {
                line += 1
                column = 1
                atLineStart = true
            } else {
                column += 1
            }
            i += 1
        }
        return String(out)
    }

    /// The rendered text without its markers, where each of its characters comes from, and for a
    /// character from a partial, the variant's tag that included it (the last variant tag before it).
    static func decode(_ rendered: String) -> (chars: [Character], origins: [Origin], includedAt: [Origin?]) {
        var chars: [Character] = []
        var origins: [Origin] = []
        var includedAt: [Origin?] = []
        var lastVariantTag: Origin?
        var current = Origin(file: 0, line: 1, column: 1, inTag: false)
        let scalars = Array(rendered.unicodeScalars)
        var i = 0
        var pending = String.UnicodeScalarView()
        var pendingOrigin = current
        func flush() {
            // Characters are formed from the text between markers, as the checked text has them.
            for character in String(pending) {
                chars.append(character)
                origins.append(pendingOrigin)
                includedAt.append(pendingOrigin.file == 0 ? nil : lastVariantTag)
                if !pendingOrigin.inTag {
                    if character == "\n" { pendingOrigin.line += 1; pendingOrigin.column = 1 } else { pendingOrigin.column += 1 }
                }
            }
            pending = String.UnicodeScalarView()
        }
        while i < scalars.count {
            let scalar = scalars[i]
            if (scalar == literalMark || scalar == tagMark), i + 3 < scalars.count {
                flush()
                let numbers = scalars[(i + 1)...(i + 3)].map { Int($0.value &- base) }
                current = Origin(file: numbers[0], line: numbers[1], column: numbers[2], inTag: scalar == tagMark)
                if current.file == 0, current.inTag { lastVariantTag = current }
                pendingOrigin = current
                i += 4
                continue
            }
            pending.append(scalar)
            i += 1
        }
        flush()
        return (chars, origins, includedAt)
    }

    /// HTML problems of a variant's HTML part, at source positions: "file:line:column" of the
    /// variant, and for text that comes from a partial, the line that includes it plus the
    /// partial's own line:column.
    static func problems(source: String, startLine: Int, file: String, partials: [String: PartialSource],
                         context: [String: Any]) -> [(location: String, message: String)]? {
        let names = partials.keys.sorted()
        let files = [file] + names.map { partials[$0]!.file }
        var library = MustacheLibrary()
        for (index, name) in names.enumerated() {
            guard let template = try? MustacheTemplate(string: instrument(partials[name]!.text, file: index + 1, startLine: 1)) else { return nil }
            library.register(template, named: name)
        }
        guard let template = try? MustacheTemplate(string: instrument(source, file: 0, startLine: startLine)) else { return nil }
        let (chars, origins, includedAt) = decode(template.render(context, library: library))
        func at(_ index: Int) -> Origin {
            index < origins.count ? origins[index] : (origins.last ?? Origin(file: 0, line: startLine, column: 1, inTag: false))
        }
        func describe(_ index: Int) -> String {
            let origin = at(index)
            if origin.file == 0 { return "\(origin.line):\(origin.column)" }
            return "\(origin.line):\(origin.column) of partial \(files[origin.file])"
        }
        return HTMLCheck.problems(in: chars, describe: describe).map { problem in
            let origin = at(problem.index)
            if origin.file == 0 {
                let note = origin.inTag ? " (in the text the tag at \(origin.line):\(origin.column) inserts)" : ""
                return ("\(file):\(origin.line):\(origin.column)", problem.message + note)
            }
            let partial = files[origin.file]
            let site = (problem.index < includedAt.count ? includedAt[problem.index] : nil).map { "\(file):\($0.line):\($0.column)" } ?? file
            return (site, problem.message + " (inside partial \(partial), at its \(origin.line):\(origin.column))")
        }
    }
}
