import Foundation
import Testing
import TestSupport
@testable import GatewayCore

let sampleJob = """
{
  "id": "LN-77-reminder-2026-12-01",
  "template": "payment-reminder",
  "channels": ["sms", "email"],
  "contact": {
    "id": "C-1001", "name": "Ana Mora",
    "phone": "+50688887777", "email": "ana@example.com",
    "push": {"fcm": "tok-fcm", "apns": "tok-apns"},
    "timezone": "America/Costa_Rica", "locale": "es-CR"
  },
  "debt_id": "LN-77",
  "segment": "early",
  "sentiment": {"label": "upset", "score": -0.7},
  "data": {"amount_due": "125.50", "currency": "USD", "due_date": "2026-12-01", "pay_link": "https://pay.example/x"},
  "category": "collection",
  "expires_at": "2026-12-02T00:00:00Z",
  "scoring_model": "v7"
}
"""

func decode(_ text: String, maxBytes: Int = 64 * 1024) -> Result<Job, JobRejection> {
    JobDecoder(maxJobBytes: maxBytes).decode(Array(text.utf8))
}

/// The sample job with one field replaced (or removed, with nil), re-encoded.
func mutated(_ path: [String], _ value: Any?) -> String {
    var root = try! JSONSerialization.jsonObject(with: Data(sampleJob.utf8)) as! [String: Any]
    func set(_ object: inout [String: Any], _ path: ArraySlice<String>) {
        if path.count == 1 {
            object[path.first!] = value
        } else {
            var child = object[path.first!] as! [String: Any]
            set(&child, path.dropFirst())
            object[path.first!] = child
        }
    }
    set(&root, path[...])
    return String(decoding: try! JSONSerialization.data(withJSONObject: root), as: UTF8.self)
}

@Suite struct JobDecoderTests {
    @Test func decodesTheContractExample() throws {
        let job = try decode(sampleJob).get()
        #expect(job.id == "LN-77-reminder-2026-12-01")
        #expect(job.template == "payment-reminder")
        #expect(job.channels == [.sms, .email])
        #expect(job.contact == Job.Contact(id: "C-1001", name: "Ana Mora", phone: "+50688887777", email: "ana@example.com",
                                           push: .init(fcm: "tok-fcm", apns: "tok-apns"), timezone: "America/Costa_Rica", locale: "es-CR"))
        #expect(job.sentiment == Job.Sentiment(label: "upset", score: -0.7))
        #expect(job.data["amount_due"] == .string("125.50"))
        #expect(job.category == .collection)
        #expect(job.expiresAt == Date(timeIntervalSince1970: 1_796_169_600))
        #expect(job.attempt == 1)
    }

    @Test func acceptsSingleChannelAndLabelSentiment() throws {
        let job = try decode(mutated(["sentiment"], "upset").replacingOccurrences(of: "\"channels\":[\"sms\",\"email\"]", with: "\"channel\":\"sms\"")).get()
        #expect(job.channels == [.sms])
        #expect(job.sentiment == Job.Sentiment(label: "upset"))
    }

    @Test(arguments: [
        ("not json at all", "not_json", "not valid UTF-8 JSON"),
        ("[1,2]", "wrong_type", "job must be a JSON object, got array"),
        ("{\"id\": 5}", "wrong_type", "id must be a string, got number"),
        ("{\"id\": \"  \"}", "invalid_value", "id must not be empty"),
    ])
    func refusesMalformedInput(text: String, code: String, message: String) {
        guard case .failure(let rejection) = decode(text) else {
            Issue.record("accepted \(text)")
            return
        }
        #expect(rejection.code.rawValue == code)
        #expect(rejection.message.contains(message), "\(rejection.message)")
    }

    @Test(arguments: [
        (["id"], nil as String?, "missing_field", "id is required"),
        (["template"], nil, "missing_field", "template is required"),
        (["template"], "../etc/passwd", "invalid_value", "template must be a template folder name"),
        (["contact"], nil, "missing_field", "contact is required"),
        (["contact", "id"], nil, "missing_field", "contact.id is required"),
        (["contact", "phone"], nil, "missing_field", "contact.phone is required because channels includes sms"),
        (["contact", "phone"], "8888-7777", "invalid_phone", "contact.phone must be E.164"),
        (["contact", "phone"], "+0123456789", "invalid_phone", "contact.phone must be E.164"),
        (["contact", "email"], "not-an-address", "invalid_email", "contact.email is not a usable address"),
        (["contact", "email"], nil, "missing_field", "contact.email is required because channels includes email"),
        (["category"], "marketing", "invalid_value", "category must be \"collection\" or \"transactional\""),
        (["expires_at"], "tomorrow", "invalid_value", "expires_at must be an ISO 8601 time"),
        (["sentiment"], "", "invalid_value", "sentiment"),
    ])
    func refusesBadFields(path: [String], value: String?, code: String, message: String) {
        guard case .failure(let rejection) = decode(mutated(path, value)) else {
            Issue.record("accepted a job with \(path.joined(separator: ".")) = \(value ?? "nil")")
            return
        }
        #expect(rejection.code.rawValue == code)
        #expect(rejection.message.contains(message), "\(rejection.message)")
    }

    @Test func wrongTypesNameThePath() {
        let cases: [([String], Any, String)] = [
            (["channels"], "sms", "channels must be an array of strings, got string"),
            (["channels"], [1], "channels[0] must be a string, got number"),
            (["channels"], ["fax"], "channels[0] must be one of sms, email, push; got \"fax\""),
            (["channels"], [String](), "channels must name at least one channel"),
            (["contact", "phone"], 50688887777, "contact.phone must be a string, got number"),
            (["data"], "x", "data must be an object, got string"),
            (["sentiment", "score"], 3, "sentiment.score must be between -1 and 1, got 3.0"),
            (["sentiment", "score"], "low", "sentiment.score must be a number in [-1, 1], got string"),
            (["contact", "push"], "tok", "contact.push must be an object"),
        ]
        for (path, value, message) in cases {
            guard case .failure(let rejection) = decode(mutated(path, value)) else {
                Issue.record("accepted \(path) = \(value)")
                continue
            }
            #expect(rejection.message.contains(message), "\(path): \(rejection.message)")
        }
    }

    @Test func rejectionKeepsWhateverIdentityItCouldRead() {
        guard case .failure(let rejection) = decode(mutated(["contact", "phone"], "12")) else {
            Issue.record("accepted")
            return
        }
        #expect(rejection.jobID == "LN-77-reminder-2026-12-01")
        #expect(rejection.contactID == "C-1001")
    }

    @Test func refusesOversizedJobsBeforeParsing() {
        let big = mutated(["data", "note"], String(repeating: "x", count: 5000))
        guard case .failure(let rejection) = decode(big, maxBytes: 4096) else {
            Issue.record("accepted")
            return
        }
        #expect(rejection.code.rawValue == "oversized")
        #expect(rejection.message.contains("the limit is 4096 bytes"))
    }

    @Test func refusesBothChannelAndChannels() {
        let text = sampleJob.replacingOccurrences(of: "\"category\"", with: "\"channel\": \"sms\", \"category\"")
        guard case .failure(let rejection) = decode(text) else {
            Issue.record("accepted")
            return
        }
        #expect(rejection.message.contains("either channels or channel"))
    }

    @Test func refusesControlCharactersInText() {
        guard case .failure(let rejection) = decode(mutated(["contact", "name"], "Ana\u{0007}Mora")) else {
            Issue.record("accepted")
            return
        }
        #expect(rejection.message == "contact.name must not contain control characters")
    }

    @Test(arguments: [
        ("+50688887777", true), ("+14155550123", true), ("+6831234", true), ("+123456789012345", true),
        ("+1234567890123456", false), ("50688887777", false), ("+0688887777", false), ("+506 8888 7777", false),
        ("+", false), ("", false), ("+5068888777a", false), ("++50688887777", false),
    ])
    func e164(phone: String, valid: Bool) {
        #expect(JobDecoder.isE164(phone) == valid)
    }

    @Test func attemptIsReadBackFromRescheduledJobs() throws {
        let job = try decode(sampleJob.replacingOccurrences(of: "\"category\"", with: "\"_attempt\": 3, \"category\"")).get()
        #expect(job.attempt == 3)
    }
}


@Suite struct InboundIntentTests {
    @Test(arguments: [
        ("STOP", InboundIntent.stop), ("stop", .stop), ("Stop.", .stop), ("  Baja ", .stop), ("ALTO", .stop), ("por favor parar ya", .stop),
        ("opt out", .stop), ("Opt-Out", .stop), ("unsubscribe me", .stop), ("Cancelar", .stop), ("détener", .stop), ("quit texting me", .stop),
        ("START", .start), ("unstop", .start), ("AYUDA", .help), ("help", .help), ("Hola, ¿cuándo puedo pagar?", .message),
        ("stopped by the branch yesterday", .message), ("", .message),
    ])
    func repliesAreRead(body: String, intent: InboundIntent) {
        #expect(InboundIntent(body) == intent, "\(body)")
    }
}

@Suite struct TimestampTests {
    @Test func theFastPathAgreesWithFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var generator = SeededRandom()
        let seed = generator.description
        for _ in 0..<5000 {
            // 1900 to 2200, millisecond precision
            let milliseconds = Int64.random(in: -2_208_988_800_000...7_258_118_400_000, using: &generator)
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            let text = formatTimestamp(date)
            #expect(text == formatter.string(from: date), "\(seed)")
            #expect(parseTimestamp(text).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) } == milliseconds, "\(seed)")
        }
        #expect(parseTimestamp("2026-02-29T00:00:00Z") == nil)
        #expect(parseTimestamp("2028-02-29T23:59:59Z") != nil)
        #expect(parseTimestamp("2026-11-24T08:00:00+02:00") == parseTimestamp("2026-11-24T06:00:00Z"))
    }
}

@Suite struct JSONSerializationTests {
    /// Members written in key order serialize as the object would, escapes and all.
    @Test func sortedMembersAreTheBytesOfTheObject() {
        var random = SeededRandom()
        let pieces = ["a", "b", "\"", "\\", "\n", "\u{01}", "ñ", "€", "😀", "\t", "x y", "sms_", "tone"]
        for _ in 0..<200 {
            var object: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...8, using: &random) {
                let key = (0..<Int.random(in: 1...3, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
                let value: JSONValue = switch Int.random(in: 0...3, using: &random) {
                case 0: .string(pieces.shuffled(using: &random).prefix(3).joined())
                case 1: .number(Double(Int.random(in: -1000...1000, using: &random)) / 4)
                case 2: .bool(Bool.random(using: &random))
                default: .null
                }
                object[key] = value
            }
            let members = object.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
            #expect(JSONValue.serialized(sortedMembers: members) == JSONValue.object(object).serialized, "\(random)")
        }
    }
}

@Suite struct JSONParserTests {
    @Test func parsesWhatFoundationParses() throws {
        let samples = [
            #"{"a": [1, -2.5, 3e2, 0, -0.0, 1E-3], "b": {"c": null, "d": true, "e": false}, "s": "x\"y\\z\/\b\f\n\r\t\u00e1\ud83d\ude00", "u": "ñandú €"}"#,
            "[]", "{}", "  \"plain\"  ", "12345678901234567890", "[[[[]]]]",
        ]
        for sample in samples {
            let ours = try JSONParser.parse(Array(sample.utf8))
            let foundation = try JSONDecoder().decode(JSONValue.self, from: Data(sample.utf8))
            #expect(ours == foundation, "\(sample)")
        }
    }

    @Test(arguments: [
        ("", "unexpected end of input"), ("{", "expected a quoted key"), (#"{"a" 1}"#, "expected ':'"), ("[1,]", "unexpected character ']'"),
        ("01", "may not start with 0"), ("1.", "digits after '.'"), ("1e", "digits in its exponent"), ("1e999", "out of range"),
        (#""abc"#, "unexpected end of input in a string"), (#""a\u0001b""#, ""), (#""tab\there""#, ""), ("\"\u{01}\"", "control character"),
        (#""\x""#, "invalid escape"), (#""\ud800""#, "lone UTF-16 surrogate"), ("nul", "unexpected end of input"), ("truth", "invalid literal"),
        (#"{"a": 1} x"#, "unexpected text after"), (#"{"amount": 1, "amount": 2}"#, "the key \"amount\" appears twice"),
        (String(repeating: "[", count: 65) + String(repeating: "]", count: 65), "nested more than 64 levels"),
    ])
    func refusesWhatIsNotJSON(text: String, reason: String) {
        let result = Result { () throws(JSONParser.Failure) -> JSONValue in try JSONParser.parse(Array(text.utf8)) }
        if reason.isEmpty {
            #expect((try? result.get()) != nil, "\(text)")
        } else {
            guard case .failure(let failure) = result else { Issue.record("\(text) was accepted"); return }
            #expect(failure.reason.contains(reason), "\(text): \(failure)")
        }
    }

    @Test func serializedIsWhatTheStableEncoderWrites() throws {
        let samples = [
            #"{"b": [1, -2.5, 300, 0, 1e-3, 12345678901234], "a": {"z": null, "y": true, "x": false}, "s": "x\"y\\z/\b\f\n\r\t\u0001 á 😀"}"#,
            #"{"html": "<p>Hola {{name}}</p>\n", "sms_segments": 2, "tone_rule": "default"}"#, "[]", "{}",
        ]
        for sample in samples {
            let value = try JSONParser.parse(Array(sample.utf8))
            let expected = String(decoding: try JSONEncoder.stable().encode(value), as: UTF8.self)
            #expect(value.serialized == expected)
        }
    }

    @Test func invalidUTF8IsRefused() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
    }
}

@Suite struct LocalTimeTests {
    @Test func localTimeAgreesWithCalendarAcrossDST() {
        var generator = SeededRandom()
        let seed = generator.description
        for zone in ["America/New_York", "America/Santiago", "America/Mexico_City", "America/Bogota", "America/Costa_Rica", "America/Los_Angeles", "UTC"] {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: zone)!
            for _ in 0..<1000 {
                let date = Date(timeIntervalSince1970: Double(Int64.random(in: 1_700_000_000...1_900_000_000, using: &generator)))
                let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: date)
                let local = HoursPolicy.local(date, zone)
                #expect(local.weekday == c.weekday && local.minute == c.hour! * 60 + c.minute!, "\(zone) \(date), \(seed)")
                #expect(local.day == String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!), "\(zone) \(date), \(seed)")
            }
        }
    }
}
