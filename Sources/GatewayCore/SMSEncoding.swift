import Foundation

/// How an SMS will travel and what it will cost: GSM 03.38 7-bit when every character is in the
/// GSM-7 alphabet (extension characters count two), otherwise UCS-2 (UTF-16 code units).
public struct SMSInfo: Sendable, Equatable, CustomStringConvertible {
    public enum Encoding: String, Sendable, Equatable {
        case gsm7 = "GSM-7"
        case ucs2 = "UCS-2"
    }

    public var encoding: Encoding
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    public var units: Int
    public var segments: Int
    /// Characters that forced UCS-2, in order of first appearance.
    public var nonGSMCharacters: [Character]

    public init(encoding: Encoding, units: Int, segments: Int, nonGSMCharacters: [Character]) {
        self.encoding = encoding
        self.units = units
        self.segments = segments
        self.nonGSMCharacters = nonGSMCharacters
    }

    public var description: String { "\(encoding.rawValue), \(units) \(encoding == .gsm7 ? "septets" : "UTF-16 units"), \(segments) segment\(segments == 1 ? "" : "s")" }
}

public enum SMSEncoding {
    /// The GSM 03.38 basic character set.
    static let basic: Set<Character> = Set(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
    /// The extension table: each costs an escape septet plus itself.
    static let extended: Set<Character> = ["^", "{", "}", "\\", "[", "~", "]", "|", "€", "\u{0C}"]

    /// The two GSM 03.38 tables as text (basic set, extension table), for a client that counts as
    /// the gateway does: the web console's editor counts with exactly these while marketing types.
    public static var gsm7Tables: (basic: String, extended: String) { (String(basic), String(extended)) }

    /// Septets per ASCII byte: 1 in the basic set, 2 in the extension table, 0 for none (backtick,
    /// most control characters).
    static let asciiSeptets: [UInt8] = (0..<128).map { byte in
        let character = Character(Unicode.Scalar(UInt8(byte)))
        return basic.contains(character) ? 1 : extended.contains(character) ? 2 : 0
    }

    /// Septets for an all-ASCII, all-GSM text; nil when the text needs the full analysis.
    static func asciiSeptetCount(_ text: String) -> Int? {
        var septets = 0
        for byte in text.utf8 {
            guard byte < 0x80 else { return nil }
            let cost = asciiSeptets[Int(byte)]
            guard cost > 0 else { return nil }
            septets += Int(cost)
        }
        return septets
    }

    /// Per scalar below U+2100 (Latin, Greek, punctuation, €): 1 basic, 2 extension, 3 has a
    /// transliteration, 0 neither.
    static let scalarClass: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 0x2100)
        for character in replacements.keys { if let scalar = single(character), scalar < 0x2100 { table[Int(scalar)] = 3 } }
        for character in basic { if let scalar = single(character), scalar < 0x2100 { table[Int(scalar)] = 1 } }
        for character in extended { if let scalar = single(character), scalar < 0x2100 { table[Int(scalar)] = 2 } }
        return table
    }()

    static func single(_ character: Character) -> UInt32? {
        character.unicodeScalars.count == 1 ? character.unicodeScalars.first!.value : nil
    }

    /// Septets when every scalar is in the GSM-7 tables (and none combines with the next); nil otherwise.
    static func scalarSeptetCount(_ text: String) -> Int? {
        var septets = 0
        // The table read once (a static's accessor in the loop cost a check per scalar).
        let scalarClass = scalarClass
        for scalar in text.unicodeScalars {
            guard scalar.value < 0x2100 else { return nil }
            switch scalarClass[Int(scalar.value)] {
            case 1: septets += 1
            case 2: septets += 2
            default: return nil
            }
        }
        return septets
    }

    /// Single-message and per-part capacities: 160 septets or 70 UTF-16 units alone; once a
    /// message is split, each part loses 7 septets / 3 units to the concatenation header (UDH).
    public static let gsm7Single = 160, gsm7Part = 153, ucs2Single = 70, ucs2Part = 67

    /// Septets a scalar costs in GSM-7: 1 in the basic set, 2 in the extension table (escape 0x1B
    /// plus the character), 0 when it is not in GSM 03.38 at all.
    @inline(__always)
    static func septets(_ scalar: Unicode.Scalar, _ scalarClass: [UInt8] = scalarClass) -> Int {
        let value = scalar.value
        guard value < 0x2100 else { return 0 }
        switch scalarClass[Int(value)] {
        case 1: return 1
        case 2: return 2
        default: return 0
        }
    }

    /// How `text` travels, counted on the Unicode scalars of exactly these bytes (never on
    /// `Character`s: Swift compares those canonically, so "e\u{301}" would equal "é" although its
    /// U+0301 is not GSM-7 and forces UCS-2). Segments are packed as carriers pack them: an
    /// extension character (escape + character) and a surrogate pair are never split across
    /// parts, so one that would straddle starts the next part.
    public static func analyze(_ text: String) -> SMSInfo {
        var septets = 0
        var parts = 1
        var used = 0
        var gsm = true
        let scalarClass = scalarClass
        for scalar in text.unicodeScalars {
            let cost = Self.septets(scalar, scalarClass)
            if cost == 0 { gsm = false; break }
            septets += cost
            if used + cost > gsm7Part { parts += 1; used = 0 }
            used += cost
        }
        if gsm {
            return SMSInfo(encoding: .gsm7, units: septets, segments: septets <= gsm7Single ? 1 : parts, nonGSMCharacters: [])
        }
        var units = 0
        parts = 1
        used = 0
        for scalar in text.unicodeScalars {
            let cost = scalar.value > 0xFFFF ? 2 : 1
            units += cost
            if used + cost > ucs2Part { parts += 1; used = 0 }
            used += cost
        }
        // What a reader sees: the characters holding a scalar outside GSM-7 (a lone combining mark
        // shows with the letter it sits on).
        var nonGSM: [Character] = []
        for character in text where character.unicodeScalars.contains(where: { Self.septets($0) == 0 }) {
            if !nonGSM.contains(where: { $0.unicodeScalars.elementsEqual(character.unicodeScalars) }) { nonGSM.append(character) }
        }
        return SMSInfo(encoding: .ucs2, units: units, segments: units <= ucs2Single ? 1 : parts, nonGSMCharacters: nonGSM)
    }

    /// The text in Unicode normalization form C: "e" + U+0301 becomes "é", which is GSM-7 (one
    /// septet) where the decomposed pair would turn the whole message into UCS-2. Canonically
    /// equivalent, so phones show the same letters. The gateway sends (and logs) this text.
    public static func normalized(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }   // ASCII is already NFC
        // Latin letters below U+0300, typographic quotes, dashes, … and €, and emoji neither change
        // nor combine under NFC; only text with anything else pays for Foundation's normalization.
        if text.unicodeScalars.allSatisfy({ $0.value < 0x300 || nfcStable.contains($0.value) || (0x1F300...0x1FAFF).contains($0.value) }) { return text }
        return text.precomposedStringWithCanonicalMapping
    }

    static let nfcStable: Set<UInt32> = [0x2013, 0x2014, 0x2018, 0x2019, 0x201A, 0x201C, 0x201D, 0x201E, 0x2022, 0x2026, 0x20AC, 0x20A1, 0x202F]

    /// Nearest GSM-7 characters for letters and punctuation that are not in the alphabet (á → a,
    /// Í → I, “ → ", – → -, … → ...). Characters with no reasonable stand-in (emoji) are kept, so
    /// the message stays UCS-2 rather than losing meaning.
    public static func transliterate(_ text: String) -> String {
        if asciiSeptetCount(text) != nil || scalarSeptetCount(text) != nil { return text }   // already GSM-7: nothing to replace
        let scalarClass = scalarClass
        // Every scalar known, none combining: replace scalar by scalar.
        if text.unicodeScalars.allSatisfy({ $0.value < 0x2100 && scalarClass[Int($0.value)] != 0 }) {
            var out: [UInt8] = []
            out.reserveCapacity(text.utf8.count + 8)
            for scalar in text.unicodeScalars {
                if scalarClass[Int(scalar.value)] == 3, let replacement = scalarReplacements[scalar.value] {
                    out += replacement
                } else if scalar.value < 0x80 {
                    out.append(UInt8(scalar.value))
                } else {
                    out.append(contentsOf: UTF8.encode(scalar)!)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            if basic.contains(character) || extended.contains(character) {
                out.append(character)
            } else if let replacement = replacements[character] {
                out += replacement
            } else {
                out.append(character)
            }
        }
        return out
    }

    /// `replacements` by scalar, as UTF-8 (every key is one scalar): looked up without hashing a Character.
    static let scalarReplacements: [UInt32: [UInt8]] = Dictionary(uniqueKeysWithValues: replacements.compactMap { key, value in
        single(key).map { ($0, Array(value.utf8)) }
    })

    static let replacements: [Character: String] = [
        "á": "a", "â": "a", "ã": "a", "í": "i", "î": "i", "ï": "i", "ó": "o", "ô": "o", "õ": "o", "ú": "u", "û": "u",
        "ê": "e", "ë": "e", "ç": "c", "ý": "y", "ÿ": "y",
        "Á": "A", "À": "A", "Â": "A", "Ã": "A", "Í": "I", "Ì": "I", "Î": "I", "Ï": "I", "Ó": "O", "Ò": "O", "Ô": "O", "Õ": "O",
        "Ú": "U", "Ù": "U", "Û": "U", "È": "E", "Ê": "E", "Ë": "E", "Ý": "Y",
        "‘": "'", "’": "'", "‚": "'", "“": "\"", "”": "\"", "„": "\"", "«": "\"", "»": "\"",
        "–": "-", "—": "-", "…": "...", "\u{00A0}": " ", "\u{202F}": " ", "\t": " ", "•": "-", "º": "o", "ª": "a",
        "₡": "CRC ",
    ]
}
