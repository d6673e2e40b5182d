/// What the numbering plans say about an E.164 number: its calling code, the region it belongs to
/// (for +1, the area code's country or territory), whether its length is possible there and whether
/// it can be a mobile. The facts come from libphonenumber's metadata (PhoneNumbering+Data.swift,
/// made by scripts/generate-phone-metadata); they are read into arrays once, so a lookup is a few
/// array reads and a hash lookup or two, no pattern matching.
public enum PhoneNumbering {
    /// One country calling code and what its numbers look like.
    public struct CallingCode: Sendable {
        public let code: Int
        /// ISO 3166 regions sharing the code, the main one first ("001" for non-geographic networks).
        public let regions: [String]
        /// Possible lengths of the national significant number (the digits after the code), as bits.
        let lengths: UInt32
        /// Lengths a number that can take an SMS (mobile, pager, personal, VoIP) can have.
        let smsLengths: UInt32
        /// Leading digits of the national number that only a fixed line has, as `prefixKey`s.
        let landlinePrefixes: Set<Int>
        let landlinePrefixLengths: [Int]
    }

    struct Region: Sendable {
        var name: String
        var zones: [String]
    }

    struct Tables: Sendable {
        /// Indexed by the calling code (1...999).
        var codes: [CallingCode?]
        var regions: [String: Region]
        /// +1: indexed by the area code (200...999).
        var nanp: [String?]
    }

    static let tables: Tables = load()

    /// The calling code of an E.164 number (one that passed `JobDecoder.isE164`) and the length of its
    /// national number; nil for a code no numbering plan uses.
    public static func callingCode(of phone: String) -> CallingCode? {
        withUTF8(phone) { split($0)?.code }
    }

    /// The region a number belongs to: for +1 the area code's country or territory (an area code not
    /// assigned in the metadata counts as the US); for a code shared by several regions, the main one.
    public static func region(ofPhone phone: String) -> String? {
        withUTF8(phone) { digits in
            guard let (code, start) = split(digits) else { return nil }
            if code.code == 1 {
                return areaCode(digits, start).flatMap { tables.nanp[$0] } ?? "US"
            }
            let main = code.regions[0]
            return main == "001" ? nil : main
        }
    }

    /// Runs `body` on the phone's UTF-8 bytes in place (a small string's on the stack), without the
    /// heap copy `Array(phone.utf8)` makes: the worker looks at every job's phone several times.
    @inline(__always)
    static func withUTF8<R>(_ phone: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = phone.utf8.withContiguousStorageIfAvailable(body) { return result }
        return Array(phone.utf8).withUnsafeBufferPointer(body)
    }

    /// The +1 area code of a number, when it has three digits after the code.
    static func areaCode(_ digits: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int? {
        guard digits.count >= start + 3 else { return nil }
        let value = digits[start..<start + 3].reduce(0) { $0 * 10 + Int($1 &- 48) }
        return (200...999).contains(value) ? value : nil
    }

    /// The English name of a region ("Costa Rica", "Puerto Rico").
    public static func name(ofRegion region: String) -> String? {
        tables.regions[region]?.name
    }

    /// The IANA zones of a region, from libphonenumber's prefix-to-zone data.
    public static func zones(ofRegion region: String) -> [String] {
        tables.regions[region]?.zones ?? []
    }

    /// Every region the tables know, with its zones (for finding a zone's country).
    static var allRegionZones: [(region: String, zones: [String])] {
        tables.regions.map { ($0.key, $0.value.zones) }
    }

    /// Why the number cannot be right for its country (nil when it can): its national number has a
    /// length no number there has, or, when it must take an SMS, a length or leading digits that only
    /// non-mobile numbers have. A number under a code no plan uses is left alone (its E.164 shape was
    /// checked already). Example: "+5068888: Costa Rica mobile numbers have 8 digits after +506; this one has 4".
    /// The decoder asks `forSMS` only when every requested channel is sms (nothing else could carry the job).
    public static func problem(with phone: String, forSMS: Bool) -> String? {
        withUTF8(phone) { digits in
            guard let (code, start) = split(digits) else { return nil }
            let length = digits.count - start
            let allowed = forSMS ? code.smsLengths : code.lengths
            if !has(allowed, length) {
                let kind = forSMS && code.smsLengths != code.lengths ? "mobile numbers" : "numbers"
                return "\(phone): \(displayName(code, digits, start)) \(kind) have \(describe(allowed)) digits after +\(code.code); this one has \(length)"
            }
            if forSMS, let prefixLength = landlinePrefixLength(code, digits, start) {
                let leading = String(decoding: digits[start..<start + prefixLength], as: UTF8.self)
                return "\(phone) is a fixed line (\(displayName(code, digits, start)) numbers starting \(leading) after +\(code.code) are landlines) and cannot take an SMS: give a mobile number or leave sms out of channels"
            }
            return nil
        }
    }

    /// Why an SMS cannot reach this number, or nil when it can: its length or leading digits are ones
    /// only non-mobile numbers of its country have. The worker and `gateway rules check` ask it for the
    /// sms channel of a job that names another channel too, so the next channel is used and the log
    /// says why sms was not: "contact.phone +50622223333 is a fixed line (Costa Rica numbers starting
    /// 22 after +506 are landlines); SMS needs a mobile". Nothing is allocated for a mobile number.
    public static func smsUnreachable(_ phone: String) -> String? {
        withUTF8(phone) { digits in
            guard let (code, start) = split(digits) else { return nil }
            let length = digits.count - start
            if !has(code.smsLengths, length) {
                return "contact.phone \(phone) has \(length) digits after +\(code.code), and \(displayName(code, digits, start)) mobile numbers have \(describe(code.smsLengths)); SMS needs a mobile"
            }
            guard let prefixLength = landlinePrefixLength(code, digits, start) else { return nil }
            let leading = String(decoding: digits[start..<start + prefixLength], as: UTF8.self)
            return "contact.phone \(phone) is a fixed line (\(displayName(code, digits, start)) numbers starting \(leading) after +\(code.code) are landlines); SMS needs a mobile"
        }
    }

    /// Whether `length` is one of the lengths in `bits`.
    static func has(_ bits: UInt32, _ length: Int) -> Bool {
        length < 32 && bits & (1 << UInt32(length)) != 0
    }

    /// How many leading digits of the national number mark it as a fixed line, or nil when none do.
    static func landlinePrefixLength(_ code: CallingCode, _ digits: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int? {
        guard !code.landlinePrefixes.isEmpty else { return nil }
        let length = digits.count - start
        for prefixLength in code.landlinePrefixLengths where prefixLength <= length {
            let value = digits[start..<start + prefixLength].reduce(0) { $0 * 10 + Int($1 &- 48) }
            if code.landlinePrefixes.contains(prefixKey(length: prefixLength, value: value)) { return prefixLength }
        }
        return nil
    }

    /// "Costa Rica", "United States" (for +1, the area code's region), "Russia and Kazakhstan".
    static func displayName(_ code: CallingCode, _ digits: UnsafeBufferPointer<UInt8>, _ start: Int) -> String {
        if code.code == 1, let region = areaCode(digits, start).flatMap({ tables.nanp[$0] }), let name = name(ofRegion: region) {
            return name
        }
        let names = code.regions.compactMap { $0 == "001" ? nil : name(ofRegion: $0) }
        switch names.count {
        case 0: return "+\(code.code)"
        case 1: return names[0]
        case 2: return "\(names[0]) and \(names[1])"
        default: return "\(names[0]) and \(names.count - 1) other regions'"
        }
    }

    /// "8", "8 or 10", "9, 10 or 11".
    static func describe(_ bits: UInt32) -> String {
        let values = (0..<32).filter { bits & (1 << UInt32($0)) != 0 }.map(String.init)
        guard values.count > 1 else { return values.first ?? "no" }
        return values.dropLast().joined(separator: ", ") + " or " + values.last!
    }

    static func prefixKey(length: Int, value: Int) -> Int { length << 20 | value }

    /// The calling code and where the national number starts. Codes are prefix-free, so the first of
    /// the one-, two- and three-digit readings that is a code is the code.
    static func split(_ digits: UnsafeBufferPointer<UInt8>) -> (code: CallingCode, start: Int)? {
        guard digits.count >= 2, digits[0] == UInt8(ascii: "+") else { return nil }
        var value = 0
        for index in 1...min(3, digits.count - 1) {
            let digit = Int(digits[index] &- 48)
            guard digit >= 0, digit <= 9 else { return nil }
            value = value * 10 + digit
            if let code = tables.codes[value] { return (code, index + 1) }
        }
        return nil
    }

    static func load() -> Tables {
        var codes = [CallingCode?](repeating: nil, count: 1000)
        for line in callingCodeLines.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 5, let code = Int(fields[0]), (1...999).contains(code) else { continue }
            func bits(_ text: String) -> UInt32 {
                text.split(separator: ",").compactMap { Int($0) }.filter { $0 < 32 }.reduce(0) { $0 | 1 << UInt32($1) }
            }
            let prefixes = fields[4] == "-" ? [] : fields[4].split(separator: ",").map(String.init)
            let keys = Set(prefixes.compactMap { text in Int(text).map { prefixKey(length: text.count, value: $0) } })
            codes[code] = CallingCode(code: code, regions: fields[1].split(separator: ",").map(String.init),
                                      lengths: bits(fields[2]), smsLengths: bits(fields[3]),
                                      landlinePrefixes: keys, landlinePrefixLengths: Set(prefixes.map(\.count)).sorted())
        }
        var regions: [String: Region] = [:]
        for line in regionLines.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3 else { continue }
            regions[fields[0]] = Region(name: fields[1], zones: fields[2].split(separator: ",").map(String.init))
        }
        var nanp = [String?](repeating: nil, count: 1000)
        for line in nanpLines.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 2 else { continue }
            for areaCode in fields[1].split(separator: ",").compactMap({ Int($0) }) where (200...999).contains(areaCode) {
                nanp[areaCode] = String(fields[0])
            }
        }
        return Tables(codes: codes, regions: regions, nanp: nanp)
    }
}
