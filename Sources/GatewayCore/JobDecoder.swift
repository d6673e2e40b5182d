import Foundation

/// Why a job was refused. `code` is stable (for dashboards and the dead-letter stream), `message`
/// tells the sender what to fix, naming the field by its path.
public struct JobRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Reason
    public var message: String
    /// Whatever identity could be read before the job was refused, so the log can still file it.
    public var jobID: String?
    public var contactID: String?

    public init(code: Reason, message: String, jobID: String? = nil, contactID: String? = nil) {
        self.code = code
        self.message = message
        self.jobID = jobID
        self.contactID = contactID
    }

    public var description: String { "\(code): \(message)" }
}

/// Turns the bytes of a stream entry into a validated `Job`, or a rejection that names the field.
public struct JobDecoder: Sendable {
    public var maxJobBytes: Int

    public init(maxJobBytes: Int = 64 * 1024) {
        self.maxJobBytes = maxJobBytes
    }

    public func decode(_ bytes: [UInt8]) -> Result<Job, JobRejection> {
        guard bytes.count <= maxJobBytes else {
            return .failure(JobRejection(
                code: .oversized,
                message: "job is \(bytes.count) bytes; the limit is \(maxJobBytes) bytes (gateway.max_job_bytes)"))
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            return .failure(JobRejection(code: .notJSON, message: "job is not valid UTF-8 JSON: \(error)"))
        }
        guard case .object(let root) = value else {
            return .failure(JobRejection(code: .wrongType, message: "job must be a JSON object, got \(value.typeName)"))
        }
        var reader = Reader(root: root)
        do {
            return .success(try reader.job())
        } catch let rejection as JobRejection {
            var rejection = rejection
            rejection.jobID = reader.jobID
            rejection.contactID = reader.contactID
            return .failure(rejection)
        } catch {
            return .failure(JobRejection(code: .invalid, message: "\(error)", jobID: reader.jobID, contactID: reader.contactID))
        }
    }

    /// E.164: a plus sign, a country code that does not start with 0, 7 to 15 digits in all.
    public static func isE164(_ phone: String) -> Bool {
        PhoneNumbering.withUTF8(phone) { utf8 in
            guard utf8.count >= 8, utf8.count <= 16, utf8[0] == UInt8(ascii: "+"), utf8[1] != UInt8(ascii: "0") else {
                return false
            }
            return utf8.dropFirst().allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        }
    }

    /// A pragmatic address check: one @, a non-empty local part, a dotted domain, no spaces or
    /// control characters, at most 254 bytes (RFC 5321).
    public static func isEmailAddress(_ email: String) -> Bool {
        guard email.utf8.count <= 254 else { return false }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].utf8.count <= 64 else { return false }
        let domain = parts[1]
        guard domain.contains("."), !domain.hasPrefix("."), !domain.hasSuffix("."), !domain.contains("..") else { return false }
        return !email.unicodeScalars.contains { $0.value <= 0x20 || $0 == "<" || $0 == ">" || $0 == "," || $0 == ";" }
    }

    /// Template names are folder names under templates/: lower-case letters, digits, '-' and '_'.
    public static func isTemplateName(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 64 else { return false }
        func allowed(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
        }
        return first != UInt8(ascii: "-") && first != UInt8(ascii: "_") && name.utf8.allSatisfy(allowed)
    }
}

/// Field-by-field reading of the job object; every failure names the field's path.
private struct Reader {
    let root: [String: JSONValue]
    var jobID: String?
    var contactID: String?

    init(root: [String: JSONValue]) {
        self.root = root
    }

    mutating func job() throws -> Job {
        let id = try requiredString(root, "id", path: "id", maxLength: 200)
        jobID = id
        if let contactObject = root["contact"], case .object(let contact) = contactObject,
           case .string(let cid)? = contact["id"] {
            contactID = cid
        }
        let template = try requiredString(root, "template", path: "template", maxLength: 64)
        guard JobDecoder.isTemplateName(template) else {
            throw invalid("template", "must be a template folder name (a-z, 0-9, '-', '_'), got \"\(template)\"")
        }
        let channels = try readChannels()
        let contact = try readContact(channels: channels)
        let sentiment = try readSentiment()
        let data: [String: JSONValue]
        switch root["data"] {
        case nil, .null?: data = [:]
        case .object(let object)?: data = object
        case let other?: throw wrongType("data", "an object", other)
        }
        var category: Category?
        if let text = try optionalString(root, "category", path: "category") {
            guard let parsed = Category(rawValue: text) else {
                throw invalid("category", "must be \"collection\" or \"transactional\" (\"reply\" is the gateway's own answers to replies), got \"\(text)\"")
            }
            category = parsed
        }
        var expiresAt: Date?
        if let text = try optionalString(root, "expires_at", path: "expires_at") {
            guard let date = parseTimestamp(text) else {
                throw invalid("expires_at", "must be an ISO 8601 time with a zone, like 2026-12-02T00:00:00Z, got \"\(text)\"")
            }
            expiresAt = date
        }
        var attempt = 1
        if let value = root["_attempt"], case .number(let n) = value, n >= 1, n < 1000, n.rounded() == n {
            attempt = Int(n)
        }
        return Job(
            id: id, template: template, channels: channels, contact: contact,
            debtID: try optionalString(root, "debt_id", path: "debt_id", maxLength: 200),
            segment: try optionalString(root, "segment", path: "segment", maxLength: 100),
            sentiment: sentiment, data: data, category: category, expiresAt: expiresAt, attempt: attempt)
    }

    func readChannels() throws -> [Channel] {
        var names: [(String, String)] = []
        switch (root["channels"], root["channel"]) {
        case (nil, nil), (.null?, nil), (nil, .null?):
            throw JobRejection(code: .missingField, message: "channels is required: a list such as [\"sms\", \"email\"] (or channel: \"sms\")")
        case (let list?, nil), (let list?, .null?):
            guard case .array(let items) = list else { throw wrongType("channels", "an array of strings", list) }
            guard !items.isEmpty else { throw invalid("channels", "must name at least one channel") }
            for (index, item) in items.enumerated() {
                guard case .string(let name) = item else { throw wrongType("channels[\(index)]", "a string", item) }
                names.append((name, "channels[\(index)]"))
            }
        case (nil, let single?), (.null?, let single?):
            guard case .string(let name) = single else { throw wrongType("channel", "a string", single) }
            names.append((name, "channel"))
        case (_?, _?):
            throw invalid("channels", "give either channels or channel, not both")
        }
        var channels: [Channel] = []
        for (name, path) in names {
            guard let channel = Channel(rawValue: name) else {
                throw invalid(path, "must be one of sms, email, push; got \"\(name)\"")
            }
            if !channels.contains(channel) { channels.append(channel) }
        }
        return channels
    }

    func readContact(channels: [Channel]) throws -> Job.Contact {
        guard let value = root["contact"], value != .null else {
            throw JobRejection(code: .missingField, message: "contact is required (an object with at least contact.id)")
        }
        guard case .object(let object) = value else { throw wrongType("contact", "an object", value) }
        let id = try requiredString(object, "id", path: "contact.id", maxLength: 200)
        var contact = Job.Contact(id: id)
        contact.name = try optionalString(object, "name", path: "contact.name", maxLength: 200)
        contact.phone = try optionalString(object, "phone", path: "contact.phone", maxLength: 32)
        contact.email = try optionalString(object, "email", path: "contact.email", maxLength: 254)
        contact.timezone = try optionalString(object, "timezone", path: "contact.timezone", maxLength: 64)
        contact.locale = try optionalString(object, "locale", path: "contact.locale", maxLength: 35)
        switch object["push"] {
        case nil, .null?: break
        case .object(let push)?:
            let tokens = Job.Push(
                fcm: try optionalString(push, "fcm", path: "contact.push.fcm", maxLength: 4096),
                apns: try optionalString(push, "apns", path: "contact.push.apns", maxLength: 200))
            if tokens.fcm != nil || tokens.apns != nil { contact.push = tokens }
        case let other?: throw wrongType("contact.push", "an object with fcm and/or apns tokens", other)
        }
        if let phone = contact.phone, !JobDecoder.isE164(phone) {
            throw JobRejection(code: .invalidPhone,
                               message: "contact.phone must be E.164 (a plus sign, country code and number, digits only, like +50688887777), got \"\(phone)\"")
        }
        // The number's length for its country, from libphonenumber's metadata. That it can be a mobile is
        // asked here only when sms is every channel requested; with another channel to fall back on, the
        // worker finds sms unreachable for a fixed line (PhoneNumbering.smsUnreachable) and uses the next.
        if let phone = contact.phone, let problem = PhoneNumbering.problem(with: phone, forSMS: !channels.contains { $0 != .sms }) {
            throw JobRejection(code: .invalidPhone, message: "contact.phone " + problem)
        }
        if let email = contact.email, !JobDecoder.isEmailAddress(email) {
            throw JobRejection(code: .invalidEmail, message: "contact.email is not a usable address: \"\(email)\"")
        }
        // Lowercased, as replies' senders are: "Ana.Mora@Example.com" in a job and a reply from
        // ana.mora@example.com are one mailbox, whose opt-out must reach every job to it.
        contact.email = contact.email?.lowercased()
        for channel in channels {
            switch channel {
            case .sms where contact.phone == nil:
                throw JobRejection(code: .missingField, message: "contact.phone is required because channels includes sms")
            case .email where contact.email == nil:
                throw JobRejection(code: .missingField, message: "contact.email is required because channels includes email")
            case .push where contact.push == nil:
                throw JobRejection(code: .missingField, message: "contact.push.fcm or contact.push.apns is required because channels includes push")
            default: break
            }
        }
        return contact
    }

    func readSentiment() throws -> Job.Sentiment? {
        switch root["sentiment"] {
        case nil, .null?: return nil
        case .string?: return Job.Sentiment(label: try optionalString(root, "sentiment", path: "sentiment", maxLength: 50))
        case .object(let object)?:
            let label = try optionalString(object, "label", path: "sentiment.label", maxLength: 50)
            var score: Double?
            switch object["score"] {
            case nil, .null?: break
            case .number(let value)?:
                guard value >= -1, value <= 1 else { throw invalid("sentiment.score", "must be between -1 and 1, got \(value)") }
                score = value
            case let other?: throw wrongType("sentiment.score", "a number in [-1, 1]", other)
            }
            guard label != nil || score != nil else { throw invalid("sentiment", "needs a label, a score, or both") }
            var at: Date?
            if let text = try optionalString(object, "at", path: "sentiment.at") {
                guard let date = parseTimestamp(text) else {
                    throw invalid("sentiment.at", "must be an ISO 8601 time with a zone, like 2026-12-01T15:00:00Z, got \"\(text)\"")
                }
                at = date
            }
            return Job.Sentiment(label: label, score: score, at: at)
        case let other?: throw wrongType("sentiment", "a label string or an object with label and score", other)
        }
    }

    func requiredString(_ object: [String: JSONValue], _ key: String, path: String, maxLength: Int) throws -> String {
        guard let value = try optionalString(object, key, path: path, maxLength: maxLength) else {
            throw JobRejection(code: .missingField, message: "\(path) is required")
        }
        return value
    }

    func optionalString(_ object: [String: JSONValue], _ key: String, path: String, maxLength: Int = 1000) throws -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let text)?:
            // Blank: nothing but spaces (Unicode Zs) and tabs, as CharacterSet.whitespaces has it.
            let blank = text.unicodeScalars.allSatisfy { $0 == " " || $0 == "\t" || (!$0.isASCII && $0.properties.generalCategory == .spaceSeparator) }
            guard !blank else { throw invalid(path, "must not be empty") }
            guard text.utf8.count <= maxLength || text.count <= maxLength else { throw invalid(path, "is longer than \(maxLength) characters") }
            // Printable ASCII needs no further look; anything else is checked scalar by scalar.
            let printableASCII = text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
            guard printableASCII || !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw invalid(path, "must not contain control characters")
            }
            return text
        case let other?: throw wrongType(path, "a string", other)
        }
    }

    func wrongType(_ path: String, _ expected: String, _ got: JSONValue) -> JobRejection {
        JobRejection(code: .wrongType, message: "\(path) must be \(expected), got \(got.typeName)")
    }

    func invalid(_ path: String, _ message: String) -> JobRejection {
        JobRejection(code: .invalidValue, message: "\(path) \(message)")
    }
}

/// Parses RFC 3339 / ISO 8601 timestamps with a zone, with or without fractional seconds. The
/// form the log writes (`2026-11-24T08:00:00.123Z`) is read without a formatter: exports and the
/// worker read millions of them.
public func parseTimestamp(_ text: String) -> Date? {
    switch Timestamp.parseCanonical(text) {
    case .date(let date): return date
    case .invalid: return nil   // the right shape, but no such time (2026-02-30, 25:00)
    case .otherShape: break
    }
    let plain = ISO8601DateFormatter()
    plain.formatOptions = [.withInternetDateTime]
    if let date = plain.date(from: text) { return date }
    let fractional = ISO8601DateFormatter()
    fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return fractional.date(from: text)
}

/// A day (2026-11-01, meaning midnight UTC) or an ISO 8601 instant with a zone, as log filters take them.
public func parseDayOrInstant(_ text: String) -> Date? {
    parseTimestamp(text) ?? parseTimestamp(text + "T00:00:00Z")
}

/// Formats a time as the contact log and outbox write it: UTC, milliseconds, 'Z'.
public func formatTimestamp(_ date: Date) -> String {
    Timestamp.format(date)
}

enum Timestamp {
    /// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm), and back.
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Appends `value` as `width` decimal digits, zero-padded.
    static func put(_ value: Int, _ width: Int, into out: inout [UInt8]) {
        // Most significant digit first, straight into `out` (a temporary array cost an allocation a field).
        var divisor = 1
        for _ in 1..<max(width, 1) { divisor *= 10 }
        while divisor > 0 {
            out.append(UInt8(48 + value / divisor % 10))
            divisor /= 10
        }
    }

    /// Appends "2026-11-24".
    static func putDay(year: Int, month: Int, day: Int, into out: inout [UInt8]) {
        put(year, 4, into: &out); out.append(45); put(month, 2, into: &out); out.append(45); put(day, 2, into: &out)
    }

    /// "2026-11-24".
    static func dayString(year: Int, month: Int, day: Int) -> String {
        var out = [UInt8]()
        out.reserveCapacity(10)
        putDay(year: year, month: month, day: day, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func format(_ date: Date) -> String {
        let totalMilliseconds = Int((date.timeIntervalSince1970 * 1000).rounded())
        var days = totalMilliseconds / 86_400_000
        var rest = totalMilliseconds % 86_400_000
        if rest < 0 { rest += 86_400_000; days -= 1 }
        let (year, month, day) = civil(days: days)
        var out = [UInt8]()
        out.reserveCapacity(24)
        putDay(year: year, month: month, day: day, into: &out)
        out.append(84)
        put(rest / 3_600_000, 2, into: &out); out.append(58); put(rest / 60_000 % 60, 2, into: &out); out.append(58)
        put(rest / 1000 % 60, 2, into: &out); out.append(46); put(rest % 1000, 3, into: &out); out.append(90)
        return String(decoding: out, as: UTF8.self)
    }

    enum Parsed { case date(Date), invalid, otherShape }

    /// The number written in ASCII digits at `from..<from + count`; nil if any byte is not a digit.
    static func digits<Bytes: RandomAccessCollection>(_ bytes: Bytes, _ from: Int, _ count: Int) -> Int?
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var value = 0
        for index in from..<from + count {
            guard (48...57).contains(bytes[index]) else { return nil }
            value = value * 10 + Int(bytes[index] - 48)
        }
        return value
    }

    /// Days in a month of the proleptic Gregorian calendar.
    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fff]Z` exactly; any other shape is left to ISO8601DateFormatter.
    static func parseCanonical(_ text: String) -> Parsed {
        let b = Array(text.utf8)
        guard b.count == 20 || b.count == 24, b[4] == 45, b[7] == 45, b[10] == 84, b[13] == 58, b[16] == 58, b[b.count - 1] == 90 else { return .otherShape }
        func number(_ from: Int, _ count: Int) -> Int? { digits(b, from, count) }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
              let minute = number(14, 2), let second = number(17, 2) else { return .otherShape }
        var milliseconds = 0
        if b.count == 24 {
            guard b[19] == 46, let fraction = number(20, 3) else { return .otherShape }
            milliseconds = fraction
        }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60, second < 60 else { return .invalid }
        let seconds = days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        return .date(Date(timeIntervalSince1970: Double(seconds) + Double(milliseconds) / 1000))
    }
}
