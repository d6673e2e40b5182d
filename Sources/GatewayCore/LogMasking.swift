import Foundation

/// What never goes into a log line or a /ready answer: customers' phone numbers and e-mail
/// addresses, credentials (bearer tokens, passwords in URLs, `token=...`, push tokens) and message
/// bodies. The log handler passes every message and metadata value through here.
///
/// Masked forms keep enough to tell two values apart while reading a log: an E.164 number keeps its
/// first four digits and last two (`+5068****77`), a national number its last two (`****77`), an
/// e-mail its first letter and domain (`a***@example.cr`); credentials become `***`.
///
/// Left alone on purpose: job ids (`LN-77-reminder-2026-12-01`), ISO dates and times, amounts
/// (`125.50`, `1234567.89`), IP addresses, Redis stream ids (`1700000000000-0`), Unix times in
/// seconds or milliseconds, and bare numbers under 8 digits (counts, limits, bytes).
public enum LogMasking {
    /// Metadata keys whose value is a message body: dropped whatever it holds.
    public static let bodyKeys: Set<String> = ["body", "text", "message_body", "html", "content", "subject", "reply", "rendered"]
    /// Metadata keys whose value is a credential.
    public static let secretKeys: Set<String> = [
        "token", "auth_token", "access_token", "refresh_token", "push_token", "device_token", "registration_token",
        "authorization", "password", "secret", "api_key", "apikey", "private_key", "signature", "cookie",
    ]

    /// The value to log under `key`: removed for bodies, `***` for credentials, masked otherwise.
    public static func value(forKey key: String, _ value: String) -> String {
        let lower = key.lowercased()
        if bodyKeys.contains(lower) { return "[removed]" }
        if secretKeys.contains(lower) || lower.hasSuffix("_token") || lower.hasSuffix("_secret") || lower.hasSuffix("password") {
            return "***"
        }
        return mask(value)
    }

    /// `text` with every phone number, e-mail address and credential in it masked.
    public static func mask(_ text: String) -> String {
        // Fast path: nothing that could be sensitive (no digit, no @, no key=value, no long run).
        let bytes = text.utf8
        if bytes.count < 40, !bytes.contains(where: { $0 == UInt8(ascii: "@") || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: ":") || (0x30...0x39).contains($0) }),
           text.range(of: "bearer", options: .caseInsensitive) == nil, text.range(of: "basic", options: .caseInsensitive) == nil {
            return text
        }
        guard Patterns.compiled else { return "[withheld: the log masking patterns did not compile]" }
        var out = text
        out = Patterns.urlCredentials.replace(in: out) { groups in "\(groups[1]):***@" }
        out = Patterns.bearer.replace(in: out) { groups in
            // "Bearer 3f9c...", not the words "bearer token" in a sentence.
            let credential = groups[2]
            let opaque = credential.count >= 20 || credential.contains(where: { !$0.isLetter })
            return opaque ? "\(groups[1]) ***" : groups[0]
        }
        out = Patterns.keyValueSecret.replace(in: out) { groups in "\(groups[1])\(groups[2])***" }
        out = Patterns.email.replace(in: out) { groups in "\(groups[1].prefix(1))***@\(groups[2])" }
        out = Patterns.longToken.replace(in: out) { groups in isOpaqueToken(groups[0]) ? "\(groups[0].prefix(4))***" : groups[0] }
        out = Patterns.internationalPhone.replace(in: out) { groups in maskPhone(groups[0]) }
        out = Patterns.nationalPhone.replace(in: out) { groups in maskPhone(groups[0]) }
        return out
    }

    /// A URL as it may be shown in an error: the password (what follows the user up to the last `@`
    /// of the authority) becomes `***`, whatever characters it holds, even when the URL does not parse.
    public static func url(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        // The authority ends at the first '/', '?' or '#' after the last '@' (a password may hold '/').
        guard let at = rest.lastIndex(of: "@") else { return url }
        let userinfo = rest[..<at]
        guard let colon = userinfo.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(rest[at...])
    }

    /// A push token or key, not a long job id: it holds a stretch of 16+ letters and digits mixed.
    static func isOpaqueToken(_ run: String) -> Bool {
        var longest = 0, current = 0
        for character in run {
            if character.isASCII && (character.isLetter || character.isNumber) { current += 1; longest = max(longest, current) } else { current = 0 }
        }
        return longest >= 16 && run.contains(where: { $0.isASCII && $0.isNumber }) && run.contains(where: { $0.isASCII && $0.isLetter })
    }

    /// A number-like run masked if it reads as a phone number, returned as it was otherwise.
    static func maskPhone(_ candidate: String) -> String {
        var number = candidate
        var plus = false
        if number.hasPrefix("%2B") || number.hasPrefix("%2b") { number.removeFirst(3); plus = true }
        if number.contains("+") { plus = true }
        let digits = number.filter(\.isASCIIDigit)
        let bare = number.allSatisfy(\.isASCIIDigit)
        guard digits.count >= 7, digits.count <= 15 else { return candidate }
        if !plus {
            if bare && digits.count < 8 { return candidate }                  // counts, limits, byte sizes
            if bare && digits.first == "1" && (digits.count == 10 || digits.count == 13) { return candidate }   // Unix s / ms
            for keep in Patterns.notPhones where keep.matches(whole: number) { return candidate }
            return "****" + digits.suffix(2)
        }
        return "+" + digits.prefix(4) + "****" + digits.suffix(2)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

/// Compiled once; NSRegularExpression is immutable after creation and safe to share.
private struct Pattern: @unchecked Sendable {
    let regex: NSRegularExpression?

    init(_ pattern: String, caseInsensitive: Bool = false) {
        // The patterns are constants of this file (the tests compile every one); if one ever failed,
        // `LogMasking.mask` withholds the whole text rather than let anything through unmasked.
        regex = try? NSRegularExpression(pattern: pattern, options: caseInsensitive ? [.caseInsensitive] : [])
    }

    func matches(whole text: String) -> Bool {
        let range = NSRange(text.startIndex..., in: text)
        guard let match = regex?.firstMatch(in: text, range: range) else { return false }
        return match.range == range
    }

    /// Replaces every match with what `transform` makes of its groups (group 0: the whole match).
    func replace(in text: String, _ transform: ([String]) -> String) -> String {
        guard let regex else { return text }
        let matches = regex.matches(in: text, range: NSRange(text.startIndex..., in: text))
        guard !matches.isEmpty else { return text }
        var out = ""
        var cursor = text.startIndex
        for match in matches {
            guard let whole = Range(match.range, in: text) else { continue }
            let groups = (0..<match.numberOfRanges).map { index -> String in
                Range(match.range(at: index), in: text).map { String(text[$0]) } ?? ""
            }
            out += text[cursor..<whole.lowerBound]
            out += transform(groups)
            cursor = whole.upperBound
        }
        out += text[cursor...]
        return out
    }
}

private enum Patterns {
    /// `scheme://user:password@` (Redis and PostgreSQL URLs): the password goes.
    static let urlCredentials = Pattern(#"(://[^\s/:@]*):[^\s@/]+@"#)
    /// `Authorization: Bearer abc...` and Basic credentials.
    static let bearer = Pattern(#"\b(bearer|basic)\s+([A-Za-z0-9._~+/=\-]{6,})"#, caseInsensitive: true)
    /// `token=...`, `"password": "..."`, `auth_token: ...` in free text, and `authToken: "..."` as
    /// Swift prints a configuration struct (swift-service-lifecycle logs its services at debug).
    static let keyValueSecret = Pattern(
        #"\b((?:[a-z]+_?)?(?:token|secret|password|passwd|api_?key|private_?key|authorization|signature|credentials?))(\\?["']?\s*[:=]\s*\\?["']?)(?!\*\*\*|bearer\b|basic\b)[^\s"'&,;}\]\\]+"#,
        caseInsensitive: true)
    static let email = Pattern(#"([A-Za-z0-9._%+\-]+)@([A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)+)"#)
    /// Push tokens, API keys and other long opaque strings (40+ characters; see `isOpaqueToken`).
    static let longToken = Pattern(#"(?<![A-Za-z0-9_\-:])[A-Za-z0-9_\-:]{40,}(?![A-Za-z0-9_\-:])"#)
    /// `+` (or `%2B`, URL-encoded) and 7 to 15 digits, maybe with spaces, dots, dashes or parentheses.
    static let internationalPhone = Pattern(#"(?<![\w+])(?:\+|%2[Bb])\(?\d(?:[ .\-()]{0,2}\d){6,14}(?!\w|[\-/.:]\d)"#)
    /// 7 to 15 digits, maybe with spaces, dots, dashes or parentheses between them, not glued to a
    /// word, an id or a path.
    static let nationalPhone = Pattern(#"(?<![\w.+\-/*%])\(?\d(?:[ .\-()]{0,2}\d){6,14}(?!\w|[\-/.:]\d)"#)
    /// Number-like runs that are not phones.
    static let notPhones = [
        Pattern(#"\d{4}[\-/.]\d{1,2}[\-/.]\d{1,2}"#),            // 2026-12-01
        Pattern(#"\d{1,2}[\-/.]\d{1,2}[\-/.]\d{2,4}"#),          // 01/12/2026
        Pattern(#"\d+\.\d{1,2}"#),                                // 1234567.89
        Pattern(#"\d{1,3}(?:\.\d{1,3}){3}"#),                     // 192.168.100.200
        Pattern(#"\d{13}-\d+"#),                                  // Redis stream id
    ]
    static let compiled = ([urlCredentials, bearer, keyValueSecret, email, longToken, internationalPhone, nationalPhone] + notPhones)
        .allSatisfy { $0.regex != nil }
}
