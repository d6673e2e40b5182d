import Foundation

/// A piece of HTML that is safe to send. Only string literals written in this module's source are
/// taken as markup; every interpolated `String` (a template's text, a caller's name, a translated
/// phrase) is escaped, so a page cannot be built with an unescaped value by mistake:
///
///     let row: HTML = "<td>\(template.name)</td>"      // name is escaped
///     let page: HTML = "<tr>\(row)</tr>"                 // HTML is inserted as it is
public struct HTML: Sendable, Equatable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public private(set) var rendered: String

    public init(stringLiteral value: String) { rendered = value }

    public init(stringInterpolation: Interpolation) { rendered = stringInterpolation.output }

    public var description: String { rendered }

    public static let empty: HTML = ""

    public struct Interpolation: StringInterpolationProtocol {
        var output = ""

        public init(literalCapacity: Int, interpolationCount: Int) { output.reserveCapacity(literalCapacity + 16 * interpolationCount) }

        public mutating func appendLiteral(_ literal: String) { output += literal }
        /// Text: always escaped (element content and double-quoted attribute values alike).
        public mutating func appendInterpolation(_ text: String) { output += HTML.escape(text) }
        public mutating func appendInterpolation(_ text: Substring) { output += HTML.escape(String(text)) }
        public mutating func appendInterpolation(_ number: Int) { output += String(number) }
        public mutating func appendInterpolation(_ html: HTML) { output += html.rendered }
        public mutating func appendInterpolation(_ html: HTML?) { output += html?.rendered ?? "" }
        public mutating func appendInterpolation(_ list: [HTML]) { for item in list { output += item.rendered } }
    }

    /// `&`, `<`, `>`, `"` and `'` as character references: safe in element content and in quoted
    /// attribute values. NUL becomes U+FFFD (HTML parsers drop or replace it inconsistently).
    public static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 || $0 == 0 }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\u{0}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `text` percent-encoded as one path segment (or query value): letters, digits and `-._~`
    /// stay, everything else (`/`, `?`, `#`, `%`, spaces, non-ASCII) is `%XX` of its UTF-8 bytes.
    /// The router percent-decodes path parameters once, so this round-trips any name.
    public static func component(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
