import ContactLog

/// How the log's values are written in PostgreSQL TEXT columns, which cannot hold a NUL character
/// or bytes that are not UTF-8 (a job sent as UTF-16, `\u0000` in a job's string). Those bytes,
/// and the escape character itself, are written as U+FDD0 (a Unicode noncharacter, reserved for
/// a program's internal use) followed by the byte in two upper-case hex digits; everything else is
/// stored as it is, so nearly every value reads the same in psql. The mapping is one-to-one, so
/// equal values stay equal (filters, unique indexes) and every value reads back byte for byte.
/// The hash chain covers the values, not this spelling of them.
enum StoredText {
    static let escape = Unicode.Scalar(UInt32(0xFDD0))!   // (Swift refuses a noncharacter literal)
    /// U+FDD0 in UTF-8.
    static let escapeBytes: [UInt8] = [0xEF, 0xB7, 0x90]
    static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// The TEXT to store for a value.
    static func encode(_ text: String) -> String {
        var text = text
        return text.withUTF8 { bytes in needsEscaping(bytes, valid: true) ? escaped(bytes) : nil } ?? text
    }

    static func encode(_ text: String?) -> String? { text.map { encode($0) } }

    static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { buffer in
            needsEscaping(buffer, valid: false) ? escaped(buffer) : String(decoding: buffer, as: UTF8.self)
        }
    }

    static func encode(_ value: ChainValue) -> String {
        switch value {
        case .text(let text): encode(text)
        case .bytes(let bytes): encode(bytes)
        }
    }

    /// The value's bytes from stored TEXT.
    static func decode(_ stored: String) -> [UInt8] {
        var stored = stored
        return stored.withUTF8 { unescaped($0) }
    }

    /// The value as text (bytes that are not UTF-8 read as U+FFFD: only a raw job can hold them).
    static func decodeText(_ stored: String) -> String {
        var copy = stored
        let plain = copy.withUTF8 { !contains($0, escapeBytes) }
        return plain ? stored : String(decoding: decode(stored), as: UTF8.self)
    }

    private static func needsEscaping(_ bytes: UnsafeBufferPointer<UInt8>, valid: Bool) -> Bool {
        if bytes.contains(0) || contains(bytes, escapeBytes) { return true }
        return !valid && String(validating: bytes, as: UTF8.self) == nil
    }

    private static func contains(_ bytes: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard bytes.count >= needle.count else { return false }
        var index = 0
        while index + needle.count <= bytes.count {
            if bytes[index] == needle[0], bytes[index + 1] == needle[1], bytes[index + 2] == needle[2] { return true }
            index += 1
        }
        return false
    }

    private static func escaped(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        func escapeByte(_ byte: UInt8) {
            out += escapeBytes
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0F)])
        }
        var index = 0
        while index < bytes.count {
            let length = validSequenceLength(bytes, at: index)
            if length == 0 || bytes[index] == 0 || (length == 3 && bytes[index] == 0xEF && bytes[index + 1] == 0xB7 && bytes[index + 2] == 0x90) {
                // A NUL, a byte that starts no valid UTF-8 sequence, or the escape character: byte by byte.
                for offset in 0..<max(length, 1) { escapeByte(bytes[index + offset]) }
                index += max(length, 1)
            } else {
                out.append(contentsOf: bytes[index..<index + length])
                index += length
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The length of the valid UTF-8 sequence starting at `index` (RFC 3629: no overlongs, no
    /// surrogates, nothing past U+10FFFF), or 0 when the byte there starts none.
    private static func validSequenceLength(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let first = bytes[index]
        func continuation(_ offset: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            index + offset < bytes.count && range.contains(bytes[index + offset])
        }
        switch first {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return continuation(1) ? 2 : 0
        case 0xE0: return continuation(1, 0xA0...0xBF) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return continuation(1) && continuation(2) ? 3 : 0
        case 0xED: return continuation(1, 0x80...0x9F) && continuation(2) ? 3 : 0
        case 0xF0: return continuation(1, 0x90...0xBF) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3: return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4: return continuation(1, 0x80...0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default: return 0
        }
    }

    private static func unescaped(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        guard contains(bytes, escapeBytes) else { return Array(bytes) }
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if index + 5 <= bytes.count, bytes[index] == 0xEF, bytes[index + 1] == 0xB7, bytes[index + 2] == 0x90,
               let high = hex(bytes[index + 3]), let low = hex(bytes[index + 4]) {
                out.append(high << 4 | low)
                index += 5
            } else {
                // Not an escape the gateway wrote (a row written by hand): kept as it is.
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }
}
