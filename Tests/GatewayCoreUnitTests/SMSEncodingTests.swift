import Foundation
import Testing
import TestSupport
@testable import GatewayCore

@Suite struct SMSEncodingTests {
    @Test(arguments: [
        ("", SMSInfo.Encoding.gsm7, 0, 1),
        (String(repeating: "a", count: 160), .gsm7, 160, 1),
        (String(repeating: "a", count: 161), .gsm7, 161, 2),
        (String(repeating: "a", count: 306), .gsm7, 306, 2),
        (String(repeating: "a", count: 307), .gsm7, 307, 3),
        // Extension characters take two septets each.
        (String(repeating: "€", count: 80), .gsm7, 160, 1),
        (String(repeating: "€", count: 81), .gsm7, 162, 2),
        ("{}[]~\\|^", .gsm7, 16, 1),
        // é, ñ, ü, ¿, ¡ are GSM-7; á, í, ó, ú are not.
        ("¿Cuánto? ñandú", .ucs2, 14, 1),
        ("¡Señor Müller, café!", .gsm7, 20, 1),
        (String(repeating: "á", count: 70), .ucs2, 70, 1),
        (String(repeating: "á", count: 71), .ucs2, 71, 2),
        (String(repeating: "á", count: 134), .ucs2, 134, 2),
        (String(repeating: "á", count: 135), .ucs2, 135, 3),
        // An emoji is two UTF-16 units.
        ("Gracias 😀", .ucs2, 10, 1),
        // As carriers split: a part never ends inside an escape pair or a surrogate pair, and the
        // encoding is decided on the scalars actually sent.
        // 152 septets + € (escape + €) would end at 154 > 153: the € opens part 2, which then
        // holds € (2) + 151 'a' = 153, and the last 'a' needs part 3.
        (String(repeating: "a", count: 152) + "€" + String(repeating: "a", count: 152), .gsm7, 306, 3),
        // Alone it fits one message (154 ≤ 160).
        (String(repeating: "a", count: 152) + "€", .gsm7, 154, 1),
        // The escape lands exactly at the end of part 1: nothing straddles.
        (String(repeating: "a", count: 151) + "€" + String(repeating: "a", count: 153), .gsm7, 306, 2),
        // A surrogate pair is never split either: 66 units + 😀 (2) would make 68 > 67.
        (String(repeating: "á", count: 66) + "😀" + String(repeating: "á", count: 66), .ucs2, 134, 3),
        (String(repeating: "á", count: 65) + "😀" + String(repeating: "á", count: 67), .ucs2, 134, 2),
        // A combining accent is its own scalar, outside GSM-7: these exact bytes go out as UCS-2.
        ("Jose\u{301}", .ucs2, 5, 1),
        (String(repeating: "a", count: 69) + "e\u{301}", .ucs2, 71, 2),
    ])
    func countsSegmentsExactly(text: String, encoding: SMSInfo.Encoding, units: Int, segments: Int) {
        let info = SMSEncoding.analyze(text)
        #expect(info.encoding == encoding)
        #expect(info.units == units)
        #expect(info.segments == segments)
    }

    @Test func namesTheCharactersThatForceUCS2() {
        #expect(SMSEncoding.analyze("Información para José: págue").nonGSMCharacters == ["ó", "á"])
    }

    @Test func transliterationKeepsMeaningAndReachesGSM7() {
        let spanish = "Información: su pago vencerá el miércoles. Llame “ya” – gracias… Responda STOP para no recibir más mensajes."
        let plain = SMSEncoding.transliterate(spanish)
        #expect(plain == "Informacion: su pago vencera el miércoles. Llame \"ya\" - gracias... Responda STOP para no recibir mas mensajes.")
        #expect(SMSEncoding.analyze(plain).encoding == .gsm7)
        // Characters already in GSM-7 stay as they are.
        #expect(SMSEncoding.transliterate("¿Señor Müller? é ñ €") == "¿Señor Müller? é ñ €")
        // An emoji has no stand-in: the message stays UCS-2 rather than losing it.
        #expect(SMSEncoding.analyze(SMSEncoding.transliterate("Gracias 😀")).encoding == .ucs2)
    }
}

@Suite struct TonePolicyTests {
    let policy = TonePolicy(rules: [
        .init(id: "receipts", tone: "neutral", categories: [.transactional]),
        .init(id: "upset", tone: "empathetic", sentimentLabels: ["Upset"]),
        .init(id: "negative", tone: "empathetic", scoreMax: -0.5),
        .init(id: "broken", tone: "firm", segments: ["broken-promise"]),
        .init(id: "late", tone: "firm", daysPastDueMin: 31, daysPastDueMax: 90),
    ], defaultTone: "neutral")

    @Test(arguments: [
        (ToneFacts(sentimentLabel: "upset"), "empathetic", "upset"),
        (ToneFacts(sentimentLabel: "UPSET", daysPastDue: 60), "empathetic", "upset"),
        (ToneFacts(sentimentLabel: "upset", category: .transactional), "neutral", "receipts"),
        (ToneFacts(sentimentScore: -0.5), "empathetic", "negative"),
        (ToneFacts(sentimentScore: -0.49), "neutral", "default"),
        (ToneFacts(segment: "broken-promise"), "firm", "broken"),
        (ToneFacts(daysPastDue: 31), "firm", "late"),
        (ToneFacts(daysPastDue: 90), "firm", "late"),
        (ToneFacts(daysPastDue: 91), "neutral", "default"),
        (ToneFacts(daysPastDue: 30), "neutral", "default"),
        (ToneFacts(), "neutral", "default"),
    ])
    func firstMatchingRuleWins(facts: ToneFacts, tone: String, rule: String) {
        let chosen = policy.tone(for: facts)
        #expect(chosen.tone == tone)
        #expect(chosen.rule == rule)
    }

    @Test func daysPastDueComesFromTheJob() {
        let now = parseTimestamp("2026-11-24T15:00:00Z")!
        #expect(ToneFacts.daysPastDue(["due_date": .string("2026-11-10")], now: now) == 14)
        #expect(ToneFacts.daysPastDue(["due_date": .string("2026-12-01")], now: now) == -7)
        #expect(ToneFacts.daysPastDue(["due_date": .string("2026-11-10"), "days_past_due": .number(40)], now: now) == 40)
        #expect(ToneFacts.daysPastDue(["days_past_due": .string("12")], now: now) == 12)
        #expect(ToneFacts.daysPastDue(["due_date": .string("2026-02-30")], now: now) == nil)
        #expect(ToneFacts.daysPastDue([:], now: now) == nil)
    }

    /// Dates are counted without Foundation's Calendar; for random dates of four centuries (and
    /// days 29-31 of every month, which may not exist), validity and day counts are Foundation's.
    @Test func calendarDatesCountAsFoundationCountsThem() {
        var random = SeededRandom()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for _ in 0..<3_000 {
            let (year, month) = (Int.random(in: 1700...2400, using: &random), Int.random(in: 1...12, using: &random))
            let day = Bool.random(using: &random) ? Int.random(in: 28...31, using: &random) : Int.random(in: 1...31, using: &random)
            let text = String(format: "%04d-%02d-%02d", year, month, day)
            let foundation = calendar.date(from: DateComponents(year: year, month: month, day: day))
                .flatMap { calendar.component(.day, from: $0) == day ? $0 : nil }
            let ours = CalendarDate(text)
            #expect((ours != nil) == (foundation != nil), "\(text), \(random)")
            guard let ours, let foundation else { continue }
            #expect(ours.daysSince1970 * 86_400 == Int(foundation.timeIntervalSince1970), "\(text), \(random)")
            let now = foundation.addingTimeInterval(Double(Int.random(in: -4_000_000_000...4_000_000_000, using: &random)) / 10)
            let end = calendar.date(from: calendar.dateComponents([.year, .month, .day], from: now))!
            #expect(ToneFacts.daysPastDue(["due_date": .string(text)], now: now) == calendar.dateComponents([.day], from: foundation, to: end).day,
                    "\(text) at \(now), \(random)")
        }
        for malformed in ["2026-1-05", "2026--12-01", "+202-12-01", "2026-12-01 ", "２０２６-12-01", "0000-01-01", "2026/12/01", "20261201", ""] {
            #expect(CalendarDate(malformed) == nil, "\(malformed)")
        }
        #expect(CalendarDate("2028-02-29").map { [$0.year, $0.month, $0.day] } == [2028, 2, 29])
        #expect(CalendarDate("2100-02-29") == nil && CalendarDate("2000-02-29") != nil)
    }

    @Test func listsEveryToneItCanChoose() {
        #expect(policy.tones == ["neutral", "empathetic", "firm"])
    }
}

@Suite struct SMSFastPathTests {
    /// The character-by-character definition the fast paths must agree with.
    static func reference(_ text: String) -> (SMSInfo.Encoding, Int) {
        var septets = 0
        var nonGSM = false
        for character in text {
            if SMSEncoding.basic.contains(character) { septets += 1 } else if SMSEncoding.extended.contains(character) { septets += 2 } else { nonGSM = true }
        }
        return nonGSM ? (.ucs2, text.utf16.count) : (.gsm7, septets)
    }

    @Test func fastPathsAgreeWithTheDefinition() {
        let pool: [Character] = Array("aZ09 .,¿?¡!ñÑáéíóúüÜ€[]{}~^|\\@£$_\n") + ["“", "”", "…", "–", "😀", "₡", "`", "\t", "Ω"]
        var generator = SeededRandom()
        let seed = generator.description
        for _ in 0..<3000 {
            let text = String((0..<Int.random(in: 0...200, using: &generator)).map { _ in pool.randomElement(using: &generator)! })
            let info = SMSEncoding.analyze(text)
            let (encoding, units) = Self.reference(text)
            #expect(info.encoding == encoding && info.units == units, "\(text.debugDescription), \(seed)")
            let transliterated = SMSEncoding.transliterate(text)
            var expected = ""
            for character in text {
                if SMSEncoding.basic.contains(character) || SMSEncoding.extended.contains(character) { expected.append(character) }
                else if let replacement = SMSEncoding.replacements[character] { expected += replacement } else { expected.append(character) }
            }
            #expect(transliterated == expected, "\(text.debugDescription), \(seed)")
        }
    }
}
