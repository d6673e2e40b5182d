import Foundation

/// What is wrong with a multipart body (RFC 2046) or a multipart/form-data request (RFC 7578), in
/// words that tell the sender what to fix.
public struct MultipartError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// The Content-Type is missing or is not the multipart type expected.
        case notMultipart = "not_multipart"
        /// The Content-Type has no boundary parameter.
        case noBoundary = "no_boundary"
        /// The boundary is empty, longer than 70 characters or uses characters RFC 2046 does not allow.
        case badBoundary = "bad_boundary"
        /// The body is larger than the caller allows.
        case tooLarge = "too_large"
        /// The boundary line never appears in the body.
        case noOpeningBoundary = "no_opening_boundary"
        /// The body ends before the closing boundary line (`--boundary--`): truncated.
        case noClosingBoundary = "no_closing_boundary"
        /// Lines end in LF alone where multipart/form-data needs CRLF.
        case bareLineFeed = "bare_line_feed"
        case tooManyParts = "too_many_parts"
        /// A part's header block is longer than the caller allows.
        case headerTooLong = "header_too_long"
        /// A header line is not `Name: value`.
        case badHeader = "bad_header"
        /// A part's headers are not followed by an empty line.
        case unterminatedHeaders = "unterminated_headers"
        case noDisposition = "no_content_disposition"
        case badDisposition = "bad_content_disposition"
        case partWithoutName = "part_without_name"
        /// A header parameter (`; name="value"`) cannot be read.
        case badParameter = "bad_parameter"
        /// Multipart bodies nested deeper than the caller allows.
        case tooDeep = "too_deep"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// Bounds on what a multipart parser accepts, given by the caller (the HTTP route knows what it
/// can afford). Every one of them is checked before the work it bounds is done.
public struct MultipartLimits: Sendable, Equatable {
    /// The most parts a body (or each nested multipart) may have.
    public var maxParts: Int
    /// The largest body, in bytes.
    public var maxTotalBytes: Int
    /// The largest header block of one part, in bytes.
    public var maxHeaderBytes: Int
    /// How deep multiparts may nest inside each other (e-mail: mixed > alternative > related).
    public var maxDepth: Int

    public init(maxParts: Int = 256, maxTotalBytes: Int = 40 << 20, maxHeaderBytes: Int = 16 << 10, maxDepth: Int = 8) {
        self.maxParts = maxParts
        self.maxTotalBytes = maxTotalBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxDepth = maxDepth
    }
}

/// One header field, unfolded, its value trimmed.
public struct MIMEHeaderField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A header block (a part's, or an e-mail's).
public struct MIMEHeaders: Sendable, Equatable {
    public var fields: [MIMEHeaderField]

    public init(_ fields: [MIMEHeaderField] = []) {
        self.fields = fields
    }

    /// The first field with this name (names compare without case).
    public subscript(name: String) -> String? {
        fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// A header block without its terminating empty line → fields. Continuation lines (starting
    /// with a space or tab) are unfolded. `allowBareLF` accepts lines ending in LF alone (e-mail
    /// as stored on disk); without it a CR or LF that does not end a line is an error.
    public static func parse(_ block: ArraySlice<UInt8>, allowBareLF: Bool, context: String) throws(MultipartError) -> MIMEHeaders {
        var fields: [MIMEHeaderField] = []
        var lines: [ArraySlice<UInt8>] = []
        var start = block.startIndex
        var index = block.startIndex
        while index < block.endIndex {
            let byte = block[index]
            if byte == 0x0D, index + 1 < block.endIndex, block[index + 1] == 0x0A {
                lines.append(block[start..<index])
                index += 2
                start = index
            } else if byte == 0x0A && allowBareLF {
                lines.append(block[start..<index])
                index += 1
                start = index
            } else if byte == 0x0A || byte == 0x0D {
                throw MultipartError(allowBareLF || byte == 0x0D ? .badHeader : .bareLineFeed,
                                     "\(context): a header line contains a lone \(byte == 0x0D ? "CR" : "LF"); header lines end in CRLF")
            } else {
                index += 1
            }
        }
        if start < block.endIndex { lines.append(block[start..<block.endIndex]) }
        for line in lines {
            if let first = line.first, first == 0x20 || first == 0x09 {
                guard !fields.isEmpty else {
                    throw MultipartError(.badHeader, "\(context): the header block starts with a continuation line (a line starting with a space)")
                }
                fields[fields.count - 1].value += " " + text(line).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw MultipartError(.badHeader, "\(context): the header line \"\(preview(line))\" has no ':' (headers are Name: value)")
            }
            let name = text(line[line.startIndex..<colon])
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw MultipartError(.badHeader, "\(context): the header name \"\(preview(line[line.startIndex..<colon]))\" is empty or has spaces or non-ASCII characters")
            }
            fields.append(MIMEHeaderField(name: name, value: text(line[(colon + 1)...]).trimmingCharacters(in: .whitespaces)))
        }
        return MIMEHeaders(fields)
    }

    /// Header bytes as text: UTF-8 when they are (RFC 6532, RFC 7578 names), else Latin-1.
    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(validating: bytes, as: UTF8.self) ?? String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }

    /// The start of a line for an error message, printable.
    static func preview(_ bytes: ArraySlice<UInt8>) -> String {
        let shown = text(bytes.prefix(60)).unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : Character($0) }
        return String(shown) + (bytes.count > 60 ? "…" : "")
    }
}

/// A header value with parameters: `form-data; name="file"; filename="a.pdf"`,
/// `multipart/mixed; boundary=xYz` (RFC 2045 §5.1, RFC 2183, RFC 7578 §4.2).
public struct HeaderParameters: Sendable, Equatable {
    /// The value before the first `;`, lowercased (a media type or a disposition type).
    public var value: String
    /// Parameters by lowercased name. Quoted strings are unquoted (a backslash escapes the next
    /// character); RFC 2231/5987 extended values (`filename*=UTF-8''a%C3%B1o.pdf`) are decoded
    /// and stored under the plain name, taking precedence over it.
    public var parameters: [String: String]

    public subscript(name: String) -> String? { parameters[name] }

    public static func parse(_ header: String, context: String) throws(MultipartError) -> HeaderParameters {
        let scalars = Array(header.unicodeScalars)
        var index = 0
        func skipSpaces() {
            while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" { index += 1 }
        }
        var valueScalars = String.UnicodeScalarView()
        while index < scalars.count, scalars[index] != ";" {
            valueScalars.append(scalars[index])
            index += 1
        }
        let value = String(valueScalars).trimmingCharacters(in: .whitespaces).lowercased()
        var plain: [String: String] = [:]
        var extended: [String: String] = [:]
        while index < scalars.count {
            // At a ';'.
            index += 1
            skipSpaces()
            if index >= scalars.count { break }  // a trailing ';' is harmless
            if scalars[index] == ";" { continue }
            var nameScalars = String.UnicodeScalarView()
            while index < scalars.count, scalars[index] != "=", scalars[index] != ";" {
                nameScalars.append(scalars[index])
                index += 1
            }
            let name = String(nameScalars).trimmingCharacters(in: .whitespaces).lowercased()
            guard index < scalars.count, scalars[index] == "=" else {
                throw MultipartError(.badParameter, "\(context): the parameter \"\(name)\" has no value (parameters are name=value or name=\"value\")")
            }
            guard !name.isEmpty, !name.contains(" ") else {
                throw MultipartError(.badParameter, "\(context): a parameter has an empty name or a name with spaces")
            }
            index += 1
            skipSpaces()
            var parameter = String.UnicodeScalarView()
            var quoted = false
            if index < scalars.count, scalars[index] == "\"" {
                quoted = true
                index += 1
                var closed = false
                while index < scalars.count {
                    let scalar = scalars[index]
                    if scalar == "\\", index + 1 < scalars.count {
                        parameter.append(scalars[index + 1])
                        index += 2
                    } else if scalar == "\"" {
                        index += 1
                        closed = true
                        break
                    } else {
                        parameter.append(scalar)
                        index += 1
                    }
                }
                guard closed else {
                    throw MultipartError(.badParameter, "\(context): the quoted value of \"\(name)\" has no closing quote")
                }
                skipSpaces()
                guard index >= scalars.count || scalars[index] == ";" else {
                    throw MultipartError(.badParameter, "\(context): unexpected \"\(scalars[index])\" after the quoted value of \"\(name)\" (parameters are separated by ';')")
                }
            } else {
                while index < scalars.count, scalars[index] != ";" {
                    parameter.append(scalars[index])
                    index += 1
                }
            }
            // A quoted value is kept as written; an unquoted one loses surrounding spaces.
            let text = quoted ? String(parameter) : String(parameter).trimmingCharacters(in: .whitespaces)
            if name.hasSuffix("*") {
                let base = String(name.dropLast())
                guard extended[base] == nil else {
                    throw MultipartError(.badParameter, "\(context): the parameter \"\(name)\" appears twice")
                }
                guard let decoded = Self.decodeExtended(text) else {
                    throw MultipartError(.badParameter, "\(context): \"\(name)\" is not charset'language'percent-encoded text (RFC 5987)")
                }
                extended[base] = decoded
                continue
            }
            guard plain[name] == nil else {
                throw MultipartError(.badParameter, "\(context): the parameter \"\(name)\" appears twice")
            }
            plain[name] = text
        }
        plain.merge(extended) { _, extended in extended }
        return HeaderParameters(value: value, parameters: plain)
    }

    /// RFC 5987: `UTF-8'es'a%C3%B1o.pdf` (UTF-8 and ISO-8859-1 are the charsets it names).
    static func decodeExtended(_ text: String) -> String? {
        let pieces = text.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count == 3 else { return nil }
        var bytes: [UInt8] = []
        var utf8 = Array(pieces[2].utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard utf8.count >= 2, let high = hexValue(utf8[utf8.startIndex]), let low = hexValue(utf8[utf8.startIndex + 1]) else { return nil }
                bytes.append(high << 4 | low)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        switch pieces[0].lowercased() {
        case "utf-8", "utf8": return String(validating: bytes, as: UTF8.self)
        case "iso-8859-1", "latin1": return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        default: return nil
        }
    }
}

func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// One body part of a multipart: its headers and its bytes, untouched.
public struct MIMEPart: Sendable, Equatable {
    public var headers: MIMEHeaders
    public var body: [UInt8]
}

/// RFC 2046 §5.1 multipart bodies: a preamble (ignored), parts each introduced by a line
/// `--boundary`, the closing line `--boundary--`, an epilogue (ignored). The CRLF before each
/// boundary line belongs to the boundary, not to the part, so parts are binary-safe. A line that
/// starts with `--boundary` but goes on with other characters is content, not a boundary.
/// The search is linear in the body's size whatever it holds.
public enum MIMEMultipart {
    /// `allowBareLF`: accept lines that end in LF alone (e-mail); multipart/form-data needs CRLF.
    public static func split(_ body: [UInt8], boundary: String, limits: MultipartLimits, allowBareLF: Bool) throws(MultipartError) -> [MIMEPart] {
        guard body.count <= limits.maxTotalBytes else {
            throw MultipartError(.tooLarge, "the body is \(body.count) bytes; at most \(limits.maxTotalBytes) are accepted")
        }
        let scanner = DelimiterScanner(body: body, boundary: Array(boundary.utf8), allowBareLF: allowBareLF)
        guard let opening = try scanner.first() else {
            throw MultipartError(.noOpeningBoundary, "the body never has the line --\(boundary) that the Content-Type's boundary announces")
        }
        var parts: [MIMEPart] = []
        var cursor = opening.end
        var closed = opening.closing
        while !closed {
            guard let next = try scanner.next(from: cursor) else {
                throw MultipartError(.noClosingBoundary, "the body ends inside part \(parts.count + 1) without the closing line --\(boundary)-- (truncated?)")
            }
            guard parts.count < limits.maxParts else {
                throw MultipartError(.tooManyParts, "the body has more than \(limits.maxParts) parts")
            }
            parts.append(try part(body[cursor..<next.start], number: parts.count + 1, limits: limits, allowBareLF: allowBareLF))
            cursor = next.end
            closed = next.closing
        }
        return parts
    }

    /// Headers, an empty line, the content. A part that starts with the empty line has no headers.
    static func part(_ bytes: ArraySlice<UInt8>, number: Int, limits: MultipartLimits, allowBareLF: Bool) throws(MultipartError) -> MIMEPart {
        let context = "part \(number)"
        let start = bytes.startIndex
        if bytes.isEmpty { return MIMEPart(headers: MIMEHeaders(), body: []) }
        if bytes.starts(with: [0x0D, 0x0A]) { return MIMEPart(headers: MIMEHeaders(), body: Array(bytes[(start + 2)...])) }
        if allowBareLF, bytes.first == 0x0A { return MIMEPart(headers: MIMEHeaders(), body: Array(bytes[(start + 1)...])) }
        guard let (headerEnd, bodyStart) = headerBlockEnd(bytes, allowBareLF: allowBareLF, limit: limits.maxHeaderBytes) else {
            if bytes.count > limits.maxHeaderBytes {
                throw MultipartError(.headerTooLong, "\(context): its headers run past \(limits.maxHeaderBytes) bytes without the empty line that ends them")
            }
            throw MultipartError(.unterminatedHeaders, "\(context): its headers are not followed by an empty line (CRLF CRLF) before the next boundary")
        }
        let headers = try MIMEHeaders.parse(bytes[start..<headerEnd], allowBareLF: allowBareLF, context: context)
        return MIMEPart(headers: headers, body: Array(bytes[bodyStart...]))
    }

    /// Where the header block ends (exclusive) and the content starts, looking no further than
    /// `limit` bytes.
    static func headerBlockEnd(_ bytes: ArraySlice<UInt8>, allowBareLF: Bool, limit: Int) -> (Int, Int)? {
        let start = bytes.startIndex
        let end = min(bytes.endIndex, start + limit + 4)
        var index = start
        while index < end {
            defer { index += 1 }
            guard bytes[index] == 0x0A else { continue }
            let hasCR = index > start && bytes[index - 1] == 0x0D
            guard hasCR || allowBareLF else { continue }
            let lineEnd = hasCR ? index - 1 : index
            guard lineEnd - start <= limit else { return nil }
            let next = index + 1
            if next + 1 < bytes.endIndex, bytes[next] == 0x0D, bytes[next + 1] == 0x0A { return (lineEnd, next + 2) }
            if allowBareLF, next < bytes.endIndex, bytes[next] == 0x0A { return (lineEnd, next + 1) }
        }
        return nil
    }
}

/// Finds boundary lines: `--boundary` at the start of the body or after a line break, then
/// optional spaces, then a line break (another part follows) or `--` (the last one).
struct DelimiterScanner {
    struct Delimiter {
        /// Where the part before it ends (the line break before `--boundary`).
        var start: Int
        /// Where the next part starts.
        var end: Int
        var closing: Bool
    }

    let body: [UInt8]
    let boundary: [UInt8]
    let allowBareLF: Bool
    /// "\n--boundary".
    let pattern: [UInt8]

    init(body: [UInt8], boundary: [UInt8], allowBareLF: Bool) {
        self.body = body
        self.boundary = boundary
        self.allowBareLF = allowBareLF
        pattern = [0x0A, 0x2D, 0x2D] + boundary
    }

    /// The opening boundary line (a preamble before it is skipped).
    func first() throws(MultipartError) -> Delimiter? {
        if body.starts(with: pattern[1...]), let delimiter = try check(dashes: 0, start: 0) { return delimiter }
        return try next(from: 0)
    }

    /// The next boundary line at or after `cursor`, which is the start of a part.
    func next(from cursor: Int) throws(MultipartError) -> Delimiter? {
        // A part with no bytes at all: "--b CRLF --b" (the line break was taken by the previous line).
        if body[cursor...].starts(with: pattern[1...]), let delimiter = try check(dashes: cursor, start: cursor) { return delimiter }
        var searchFrom = cursor
        while let match = find(from: searchFrom) {
            var start = match
            if match > cursor, body[match - 1] == 0x0D {
                start = match - 1
            } else if !allowBareLF {
                searchFrom = match + 1
                continue
            }
            if let delimiter = try check(dashes: match + 1, start: start) { return delimiter }
            searchFrom = match + 1
        }
        return nil
    }

    /// `--boundary` is at `dashes`: is it a boundary line?
    func check(dashes: Int, start: Int) throws(MultipartError) -> Delimiter? {
        var index = dashes + 2 + boundary.count
        if index + 1 < body.count, body[index] == 0x2D, body[index + 1] == 0x2D {
            return Delimiter(start: start, end: body.count, closing: true)  // the epilogue is ignored
        }
        while index < body.count, body[index] == 0x20 || body[index] == 0x09 { index += 1 }
        if index == body.count {
            let name = String(decoding: boundary, as: UTF8.self)
            throw MultipartError(.noClosingBoundary, "the body ends right after a --\(name) line, without the closing line --\(name)-- (truncated?)")
        }
        if body[index] == 0x0D, index + 1 < body.count, body[index + 1] == 0x0A {
            return Delimiter(start: start, end: index + 2, closing: false)
        }
        if body[index] == 0x0A {
            if allowBareLF { return Delimiter(start: start, end: index + 1, closing: false) }
            throw MultipartError(.bareLineFeed, "the boundary line --\(String(decoding: boundary, as: UTF8.self)) ends in LF alone; multipart/form-data lines end in CRLF")
        }
        return nil  // "--boundaryX...": content that starts like the boundary
    }

    /// The index of the next "\n--boundary" at or after `start`. Each line break is found once
    /// (memchr), and the comparison after it stops where the bytes differ, at the next line break
    /// at the latest (a boundary has none): linear in the body, even in a debug build.
    func find(from start: Int) -> Int? {
        guard start < body.count else { return nil }
        return body.withUnsafeBufferPointer { bytes -> Int? in
            pattern.withUnsafeBufferPointer { pattern -> Int? in
                guard let base = bytes.baseAddress, let patternBase = pattern.baseAddress else { return nil }
                var position = start
                while position < bytes.count {
                    guard let found = memchr(base + position, 0x0A, bytes.count - position) else { return nil }
                    let index = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found))
                    if bytes.count - index >= pattern.count, memcmp(base + index, patternBase, pattern.count) == 0 { return index }
                    position = index + 1
                }
                return nil
            }
        }
    }
}

/// One field of a multipart/form-data body.
public struct FormPart: Sendable, Equatable {
    public var name: String
    /// Set for file fields (may be empty: a file input left empty).
    public var filename: String?
    /// The part's Content-Type, when it has one.
    public var contentType: String?
    public var headers: MIMEHeaders
    public var body: [UInt8]
}

/// multipart/form-data (RFC 7578) as web forms and webhooks (SendGrid Inbound Parse) post it:
/// CRLF line endings, each part with `Content-Disposition: form-data; name="..."`.
public enum MultipartFormData {
    /// The boundary of a `multipart/form-data; boundary=...` Content-Type.
    public static func boundary(contentType: String?) throws(MultipartError) -> String {
        guard let contentType, !contentType.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw MultipartError(.notMultipart, "the request has no Content-Type; it must be multipart/form-data; boundary=...")
        }
        let parsed = try HeaderParameters.parse(contentType, context: "Content-Type")
        guard parsed.value == "multipart/form-data" else {
            throw MultipartError(.notMultipart, "the Content-Type is \(parsed.value), not multipart/form-data")
        }
        return try validBoundary(parsed["boundary"])
    }

    /// RFC 2046: 1 to 70 characters from a small set, not ending in a space.
    static func validBoundary(_ boundary: String?) throws(MultipartError) -> String {
        guard let boundary else {
            throw MultipartError(.noBoundary, "the Content-Type has no boundary parameter (multipart/form-data; boundary=...)")
        }
        let allowed = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ".unicodeScalars)
        guard (1...70).contains(boundary.unicodeScalars.count) else {
            throw MultipartError(.badBoundary, "the boundary is \(boundary.unicodeScalars.count) characters long; RFC 2046 allows 1 to 70")
        }
        guard boundary.unicodeScalars.allSatisfy(allowed.contains), boundary.last != " " else {
            throw MultipartError(.badBoundary, "the boundary \"\(boundary)\" has characters RFC 2046 does not allow (letters, digits, '()+_,-./:=? and inner spaces)")
        }
        return boundary
    }

    public static func parse(_ body: [UInt8], contentType: String?, limits: MultipartLimits = MultipartLimits()) throws(MultipartError) -> [FormPart] {
        let boundary = try boundary(contentType: contentType)
        let parts = try MIMEMultipart.split(body, boundary: boundary, limits: limits, allowBareLF: false)
        var fields: [FormPart] = []
        fields.reserveCapacity(parts.count)
        for (offset, part) in parts.enumerated() {
            let context = "part \(offset + 1)"
            guard let disposition = part.headers["Content-Disposition"] else {
                throw MultipartError(.noDisposition, "\(context) has no Content-Disposition header (each part needs Content-Disposition: form-data; name=\"...\")")
            }
            let parsed = try HeaderParameters.parse(disposition, context: "\(context) Content-Disposition")
            guard parsed.value == "form-data" else {
                throw MultipartError(.badDisposition, "\(context) has Content-Disposition \(parsed.value); multipart/form-data parts are form-data")
            }
            guard let name = parsed["name"], !name.isEmpty else {
                throw MultipartError(.partWithoutName, "\(context) has no name (Content-Disposition: form-data; name=\"...\")")
            }
            fields.append(FormPart(name: name, filename: parsed["filename"], contentType: part.headers["Content-Type"], headers: part.headers, body: part.body))
        }
        return fields
    }
}
