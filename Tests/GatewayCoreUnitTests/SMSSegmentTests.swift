import Foundation
import Testing
import TestSupport
@testable import GatewayCore

/// Segment counting as carriers do it, on the scalars actually sent.
@Suite struct SMSSegmentTests {
    @Test func aCombiningMarkIsNamedWithItsLetter() {
        let decomposed = SMSEncoding.analyze("Jose\u{301}").nonGSMCharacters
        #expect(decomposed.map { Array($0.unicodeScalars) } == [["e", "\u{301}"]])
    }

    @Test func normalizationComposesWhatCanBeComposed() {
        // "e" + U+0301 is "é" in NFC, which GSM-7 has; "x" + U+0301 has no precomposed form.
        #expect(Array(SMSEncoding.normalized("Jose\u{301}").unicodeScalars) == Array("Jos\u{E9}".unicodeScalars))
        #expect(SMSEncoding.analyze(SMSEncoding.normalized("Jose\u{301}")) == SMSInfo(encoding: .gsm7, units: 4, segments: 1, nonGSMCharacters: []))
        #expect(SMSEncoding.analyze(SMSEncoding.normalized("x\u{301}")).encoding == .ucs2)
        #expect(SMSEncoding.normalized("plain ascii") == "plain ascii")
        // The fast path agrees with Foundation's NFC on text it lets through, and what it does not.
        for text in ["¿Señor Müller? “ya” – €5… 😀", "Ana\u{2000}Mora", "\u{212B}ngström", "ñ\u{303}", "Jose\u{301} 😀"] {
            #expect(Array(SMSEncoding.normalized(text).unicodeScalars) == Array(text.precomposedStringWithCanonicalMapping.unicodeScalars), "\(text.debugDescription)")
        }
    }
}

/// A reference splitter written from GSM 03.38 and 3GPP TS 23.040, independent of SMSEncoding's
/// tables: it encodes the text into the septets or UTF-16 units actually transmitted and cuts
/// them into parts the way an SMSC does (never after an escape 0x1B, never between surrogates).
@Suite struct SMSReferenceSplitTests {
    /// GSM 03.38 default alphabet, in code order 0x00...0x7F (0x1B is the escape).
    static let basicTable: [Unicode.Scalar] = Array(("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1B}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
        + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà").unicodeScalars)
    /// The extension table: character → the septet after 0x1B.
    static let extensionTable: [Unicode.Scalar: UInt8] = ["\u{0C}": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E, "|": 0x40, "€": 0x65]

    /// The septets sent, or nil when some scalar is not in GSM-7.
    static func septets(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        for scalar in text.unicodeScalars {
            if let code = basicTable.firstIndex(of: scalar), code != 0x1B {
                out.append(UInt8(code))
            } else if let code = extensionTable[scalar] {
                out += [0x1B, code]
            } else {
                return nil
            }
        }
        return out
    }

    /// The parts a carrier sends: all of it when it fits one message, else chunks of `part`
    /// units, each cut one earlier when it would separate `unsplittable(last, next)`.
    static func split<T>(_ units: [T], single: Int, part: Int, unsplittable: (T) -> Bool) -> [[T]] {
        if units.count <= single { return [units] }
        var parts: [[T]] = []
        var start = 0
        while start < units.count {
            var end = min(start + part, units.count)
            if end < units.count, unsplittable(units[end - 1]) { end -= 1 }
            parts.append(Array(units[start..<end]))
            start = end
        }
        return parts
    }

    static func referenceParts(_ text: String) -> (SMSInfo.Encoding, Int, Int) {
        if let septets = septets(text) {
            let parts = split(septets, single: 160, part: 153) { $0 == 0x1B }
            #expect(parts.allSatisfy { $0.count <= (parts.count == 1 ? 160 : 153) })
            #expect(Array(parts.joined()) == septets)
            return (.gsm7, septets.count, parts.count)
        }
        let units = Array(text.utf16)
        let parts = split(units, single: 70, part: 67) { UTF16.isLeadSurrogate($0) }
        #expect(parts.allSatisfy { $0.count <= (parts.count == 1 ? 70 : 67) && !($0.last.map(UTF16.isLeadSurrogate) ?? false) })
        #expect(Array(parts.joined()) == units)
        return (.ucs2, units.count, parts.count)
    }

    @Test func theCountsMatchTheReferenceSplitter() {
        var generator = SeededRandom()
        let seed = generator.description
        // Mostly GSM-7 with some extension characters; now and then a scalar that forces UCS-2.
        let gsm: [String] = ["a", "Z", "0", " ", ".", "é", "ñ", "Ü", "¿", "\n", "€", "{", "}", "[", "]", "~", "^", "|", "\\"]
        let other: [String] = ["á", "ó", "😀", "\u{301}", "“", "₡", "👍🏽"]
        for _ in 0..<2000 {
            let length = Int.random(in: 0...400, using: &generator)
            let ucs2 = Int.random(in: 0..<4, using: &generator) == 0
            var text = ""
            for _ in 0..<length {
                text += ucs2 && Int.random(in: 0..<10, using: &generator) == 0 ? other.randomElement(using: &generator)! : gsm.randomElement(using: &generator)!
            }
            let info = SMSEncoding.analyze(text)
            let (encoding, units, parts) = Self.referenceParts(text)
            #expect(info.encoding == encoding && info.units == units && info.segments == max(parts, 1), "\(seed): \(text.debugDescription)")
        }
    }

    @Test func knownSplits() {
        #expect(Self.basicTable.count == 128)
        // 3GPP / carrier documentation: 160 septets one message, 153 per part after that; 70 / 67 for UCS-2.
        for (count, parts) in [(160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)] {
            #expect(Self.referenceParts(String(repeating: "a", count: count)).2 == parts)
            #expect(SMSEncoding.analyze(String(repeating: "a", count: count)).segments == parts)
        }
        for (count, parts) in [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)] {
            #expect(Self.referenceParts(String(repeating: "ó", count: count)).2 == parts)
            #expect(SMSEncoding.analyze(String(repeating: "ó", count: count)).segments == parts)
        }
        // The case: the € would straddle parts 1 and 2, so a plain ceiling (306 / 153 = 2) is wrong.
        let text = String(repeating: "a", count: 152) + "€" + String(repeating: "a", count: 152)
        #expect(Self.referenceParts(text).2 == 3)
        #expect(SMSEncoding.analyze(text).segments == 3)
    }
}
