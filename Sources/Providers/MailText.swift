import Foundation
import GatewayCore

/// Text decoding for e-mail: character sets, transfer encodings, encoded words, addresses, HTML.
public enum MailCharset: String, Sendable, Equatable {
    case utf8 = "UTF-8"
    case latin1 = "ISO-8859-1"
    case latin9 = "ISO-8859-15"
    case windows1252 = "windows-1252"

    /// A charset label as mail and SendGrid's `charsets` write it; nil when it is not one the
    /// gateway decodes. US-ASCII is read as Windows-1252 (a superset, as browsers do), so a
    /// mislabeled accent still comes out as the letter the customer typed.
    public init?(label: String) {
        let name = label.trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'")).lowercased()
        switch name {
        case "utf-8", "utf8", "unicode-1-1-utf-8": self = .utf8
        case "iso-8859-1", "iso8859-1", "iso_8859-1", "iso_8859-1:1987", "latin1", "latin-1", "l1", "cp819", "ibm819", "iso-ir-100", "csisolatin1":
            self = .latin1
        case "iso-8859-15", "iso8859-15", "iso_8859-15", "latin-9", "latin9", "l9": self = .latin9
        case "windows-1252", "cp1252", "x-cp1252", "us-ascii", "ascii", "us", "ansi_x3.4-1968", "iso646-us", "csascii": self = .windows1252
        default: return nil
        }
    }

    /// Bytes → text. Invalid UTF-8 sequences become U+FFFD rather than losing the whole reply
    /// (a STOP next to a broken byte must still be read).
    public func decode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        switch self {
        case .utf8:
            return String(decoding: bytes, as: UTF8.self)
        case .latin1:
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        case .latin9:
            return String(String.UnicodeScalarView(bytes.map { byte in
                Self.latin9Differences[byte].flatMap(Unicode.Scalar.init) ?? Unicode.Scalar(byte)
            }))
        case .windows1252:
            return String(String.UnicodeScalarView(bytes.map { byte in
                (0x80...0x9F).contains(byte) ? Unicode.Scalar(Self.windows1252High[Int(byte - 0x80)]) ?? Unicode.Scalar(byte) : Unicode.Scalar(byte)
            }))
        }
    }

    /// 0x80...0x9F in Windows-1252 (the five unassigned bytes map to the C1 controls, as WHATWG does).
    static let windows1252High: [UInt32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ]
    static let latin9Differences: [UInt8: UInt32] = [0xA4: 0x20AC, 0xA6: 0x0160, 0xA8: 0x0161, 0xB4: 0x017D, 0xB8: 0x017E, 0xBC: 0x0152, 0xBD: 0x0153, 0xBE: 0x0178]
}

public enum MailText {
    // MARK: Transfer encodings

    /// Quoted-printable (RFC 2045 §6.7): `=XX` is a byte, `=` at the end of a line is a soft line
    /// break. A malformed `=` is kept as it is (mail in the wild has them).
    public static func decodeQuotedPrintable(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "=") else {
                out.append(byte)
                index += 1
                continue
            }
            if index + 2 < bytes.count, bytes[index + 1] == 0x0D, bytes[index + 2] == 0x0A {
                index += 3
            } else if index + 1 < bytes.count, bytes[index + 1] == 0x0A {
                index += 2
            } else if index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 3
            } else {
                // "=" then spaces up to the line end is a soft break with trailing padding.
                var look = index + 1
                while look < bytes.count, bytes[look] == 0x20 || bytes[look] == 0x09 { look += 1 }
                if look == bytes.count {
                    index = look
                } else if bytes[look] == 0x0A || (bytes[look] == 0x0D && look + 1 < bytes.count && bytes[look + 1] == 0x0A) {
                    index = bytes[look] == 0x0A ? look + 1 : look + 2
                } else {
                    out.append(byte)
                    index += 1
                }
            }
        }
        return out
    }

    /// Base64 as mail carries it: lines of 76, whitespace anywhere. Nil when it is not base64.
    public static func decodeBase64(_ bytes: [UInt8]) -> [UInt8]? {
        var clean: [UInt8] = []
        clean.reserveCapacity(bytes.count)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "+"), UInt8(ascii: "/"):
                clean.append(byte)
            case UInt8(ascii: "="), 0x20, 0x09, 0x0D, 0x0A:
                continue
            default:
                return nil
            }
        }
        if clean.count % 4 == 1 { return nil }
        while clean.count % 4 != 0 { clean.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(clean)).map(Array.init)
    }

    // MARK: Headers

    /// RFC 2047 encoded words (`=?UTF-8?Q?Pago_recibido?=`, `=?ISO-8859-1?B?...?=`) decoded; the
    /// white space between two adjacent encoded words goes. A word in an unknown charset is left
    /// as written.
    public static func decodeEncodedWords(_ header: String) -> String {
        guard header.contains("=?") else { return header }
        let scalars = Array(header.unicodeScalars)
        var out = String.UnicodeScalarView()
        var pendingSpace = String.UnicodeScalarView()
        var lastWasEncoded = false
        var index = 0
        while index < scalars.count {
            if scalars[index] == "=", index + 1 < scalars.count, scalars[index + 1] == "?", let (text, end) = encodedWord(scalars, at: index) {
                if !lastWasEncoded { out.append(contentsOf: pendingSpace) }
                pendingSpace = String.UnicodeScalarView()
                out.append(contentsOf: text.unicodeScalars)
                lastWasEncoded = true
                index = end
                continue
            }
            let scalar = scalars[index]
            if scalar == " " || scalar == "\t" {
                pendingSpace.append(scalar)
            } else {
                out.append(contentsOf: pendingSpace)
                pendingSpace = String.UnicodeScalarView()
                out.append(scalar)
                lastWasEncoded = false
            }
            index += 1
        }
        out.append(contentsOf: pendingSpace)
        return String(out)
    }

    /// `=?charset?encoding?text?=` starting at `start` → its text and where it ends.
    static func encodedWord(_ scalars: [Unicode.Scalar], at start: Int) -> (String, Int)? {
        var index = start + 2
        var charset = ""
        while index < scalars.count, scalars[index] != "?" {
            guard scalars[index].isASCII, scalars[index] != " " else { return nil }
            charset.unicodeScalars.append(scalars[index])
            index += 1
        }
        guard index + 2 < scalars.count, scalars[index + 2] == "?" else { return nil }
        let encoding = Character(scalars[index + 1]).lowercased()
        index += 3
        var encoded: [UInt8] = []
        while index + 1 < scalars.count, !(scalars[index] == "?" && scalars[index + 1] == "=") {
            guard scalars[index].isASCII, scalars[index] != " " else { return nil }
            encoded.append(UInt8(scalars[index].value))
            index += 1
        }
        guard index + 1 < scalars.count else { return nil }
        // RFC 2231 adds a language: charset*lang.
        guard let mailCharset = MailCharset(label: String(charset.split(separator: "*").first ?? "")) else { return nil }
        let bytes: [UInt8]
        switch encoding {
        case "q": bytes = decodeQuotedPrintable(encoded.map { $0 == UInt8(ascii: "_") ? 0x20 : $0 })
        case "b": guard let decoded = decodeBase64(encoded) else { return nil }; bytes = decoded
        default: return nil
        }
        return (mailCharset.decode(bytes), index + 2)
    }

    /// The first e-mail address in an address header, bare and lowercased:
    /// `"Mora, Ana" <Ana@Example.com>` → `ana@example.com`. Nil when there is none.
    public static func firstAddress(_ header: String) -> String? {
        var inQuote = false
        var escaped = false
        var depth = 0
        var angle: String.UnicodeScalarView?
        var plain = String.UnicodeScalarView()
        for scalar in header.unicodeScalars {
            if escaped {
                escaped = false
                continue
            }
            if inQuote {
                if scalar == "\\" { escaped = true } else if scalar == "\"" { inQuote = false }
                continue
            }
            if depth > 0 {
                if scalar == "(" { depth += 1 } else if scalar == ")" { depth -= 1 } else if scalar == "\\" { escaped = true }
                continue
            }
            if var current = angle {
                if scalar == ">" { return validAddress(String(current)) }
                current.append(scalar)
                angle = current
                continue
            }
            switch scalar {
            case "\"": inQuote = true
            case "(": depth = 1
            case "<": angle = String.UnicodeScalarView()
            case ":": plain = String.UnicodeScalarView()  // "Team: ana@x.example, ...;" (a group's name)
            case ",", ";":
                if let address = validAddress(String(plain)) { return address }
                plain = String.UnicodeScalarView()
            default: plain.append(scalar)
            }
        }
        if angle != nil { return nil }  // "<" never closed
        return validAddress(String(plain))
    }

    /// `local@domain`, one @, no spaces or brackets, lowercased; `mailto:` dropped.
    static func validAddress(_ candidate: String) -> String? {
        var text = candidate.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.lowercased().hasPrefix("mailto:") { text = String(text.dropFirst(7)) }
        let pieces = text.split(separator: "@", omittingEmptySubsequences: false)
        guard pieces.count == 2, !pieces[0].isEmpty, pieces[1].count >= 1, text.count <= 320,
              !text.unicodeScalars.contains(where: { $0 == " " || $0 == "\t" || $0 == "<" || $0 == ">" || $0 == "\"" || $0.properties.generalCategory == .control })
        else { return nil }
        return text.lowercased()
    }

    // MARK: HTML

    /// HTML → the text a reader sees: tags dropped, block elements and `<br>` as line breaks,
    /// entities decoded, runs of spaces collapsed. `<head>`, `<script>`, `<style>` and
    /// `<blockquote>` (quoted history) are dropped with their content. Linear in the input.
    public static func htmlToText(_ html: String) -> String {
        let scalars = Array(html.unicodeScalars)
        var out = String.UnicodeScalarView()
        var skipUntil: String?  // the closing tag of an element whose content is dropped
        var quoteDepth = 0
        var index = 0
        func newline() { out.append("\n") }
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "<", index + 1 < scalars.count {
                let next = scalars[index + 1]
                if next == "!" || next == "?" || next == "/" || next.properties.isAlphabetic {
                    // A comment runs to "-->", anything else to ">".
                    var end = index + 1
                    if next == "!", index + 3 < scalars.count, scalars[index + 2] == "-", scalars[index + 3] == "-" {
                        end = index + 4
                        while end + 2 < scalars.count, !(scalars[end] == "-" && scalars[end + 1] == "-" && scalars[end + 2] == ">") { end += 1 }
                        index = min(scalars.count, end + 3)
                        continue
                    }
                    var quote: Unicode.Scalar?
                    while end < scalars.count {
                        let c = scalars[end]
                        if let open = quote {
                            if c == open { quote = nil }
                        } else if c == "\"" || c == "'" {
                            quote = c
                        } else if c == ">" {
                            break
                        }
                        end += 1
                    }
                    let tag = tagName(scalars, from: index + 1, to: end)
                    index = min(scalars.count, end + 1)
                    if let closing = skipUntil {
                        if tag == closing { skipUntil = nil }
                        continue
                    }
                    switch tag {
                    case "head", "script", "style", "title": skipUntil = "/" + tag
                    case "blockquote": quoteDepth += 1
                    case "/blockquote": quoteDepth = max(0, quoteDepth - 1)
                    case "br", "br/", "p", "/p", "div", "/div", "tr", "/tr", "li", "/li", "ul", "/ul", "ol", "/ol", "table", "/table",
                         "h1", "/h1", "h2", "/h2", "h3", "/h3", "h4", "/h4", "h5", "/h5", "h6", "/h6", "hr", "pre", "/pre":
                        if quoteDepth == 0 { newline() }
                    case "td", "/td", "th", "/th":
                        if quoteDepth == 0 { out.append(" ") }
                    default: break
                    }
                    continue
                }
            }
            if skipUntil != nil || quoteDepth > 0 {
                index += 1
                continue
            }
            if scalar == "&", let (decoded, end) = entity(scalars, at: index) {
                out.append(contentsOf: decoded.unicodeScalars)
                index = end
                continue
            }
            out.append(scalar)
            index += 1
        }
        // Collapse white space the way a browser lays it out: spaces within a line, blank lines to one.
        var lines: [String] = []
        for line in String(out).split(separator: "\n", omittingEmptySubsequences: false) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\u{A0}" })
            let collapsed = words.joined(separator: " ")
            if collapsed.isEmpty, lines.last?.isEmpty ?? true { continue }
            lines.append(collapsed)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    /// The lowercased tag name ("p", "/p", "br/"), from after "<".
    static func tagName(_ scalars: [Unicode.Scalar], from start: Int, to end: Int) -> String {
        var name = String.UnicodeScalarView()
        var index = start
        while index < end, name.count < 20 {
            let c = scalars[index]
            if c == " " || c == "\t" || c == "\n" || c == "\r" || c == ">" { break }
            if c == "/", !name.isEmpty, name.first != "/" {
                name.append(c)
                break
            }
            name.append(c)
            index += 1
        }
        return String(name).lowercased()
    }

    /// `&amp;`, `&#39;`, `&#x27;`, `&aacute;` at `start` → the text and where the entity ends.
    static func entity(_ scalars: [Unicode.Scalar], at start: Int) -> (String, Int)? {
        var index = start + 1
        var name = ""
        while index < scalars.count, index - start <= 12, scalars[index] != ";" {
            guard scalars[index].isASCII, scalars[index].properties.isAlphabetic || ("0"..."9").contains(scalars[index]) || scalars[index] == "#" else { return nil }
            name.unicodeScalars.append(scalars[index])
            index += 1
        }
        guard index < scalars.count, scalars[index] == ";", !name.isEmpty else { return nil }
        if name.hasPrefix("#") {
            let digits = name.dropFirst()
            let value = digits.lowercased().hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
            guard let value, let scalar = Unicode.Scalar(value), value != 0 else { return nil }
            return (String(scalar), index + 1)
        }
        guard let decoded = namedEntities[name] else { return nil }
        return (decoded, index + 1)
    }

    static let namedEntities: [String: String] = {
        var table: [String: String] = [
            "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ",
            "euro": "€", "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”",
            "bull": "•", "trade": "™", "laquo": "«", "raquo": "»", "iexcl": "¡", "iquest": "¿", "copy": "©", "reg": "®",
            "deg": "°", "cent": "¢", "pound": "£", "yen": "¥", "sect": "§", "middot": "·", "ordf": "ª", "ordm": "º",
        ]
        // Latin letters with accents: &aacute; &Ntilde; &uuml; ...
        let accents: [(String, String, String)] = [
            ("a", "á", "Á"), ("e", "é", "É"), ("i", "í", "Í"), ("o", "ó", "Ó"), ("u", "ú", "Ú"), ("y", "ý", "Ý"),
        ]
        for (letter, lower, upper) in accents {
            table[letter + "acute"] = lower
            table[letter.uppercased() + "acute"] = upper
        }
        let others: [String: String] = [
            "agrave": "à", "egrave": "è", "igrave": "ì", "ograve": "ò", "ugrave": "ù", "Agrave": "À", "Egrave": "È", "Igrave": "Ì", "Ograve": "Ò", "Ugrave": "Ù",
            "acirc": "â", "ecirc": "ê", "icirc": "î", "ocirc": "ô", "ucirc": "û", "Acirc": "Â", "Ecirc": "Ê", "Icirc": "Î", "Ocirc": "Ô", "Ucirc": "Û",
            "auml": "ä", "euml": "ë", "iuml": "ï", "ouml": "ö", "uuml": "ü", "yuml": "ÿ", "Auml": "Ä", "Euml": "Ë", "Iuml": "Ï", "Ouml": "Ö", "Uuml": "Ü",
            "atilde": "ã", "otilde": "õ", "ntilde": "ñ", "Atilde": "Ã", "Otilde": "Õ", "Ntilde": "Ñ", "ccedil": "ç", "Ccedil": "Ç",
            "szlig": "ß", "aring": "å", "Aring": "Å", "aelig": "æ", "AElig": "Æ", "oslash": "ø", "Oslash": "Ø",
        ]
        table.merge(others) { first, _ in first }
        return table
    }()

    // MARK: Replies

    /// The new part of an e-mail reply: quoted history ("On ... wrote:", "El ... escribió:",
    /// "-----Original Message-----", Outlook's "From: ... Sent:" / "De: ... Enviado:" block) and
    /// everything after it cut, lines quoted with ">" dropped, the signature after "-- " (and
    /// "Sent from my iPhone"-style lines) cut. Under an "On ... wrote:" header whose message is quoted
    /// in ">" lines, the customer's words written below or between them stay.
    public static func newReplyText(_ text: String) -> String {
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var kept: [String] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if line == "-- " || trimmed == "--" || trimmed == "—" { break }
            if isHistoryStart(lines, at: index) {
                // A header over a message quoted all in ">" lines may be answered below or between them.
                if let end = quoteHeaderEnd(lines, at: index),
                   lines[(end + 1)...].first(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty })?
                       .trimmingCharacters(in: .whitespaces).hasPrefix(">") == true {
                    index = end + 1
                    continue
                }
                break
            }
            let folded = fold(trimmed)
            if ClientSignature.matches(folded) { break }
            if trimmed.hasPrefix(">") {
                index += 1
                continue
            }
            kept.append(line)
            index += 1
        }
        // Separators left above the cut (Outlook's "_____" line, a row of dashes) go too.
        while let last = kept.last, last.trimmingCharacters(in: .whitespaces).isEmpty || isSeparator(last) { kept.removeLast() }
        var result: [String] = []
        for line in kept.map({ $0.trimmingCharacters(in: .whitespaces) }) where !(line.isEmpty && (result.last?.isEmpty ?? true)) {
            result.append(line)  // leading blank lines and runs of them go
        }
        return result.joined(separator: "\n")
    }

    static func fold(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).lowercased()
    }

    static func isSeparator(_ line: String) -> Bool {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        return trimmed.count >= 5 && trimmed.allSatisfy { $0 == "_" || $0 == "-" || $0 == "=" }
    }

    /// The last line of an "On ... wrote:" / "El ... escribió:" header that starts at this line (Gmail
    /// may wrap it over two or three lines), or nil.
    static func quoteHeaderEnd(_ lines: [String], at index: Int) -> Int? {
        let folded = fold(lines[index].trimmingCharacters(in: .whitespaces))
        let openers = ["on ", "el ", "em ", "le ", "am "]
        let closers = ["wrote:", "escribio:", "escreveu:", "a ecrit :", "a ecrit:", "schrieb:"]
        guard openers.contains(where: folded.hasPrefix) else { return nil }
        var joined = folded
        for look in index..<min(lines.count, index + 3) {
            if look > index { joined += " " + fold(lines[look].trimmingCharacters(in: .whitespaces)) }
            if closers.contains(where: joined.hasSuffix) { return look }
        }
        return nil
    }

    /// Does quoted history start at this line?
    static func isHistoryStart(_ lines: [String], at index: Int) -> Bool {
        let folded = fold(lines[index].trimmingCharacters(in: .whitespaces))
        if folded.isEmpty { return false }
        // -----Original Message----- / ----- Mensaje original ----- / -------- Forwarded message ---------
        let letters = folded.filter { $0.isLetter || $0 == " " }.trimmingCharacters(in: .whitespaces)
        if folded.hasPrefix("---"), ["original message", "mensaje original", "forwarded message", "mensaje reenviado"].contains(letters) { return true }
        // "On Mon, 3 Jun 2024 at 10:00, Banco <avisos@banco.example> wrote:" (Gmail may wrap it over
        // two or three lines); "El lun, 3 jun 2024 a las 10:00, Banco (<...>) escribió:".
        if quoteHeaderEnd(lines, at: index) != nil { return true }
        // Outlook: "From: Banco <...>" then within a few lines "Sent:" (or "Date:"); in Spanish
        // "De: ..." then "Enviado:" (or "Fecha:").
        let headerPairs: [(String, [String])] = [("from:", ["sent:", "date:"]), ("de:", ["enviado:", "fecha:", "enviado el:"])]
        for (opener, followers) in headerPairs where folded.hasPrefix(opener) {
            for look in (index + 1)..<min(lines.count, index + 5) {
                let next = fold(lines[look].trimmingCharacters(in: .whitespaces))
                if followers.contains(where: next.hasPrefix) { return true }
            }
        }
        return false
    }
}
