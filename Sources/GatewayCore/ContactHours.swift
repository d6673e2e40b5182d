import Foundation

/// When a country (or a channel in it) allows contact: minute ranges per weekday, in the contact's
/// local time, and whether public holidays are closed.
public struct HoursRule: Sendable, Equatable {
    public var id: String
    /// The sentence a reviewer reads ("Colombia allows 07:00–19:00 Mon–Fri, 08:00–15:00 Sat; never Sundays or holidays").
    public var description: String
    /// Weekday (1 = Sunday … 7 = Saturday, as Calendar counts) → allowed [start, end) minutes of the day.
    public var windows: [Int: [Range<Int>]]
    public var holidaysClosed: Bool

    public init(id: String, description: String, windows: [Int: [Range<Int>]], holidaysClosed: Bool) {
        self.id = id
        self.description = description
        self.windows = windows
        self.holidaysClosed = holidaysClosed
    }

    func allows(weekday: Int, minute: Int, isHoliday: Bool) -> Bool {
        if isHoliday && holidaysClosed { return false }
        return windows[weekday, default: []].contains { $0.contains(minute) }
    }
}

/// Allowed hours, as configured, and the public holidays they refer to.
public struct HoursPolicy: Sendable, Equatable {
    public var byCountry: [String: HoursRule]
    public var fallback: HoursRule
    /// Channel → (country → rule, and the channel's own fallback); a channel without an entry uses the above.
    public var byChannel: [Channel: (countries: [String: HoursRule], fallback: HoursRule?)]
    /// Country → date (YYYY-MM-DD) → the public holiday's name ("Navidad"), so that a sentence can
    /// say which holiday closed the day.
    public var holidays: [String: [String: String]]

    public init(byCountry: [String: HoursRule], fallback: HoursRule, byChannel: [Channel: (countries: [String: HoursRule], fallback: HoursRule?)] = [:],
                holidays: [String: [String: String]] = [:]) {
        self.byCountry = byCountry
        self.fallback = fallback
        self.byChannel = byChannel
        self.holidays = holidays
    }

    public static func == (a: HoursPolicy, b: HoursPolicy) -> Bool {
        a.byCountry == b.byCountry && a.fallback == b.fallback && a.holidays == b.holidays
            && a.byChannel.keys == b.byChannel.keys
            && a.byChannel.allSatisfy { key, value in b.byChannel[key].map { $0.countries == value.countries && $0.fallback == value.fallback } ?? false }
    }

    /// A channel's rule for the country, else the country's rule, else the channel's default, else
    /// the default: a country's law is never loosened by a channel-wide setting.
    public func rule(country: String, channel: Channel) -> HoursRule {
        if let rule = byChannel[channel]?.countries[country] { return rule }
        if let rule = byCountry[country] { return rule }
        if let rule = byChannel[channel]?.fallback { return rule }
        return fallback
    }

    /// Whether `date` is allowed in every zone of the location.
    public func allows(_ date: Date, location: ContactLocation, channel: Channel) -> Bool {
        let rule = rule(country: location.country, channel: channel)
        let holidays = self.holidays[location.country] ?? [:]
        return location.timeZones.allSatisfy { zone in
            let local = Self.local(date, zone)
            return rule.allows(weekday: local.weekday, minute: local.minute, isHoliday: holidays[local.day] != nil)
        }
    }

    /// The public holidays that close `channel` for the location from `date`'s local day up to, not
    /// including, `until`'s day (only `date`'s day without `until`), in the location's first zone and
    /// in order. Only days the rule would otherwise open count (a holiday on a closed Sunday closes
    /// nothing); none when the rule keeps holidays open.
    public func closingHolidays(from date: Date, until: Date?, location: ContactLocation, channel: Channel) -> [(day: String, weekday: Int, name: String)] {
        let rule = rule(country: location.country, channel: channel)
        guard rule.holidaysClosed, let names = holidays[location.country], !names.isEmpty else { return [] }
        let zone = location.timeZones[0]
        let start = Self.local(date, zone)
        let end = until.map { Self.local($0, zone).day }
        // Local noon of each day, a day apart: DST moves an hour at most, never across midnight.
        var noon = date.addingTimeInterval(Double(12 * 60 - start.minute) * 60)
        var found: [(day: String, weekday: Int, name: String)] = []
        for _ in 0...16 {
            let local = Self.local(noon, zone)
            if let end { if local.day >= end { break } } else if local.day != start.day { break }
            if let name = names[local.day], !rule.windows[local.weekday, default: []].isEmpty { found.append((local.day, local.weekday, name)) }
            noon = noon.addingTimeInterval(86_400)
        }
        return found
    }

    /// "closed: Navidad (public holiday)", or for later days "…, Día de las Glorias del Ejército
    /// (public holiday, Sat 2026-09-19)"; empty when no holiday closes any of those days.
    public func holidayNote(from date: Date, until: Date?, location: ContactLocation, channel: Channel) -> String {
        let found = closingHolidays(from: date, until: until, location: location, channel: channel)
        guard !found.isEmpty else { return "" }
        let today = Self.local(date, location.timeZones[0]).day
        let names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        return "closed: " + found.map { holiday in
            if holiday.day == today { return "\(holiday.name) (public holiday)" }
            return "\(holiday.name) (public holiday, \(names[holiday.weekday - 1]) \(holiday.day))"
        }.joined(separator: ", ")
    }

    /// The first moment at or after `date` that every zone allows, looking up to 15 days ahead.
    public func nextAllowed(after date: Date, location: ContactLocation, channel: Channel) -> Date? {
        if allows(date, location: location, channel: channel) { return date }
        let rule = rule(country: location.country, channel: channel)
        // The intersection opens either now or at some window start in some zone: try those in order.
        var candidates: [Date] = []
        for zone in location.timeZones {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: zone) ?? TimeZone(identifier: "UTC")!
            let startOfDay = calendar.startOfDay(for: date)
            for offset in 0...15 {
                guard let day = calendar.date(byAdding: .day, value: offset, to: startOfDay) else { continue }
                let weekday = calendar.component(.weekday, from: day)
                for window in rule.windows[weekday, default: []] {
                    var components = calendar.dateComponents([.year, .month, .day], from: day)
                    components.hour = window.lowerBound / 60
                    components.minute = window.lowerBound % 60
                    if let start = calendar.date(from: components), start > date { candidates.append(start) }
                }
            }
        }
        return candidates.sorted().first { allows($0, location: location, channel: channel) }
    }

    struct Local {
        var weekday: Int
        var minute: Int
        var day: String
    }

    /// The local weekday (1 = Sunday), minute of the day and date of `date` in `zone`: the zone's
    /// offset at that instant (DST included), then plain arithmetic; no Calendar per call.
    static func local(_ date: Date, _ zone: String) -> Local {
        let offset = ZoneCache.zone(zone).secondsFromGMT(for: date)
        let seconds = Int((date.timeIntervalSince1970).rounded(.down)) + offset
        var days = seconds / 86_400
        var rest = seconds % 86_400
        if rest < 0 { rest += 86_400; days -= 1 }
        let (year, month, day) = Timestamp.civil(days: days)
        // 1970-01-01 was a Thursday (weekday 5).
        let weekday = ((days % 7) + 7 + 4) % 7 + 1
        return Local(weekday: weekday, minute: rest / 60, day: Timestamp.dayString(year: year, month: month, day: day))
    }

    /// "21:14 Sat" in the zone, for sentences.
    public static func describe(_ date: Date, zone: String) -> String {
        let local = local(date, zone)
        let names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        return clock(local.minute) + " " + names[local.weekday - 1]
    }

    /// "2026-12-01 08:00 America/Bogota".
    public static func describeLocal(_ date: Date, zone: String) -> String {
        let local = local(date, zone)
        return "\(local.day) " + clock(local.minute) + " \(zone)"
    }

    /// "08:05" for 485 minutes after midnight (without String(format:), which costs a formatter a call).
    static func clock(_ minute: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(5)
        Timestamp.put(minute / 60, 2, into: &out)
        out.append(UInt8(ascii: ":"))
        Timestamp.put(minute % 60, 2, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

/// Time zones by identifier, made once (TimeZone(identifier:) reads the zone database).
enum ZoneCache {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var zones: [String: TimeZone] = [:]

    static func zone(_ identifier: String) -> TimeZone {
        lock.lock()
        defer { lock.unlock() }
        if let zone = zones[identifier] { return zone }
        let zone = TimeZone(identifier: identifier) ?? TimeZone(identifier: "UTC")!
        zones[identifier] = zone
        return zone
    }
}
