import Crypto
import Foundation
import GatewayCore

/// Customers' e-mail replies as SendGrid's Inbound Parse webhook posts them (multipart/form-data).
///
/// Default mode: fields `headers`, `dkim`, `content-ids`, `to`, `cc`, `from`, `text`, `html`,
/// `sender_ip`, `spam_report`, `envelope` (JSON `{"to":[...],"from":"..."}`), `attachments` (a
/// count), `attachment-info`, `subject`, `spam_score`, `charsets` (JSON: each field's charset), `SPF`,
/// and file parts `attachment1`...`attachmentN`. Raw mode ("POST the raw, full MIME message"): the
/// same without `text`/`html`/`headers`, with `email` holding the whole message.
///
/// What the message says (`body`):
/// - the reply text: `text` decoded from the charset `charsets` gives it (UTF-8, ISO-8859-1,
///   ISO-8859-15, Windows-1252, US-ASCII; another charset is refused, not guessed), or when there
///   is no text the `html` as a reader sees it; in raw mode the first text/plain part of the
///   message (quoted-printable and base64 decoded), else its text/html part;
/// - only what the customer wrote now: quoted history ("On ... wrote:", "El ... escribió:",
///   "-----Original Message-----", Outlook's "From:/Sent:" and "De:/Enviado:" blocks) and the
///   signature after "-- " are cut, lines quoted with ">" dropped;
/// - the subject first (without "Re:"-like prefixes), on its own line, when the customer wrote it: a subject without a reply or
///   forward prefix ("STOP", "Baja") is the customer's and counts (a reply may be only a subject);
///   "Re: <subject>" is a reply to one of our messages and is left out, unless `ourSubjects` is
///   given and the subject after "Re:" is none of them (the customer changed it).
///
/// `messageID` is the Message-ID header without its angle brackets, so SendGrid's repeated
/// deliveries of one e-mail are recognized; without one, the SHA-256 (hex) of from, to, subject
/// and text. `raw` is the fields as JSON, file parts as {filename, type, size} without their bytes.
public struct SendGridInbound: Sendable {
    public let provider: String
    public let limits: MultipartLimits
    /// The subjects of the e-mails the gateway sends, to recognize "Re: <our subject>" exactly.
    /// Empty: any subject with a reply prefix is taken as a reply to ours.
    public let ourSubjects: [String]

    public init(provider: String, limits: MultipartLimits = MultipartLimits(), ourSubjects: [String] = []) {
        self.provider = provider
        self.limits = limits
        self.ourSubjects = ourSubjects
    }

    public static let supportedCharsets = "UTF-8, ISO-8859-1 (latin1), ISO-8859-15, Windows-1252, US-ASCII"

    public func parse(body: [UInt8], contentType: String?, at: Date) -> Result<InboundMessage, ReceiptRejection> {
        do {
            return .success(try read(body: body, contentType: contentType, at: at))
        } catch let error as ReceiptRejection {
            return .failure(error)
        } catch let error as MultipartError {
            return .failure(ReceiptRejection(message: "the Inbound Parse body is not valid multipart/form-data: \(error)"))
        } catch {
            return .failure(ReceiptRejection(message: "\(error)"))
        }
    }

    /// Fields the message is made from: each may appear once.
    static let singleFields: Set<String> = ["headers", "from", "to", "subject", "text", "html", "envelope", "charsets", "email"]

    func read(body: [UInt8], contentType: String?, at: Date) throws -> InboundMessage {
        let parts = try MultipartFormData.parse(body, contentType: contentType, limits: limits)
        var fields: [String: FormPart] = [:]
        for part in parts {
            if fields[part.name] != nil {
                if Self.singleFields.contains(part.name) {
                    throw ReceiptRejection(message: "the field \(part.name) appears twice; SendGrid sends it once")
                }
                continue
            }
            fields[part.name] = part
        }
        let charsets = try Self.charsets(fields["charsets"])
        let envelope = try Self.envelope(fields["envelope"])

        func text(_ name: String) throws -> String? {
            guard let part = fields[name], part.filename == nil else { return nil }
            return try Self.decode(part, charsetLabel: charsets[name], field: name)
        }

        let fromField = try text("from")
        let toField = try text("to")
        var subject = try text("subject").map(MailText.decodeEncodedWords) ?? ""
        var headerMessageID: String?
        var replySource: String
        var hashedText: String
        var rawEmail: JSONValue?
        // Where the addresses may be read, best first.
        var fromCandidates: [String?] = [fromField]
        var toCandidates: [String?] = [toField]

        if let emailPart = fields["email"] {
            // Raw mode: the whole message.
            let mail = try RawMail(emailPart.body, limits: limits)
            headerMessageID = mail.headers["Message-ID"]
            fromCandidates.insert(mail.headers["From"], at: 0)
            toCandidates.insert(mail.headers["To"], at: 0)
            if let mailSubject = mail.headers["Subject"] { subject = MailText.decodeEncodedWords(mailSubject) }
            let (reply, isHTML) = try mail.readableText()
            replySource = isHTML ? MailText.htmlToText(reply) : reply
            hashedText = reply
            rawEmail = mail.raw
        } else {
            if let headers = try text("headers") { headerMessageID = Self.headerValue("Message-ID", in: headers) }
            let plain = try text("text")
            if let plain, !plain.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                replySource = plain
                hashedText = plain
            } else if let html = try text("html") {
                replySource = MailText.htmlToText(html)
                hashedText = html
            } else {
                replySource = ""
                hashedText = plain ?? ""
            }
        }
        subject = subject.trimmingCharacters(in: .whitespacesAndNewlines)

        func address(_ candidates: [String?]) -> String? {
            candidates.lazy.compactMap { $0.map(MailText.decodeEncodedWords).flatMap(MailText.firstAddress) }.first
        }
        guard let from = address(fromCandidates + [envelope.from]) else {
            throw ReceiptRejection(message: "the sender is unknown: neither the from field (or the e-mail's From header) nor envelope.from has an e-mail address")
        }
        guard let to = address(envelope.to + toCandidates) else {
            throw ReceiptRejection(message: "the recipient is unknown: neither envelope.to nor the to field has an e-mail address")
        }

        let reply = MailText.newReplyText(replySource)
        var message = reply
        if Self.subjectCounts(subject, ourSubjects: ourSubjects) {
            let words = Self.strippedSubject(subject).0
            message = reply.isEmpty ? words : words + "\n" + reply
        }

        let messageID: String
        if let id = headerMessageID.map(Self.bareMessageID), !id.isEmpty {
            messageID = id
        } else {
            let material = [fromCandidates.compactMap { $0 }.first ?? "", toCandidates.compactMap { $0 }.first ?? "", subject, hashedText].joined(separator: "\u{0}")
            messageID = SHA256.hash(data: Data(material.utf8)).hexString
        }

        var raw: [String: JSONValue] = [:]
        for (name, part) in fields {
            if name == "email", let rawEmail {
                raw[name] = rawEmail
            } else if let filename = part.filename {
                var file: [String: JSONValue] = ["filename": .string(filename), "size": .number(Double(part.body.count))]
                if let type = part.contentType { file["type"] = .string(type) }
                raw[name] = .object(file)
            } else {
                let charset = charsets[name].flatMap(MailCharset.init(label:)) ?? Self.partCharset(part) ?? .utf8
                raw[name] = .string(charset.decode(part.body))
            }
        }
        return InboundMessage(provider: provider, messageID: messageID, from: from, to: to, body: message, at: at, raw: JSONValue.object(raw).serialized,
                              channel: .email, subject: subject)
    }

    // MARK: Fields

    /// The `charsets` field: {"text": "iso-8859-1", ...}.
    static func charsets(_ part: FormPart?) throws -> [String: String] {
        guard let part else { return [:] }
        guard let value = try? JSONParser.parse(part.body), case .object(let object) = value else {
            throw ReceiptRejection(message: "the charsets field is not a JSON object like {\"text\":\"UTF-8\"}")
        }
        var charsets: [String: String] = [:]
        for (name, value) in object {
            guard case .string(let label) = value else {
                throw ReceiptRejection(message: "charsets.\(name) must be a string (a charset name), got \(value.typeName)")
            }
            charsets[name] = label
        }
        return charsets
    }

    struct Envelope {
        var to: [String] = []
        var from: String?
    }

    /// The `envelope` field: {"to":["..."],"from":"..."}.
    static func envelope(_ part: FormPart?) throws -> Envelope {
        guard let part else { return Envelope() }
        guard let value = try? JSONParser.parse(part.body), case .object(let object) = value else {
            throw ReceiptRejection(message: "the envelope field is not a JSON object like {\"to\":[\"...\"],\"from\":\"...\"}")
        }
        var envelope = Envelope()
        switch object["to"] {
        case .array(let items): envelope.to = items.compactMap { if case .string(let text) = $0 { text } else { nil } }
        case .string(let text): envelope.to = [text]
        default: break
        }
        if case .string(let from) = object["from"] { envelope.from = from }
        return envelope
    }

    /// A form field as text: the charset `charsets` gives it, else its part's Content-Type charset,
    /// else UTF-8.
    static func decode(_ part: FormPart, charsetLabel: String?, field: String) throws -> String {
        if let label = charsetLabel ?? partCharsetLabel(part) {
            guard let charset = MailCharset(label: label) else {
                throw ReceiptRejection(message: "the \(field) field is in charset \"\(label)\", which the gateway does not decode (it reads \(supportedCharsets))")
            }
            return charset.decode(part.body)
        }
        return MailCharset.utf8.decode(part.body)
    }

    static func partCharsetLabel(_ part: FormPart) -> String? {
        guard let type = part.contentType else { return nil }
        return (try? HeaderParameters.parse(type, context: "Content-Type"))?["charset"]
    }

    static func partCharset(_ part: FormPart) -> MailCharset? {
        partCharsetLabel(part).flatMap(MailCharset.init(label:))
    }

    /// The first header of that name in a header block as text (lines unfolded; lines that are not
    /// headers are skipped: the block is the sender's, not SendGrid's).
    static func headerValue(_ name: String, in block: String) -> String? {
        let lines = block.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        let prefix = name.lowercased() + ":"
        var index = 0
        while index < lines.count {
            let line = lines[index]
            if line.isEmpty { break }  // end of the header block
            if line.lowercased().hasPrefix(prefix) {
                var value = String(line.dropFirst(prefix.count))
                var next = index + 1
                while next < lines.count, let first = lines[next].first, first == " " || first == "\t" {
                    value += " " + lines[next].trimmingCharacters(in: .whitespaces)
                    next += 1
                }
                return value.trimmingCharacters(in: .whitespaces)
            }
            index += 1
        }
        return nil
    }

    /// "<CAB...@mail.gmail.com>" → "CAB...@mail.gmail.com".
    static func bareMessageID(_ header: String) -> String {
        var id = header.trimmingCharacters(in: .whitespaces)
        if let open = id.firstIndex(of: "<"), let close = id[open...].firstIndex(of: ">") {
            id = String(id[id.index(after: open)..<close])
        }
        return id.trimmingCharacters(in: .whitespaces)
    }

    // MARK: Subject

    /// Reply and forward prefixes in the languages of the gateway's customers (Re, RE, Fwd, FW,
    /// RV (reenviado), R, Res, Resp, Respuesta, AW, WG, TR), also "Re[2]:" and "[EXTERNAL]" tags.
    static let replyPrefixes: Set<String> = ["re", "fw", "fwd", "rv", "r", "res", "resp", "respuesta", "aw", "wg", "tr", "rif", "sv", "vs"]

    /// The subject without reply/forward prefixes and bracketed tags, and whether it had a prefix.
    static func strippedSubject(_ subject: String) -> (String, Bool) {
        var rest = Substring(subject.trimmingCharacters(in: .whitespaces))
        var wasReply = false
        var progressed = true
        while progressed {
            progressed = false
            rest = rest.drop(while: { $0 == " " || $0 == "\t" })
            if rest.first == "[", let close = rest.firstIndex(of: "]") {
                rest = rest[rest.index(after: close)...]
                progressed = true
                continue
            }
            guard let colon = rest.prefix(16).firstIndex(where: { $0 == ":" || $0 == "：" }) else { break }
            var word = rest[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            if let bracket = word.firstIndex(where: { $0 == "[" || $0 == "(" }) { word = String(word[..<bracket]) }
            if replyPrefixes.contains(word) {
                rest = rest[rest.index(after: colon)...]
                wasReply = true
                progressed = true
            }
        }
        return (rest.trimmingCharacters(in: .whitespaces), wasReply)
    }

    /// Whether the subject is the customer's words (see the type's documentation).
    static func subjectCounts(_ subject: String, ourSubjects: [String]) -> Bool {
        let (rest, wasReply) = strippedSubject(subject)
        guard !rest.isEmpty else { return false }
        let normalized = MailText.fold(rest).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let ours = ourSubjects.map { MailText.fold(strippedSubject($0).0).split(whereSeparator: \.isWhitespace).joined(separator: " ") }
        if ours.contains(normalized) { return false }
        return !wasReply || !ourSubjects.isEmpty
    }
}

/// A whole e-mail (RFC 5322 + MIME) as raw mode posts it, read far enough for a reply: headers and
/// the leaf parts of its multiparts.
struct RawMail {
    struct Leaf {
        var headers: MIMEHeaders
        var type: HeaderParameters
        var body: [UInt8]
        var isAttachment: Bool
    }

    var headers: MIMEHeaders
    var headerText: String
    var size: Int
    var leaves: [Leaf] = []

    init(_ bytes: [UInt8], limits: MultipartLimits) throws {
        size = bytes.count
        let (headers, headerText, body) = try Self.split(bytes[...], limits: limits, context: "the e-mail")
        self.headers = headers
        self.headerText = headerText
        try collect(headers: headers, body: body, depth: 0, limits: limits)
    }

    /// Header block and content (split at the first empty line; CRLF or LF).
    static func split(_ bytes: ArraySlice<UInt8>, limits: MultipartLimits, context: String) throws -> (MIMEHeaders, String, [UInt8]) {
        if bytes.starts(with: [0x0D, 0x0A]) { return (MIMEHeaders(), "", Array(bytes.dropFirst(2))) }
        if bytes.first == 0x0A { return (MIMEHeaders(), "", Array(bytes.dropFirst())) }
        let (headerEnd, bodyStart): (Int, Int)
        let limit = max(limits.maxHeaderBytes, 256 << 10)
        if let found = MIMEMultipart.headerBlockEnd(bytes, allowBareLF: true, limit: limit) {
            (headerEnd, bodyStart) = found
        } else if bytes.count > limit {
            throw ReceiptRejection(message: "email: its headers run past \(limit) bytes without the empty line that ends them")
        } else {
            // Headers only, no content.
            (headerEnd, bodyStart) = (bytes.endIndex, bytes.endIndex)
        }
        let block = bytes[bytes.startIndex..<headerEnd]
        var headers = MIMEHeaders()
        do {
            headers = try MIMEHeaders.parse(block, allowBareLF: true, context: context)
        } catch {
            throw ReceiptRejection(message: "email: \(error.message)")
        }
        return (headers, MIMEHeaders.text(block), Array(bytes[bodyStart...]))
    }

    mutating func collect(headers: MIMEHeaders, body: [UInt8], depth: Int, limits: MultipartLimits) throws {
        let type = (try? HeaderParameters.parse(headers["Content-Type"] ?? "text/plain", context: "Content-Type"))
            ?? HeaderParameters(value: "text/plain", parameters: [:])
        let disposition = (try? HeaderParameters.parse(headers["Content-Disposition"] ?? "", context: "Content-Disposition"))?.value ?? ""
        if type.value.hasPrefix("multipart/") {
            guard depth < limits.maxDepth else {
                throw ReceiptRejection(message: "email: multiparts are nested more than \(limits.maxDepth) deep")
            }
            let boundary: String
            let parts: [MIMEPart]
            do {
                boundary = try MultipartFormData.validBoundary(type["boundary"])
                parts = try MIMEMultipart.split(body, boundary: boundary, limits: limits, allowBareLF: true)
            } catch {
                throw ReceiptRejection(message: "email: its \(type.value) body cannot be read: \(error)")
            }
            for part in parts {
                try collect(headers: part.headers, body: part.body, depth: depth + 1, limits: limits)
            }
            return
        }
        guard leaves.count < limits.maxParts else {
            throw ReceiptRejection(message: "email: more than \(limits.maxParts) parts")
        }
        leaves.append(Leaf(headers: headers, type: type, body: body, isAttachment: disposition == "attachment" || type["name"] != nil && !type.value.hasPrefix("text/")))
    }

    /// The first text/plain part that is not an attachment and not blank, else the first text/html
    /// one that shows some text (Outlook sends a blank text/plain beside the HTML it wrote in),
    /// decoded; and whether it is HTML. Nothing readable: "".
    func readableText() throws -> (String, Bool) {
        let candidates = leaves.filter { !$0.isAttachment }
        func blank(_ text: String) -> Bool { text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        for leaf in candidates where leaf.type.value == "text/plain" {
            let text = try decoded(leaf)
            if !blank(text) { return (text, false) }
        }
        for leaf in candidates where leaf.type.value == "text/html" {
            let html = try decoded(leaf)
            if !blank(MailText.htmlToText(html)) { return (html, true) }
        }
        return ("", false)
    }

    /// A leaf's content: transfer encoding undone, charset decoded.
    func decoded(_ leaf: Leaf) throws -> String {
        let bytes = try Self.contentBytes(leaf)
        guard let label = leaf.type["charset"] else {
            // No charset: UTF-8 when it is, else Windows-1252 (older clients writing Latin-1 unlabeled).
            return String(validating: bytes, as: UTF8.self) ?? MailCharset.windows1252.decode(bytes)
        }
        guard let charset = MailCharset(label: label) else {
            throw ReceiptRejection(message: "email: the \(leaf.type.value) part is in charset \"\(label)\", which the gateway does not decode (it reads \(SendGridInbound.supportedCharsets))")
        }
        return charset.decode(bytes)
    }

    static func contentBytes(_ leaf: Leaf) throws -> [UInt8] {
        let encoding = (leaf.headers["Content-Transfer-Encoding"] ?? "7bit").trimmingCharacters(in: .whitespaces).lowercased()
        switch encoding {
        case "7bit", "8bit", "binary", "": return leaf.body
        case "quoted-printable": return MailText.decodeQuotedPrintable(leaf.body)
        case "base64":
            guard let decoded = MailText.decodeBase64(leaf.body) else {
                throw ReceiptRejection(message: "email: the \(leaf.type.value) part says base64 but is not valid base64")
            }
            return decoded
        default:
            throw ReceiptRejection(message: "email: the \(leaf.type.value) part has Content-Transfer-Encoding \"\(encoding)\" (7bit, 8bit, binary, quoted-printable and base64 are read)")
        }
    }

    /// The message for the log: headers, and each part's type and size; text parts' decoded text,
    /// attachments' names but not their bytes.
    var raw: JSONValue {
        var parts: [JSONValue] = []
        for leaf in leaves {
            var entry: [String: JSONValue] = ["type": .string(leaf.type.value), "size": .number(Double(leaf.body.count))]
            if let filename = (try? HeaderParameters.parse(leaf.headers["Content-Disposition"] ?? "", context: ""))?["filename"] ?? leaf.type["name"] {
                entry["filename"] = .string(filename)
            }
            if !leaf.isAttachment, leaf.type.value.hasPrefix("text/"), let text = try? decoded(leaf) { entry["text"] = .string(text) }
            parts.append(.object(entry))
        }
        return .object(["headers": .string(headerText), "size": .number(Double(size)), "parts": .array(parts)])
    }
}
