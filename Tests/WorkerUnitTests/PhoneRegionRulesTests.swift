import Foundation
import GatewayCore
import Testing
@testable import Worker

/// +1 is not only the fifty states: the area code says which country or territory the contact is in,
/// which zone its clock is on and whose rules apply.
@Suite struct PhoneRegionRulesTests {
    @Test func puertoRicoAt2130IsDeferredUnderRegulationFOnPuertoRicoTime() {
        // Mon 30 Nov 2026 21:30 in San Juan (UTC-4 all year): 20:30 in New York, so every state would allow it.
        let job = contactJob(phone: "+17875550123")
        let location = shippedRules.locate(job)
        #expect(location.country == "US" && location.region == "PR")
        #expect(location.timeZones == ["America/Puerto_Rico"])
        #expect(location.source == "phone +1 787, Puerto Rico")
        guard case .defer(let until, let ruleID, let detail) = decide(job, at("2026-12-01T01:30:00Z")) else {
            Issue.record("a Puerto Rico number was not deferred at 21:30 local")
            return
        }
        #expect(until == at("2026-12-01T12:00:00Z"))  // Tue 08:00 in San Juan
        #expect(ruleID == "hours-US")
        #expect(detail.hasPrefix("deferred to 2026-12-01 08:00 America/Puerto_Rico: US Regulation F"))
        #expect(detail.hasSuffix("now 21:30 Mon America/Puerto_Rico (phone +1 787, Puerto Rico)"))
        // 05:00 in San Juan (09:00Z) is deferred to 08:00 too.
        guard case .defer(let early, _, _) = decide(job, at("2026-12-01T09:00:00Z")) else {
            Issue.record("a Puerto Rico number was not deferred at 05:00 local")
            return
        }
        #expect(early == at("2026-12-01T12:00:00Z"))
        // 08:00 in San Juan is 07:00 in New York: allowed in Puerto Rico, whatever the states' clocks say.
        guard case .send(_, let sent) = decide(job, at("2026-12-01T12:00:00Z")) else {
            Issue.record("a Puerto Rico number was not sent at 08:00 local")
            return
        }
        #expect(sent.contains("US Regulation F") && sent.contains("(phone +1 787, Puerto Rico)"))
    }

    @Test func newfoundlandKeepsItsHalfHourZone() {
        // Canada's numbers get every Canadian zone, St John's (UTC-3:30) first, and Canada's rule (Mon-Sat 08:00-20:00).
        let job = contactJob(phone: "+17095550123")
        let location = shippedRules.locate(job)
        #expect(location.country == "CA" && location.region == nil)
        #expect(location.timeZones.first == "America/St_Johns" && location.timeZones.contains("America/Vancouver"))
        #expect(location.source == "phone +1 709, Canada")
        // Tue 1 Dec 23:25Z is 19:55 in St John's (and 19:25 in Halifax): allowed.
        guard case .send = decide(job, at("2026-12-01T23:25:00Z")) else {
            Issue.record("not sent at 19:55 in St John's")
            return
        }
        // 23:35Z is 20:05 in St John's but only 19:35 in Halifax: the half hour closes it.
        guard case .defer(let until, let ruleID, let detail) = decide(job, at("2026-12-01T23:35:00Z")) else {
            Issue.record("sent at 20:05 in St John's")
            return
        }
        #expect(ruleID == "hours-CA")
        // The next moment every Canadian zone allows: Wed 08:00 in Vancouver (16:00Z), 12:30 in St John's.
        #expect(until == at("2026-12-02T16:00:00Z"))
        #expect(detail.hasPrefix("deferred to 2026-12-02 12:30 America/St_Johns: Canada"))
        #expect(detail.hasSuffix("now 20:05 Tue 9 zones of Canada (phone +1 709, Canada)"))
    }

    @Test func theDominicanRepublicUsesItsOwnRule() {
        // Sat 5 Dec 2026 14:00 in Santo Domingo (UTC-4): Regulation F would allow it; INDOTEL's Saturday ends at 13:00.
        let job = contactJob(phone: "+18095550123")
        let location = shippedRules.locate(job)
        #expect(location.country == "DO" && location.timeZones == ["America/Santo_Domingo"])
        guard case .defer(let until, let ruleID, let detail) = decide(job, at("2026-12-05T18:00:00Z")) else {
            Issue.record("a Dominican number was not deferred on Saturday 14:00")
            return
        }
        #expect(ruleID == "hours-DO")
        #expect(until == at("2026-12-07T11:00:00Z"))  // Mon 07:00
        #expect(detail.contains("Dominican Republic") && detail.hasSuffix("(phone +1 809, Dominican Republic)"))
        // 829 and 849 are the Dominican Republic too.
        #expect(shippedRules.locate(contactJob(phone: "+18495550123")).country == "DO")
    }

    @Test func guamIsOnGuamTime() {
        // Mon 30 Nov 21:30 in Guam (UTC+10) is 11:30Z: before, every US zone had to allow it, and the job
        // waited for 08:00 in Honolulu (18:00Z), which is 04:00 in Guam.
        let job = contactJob(phone: "+16715550123")
        let location = shippedRules.locate(job)
        #expect(location.country == "US" && location.region == "GU" && location.timeZones == ["Pacific/Guam"])
        guard case .defer(let until, let ruleID, _) = decide(job, at("2026-11-30T11:30:00Z")) else {
            Issue.record("a Guam number was not deferred at 21:30 local")
            return
        }
        #expect(ruleID == "hours-US")
        #expect(until == at("2026-11-30T22:00:00Z"))  // Tue 08:00 in Guam
        #expect(shippedRules.locate(contactJob(phone: "+16845550123")).timeZones == ["Pacific/Pago_Pago"])
        #expect(shippedRules.locate(contactJob(phone: "+13405550123")).timeZones == ["America/St_Thomas"])
        #expect(shippedRules.locate(contactJob(phone: "+16705550123")).timeZones == ["Pacific/Saipan"])
    }

    @Test func aPlainUSNumberIsUnchanged() {
        let location = shippedRules.locate(contactJob(phone: "+14155550123"))
        #expect(location.country == "US" && location.region == nil && location.source == "phone +1")
        #expect(location.timeZones == ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
                                       "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu"])
        // 08:00 in Honolulu to 21:00 in New York, as before.
        guard case .send = decide(contactJob(phone: "+14155550123"), at("2026-12-02T01:59:00Z")) else {
            Issue.record("a US number was not sent at 20:59 in New York")
            return
        }
        guard case .defer(let until, "hours-US", _) = decide(contactJob(phone: "+14155550123"), at("2026-12-02T02:00:00Z")) else {
            Issue.record("a US number was not deferred at 21:00 in New York")
            return
        }
        #expect(until == at("2026-12-02T18:00:00Z"))
    }

    @Test func aContactTimeZoneInATerritoryIsRuledAsTheUS() {
        let noPhone = shippedRules.locate(contactJob(phone: nil, timezone: "America/Puerto_Rico"))
        #expect(noPhone.country == "US" && noPhone.region == "PR" && noPhone.source == "contact.timezone")
        let both = shippedRules.locate(contactJob(phone: "+17875550123", timezone: "America/Puerto_Rico"))
        #expect(both.country == "US" && both.region == "PR" && both.timeZones == ["America/Puerto_Rico"])
        #expect(shippedRules.locate(contactJob(phone: nil, timezone: "America/St_Johns")).country == "CA")
    }

    @Test func aTerritoryNamedInTheRulesGetsItsOwnRule() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("contact-rules.yml").path
        try """
        default_country: CR
        default_timezone: America/Costa_Rica
        allowed_hours:
          default: {mon-sat: "08:00-20:00"}
          US: {description: "Regulation F", mon-sun: "08:00-21:00"}
          PR: {description: "Puerto Rico: 09:00-17:00", mon-fri: "09:00-17:00"}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let rules = try ContactRulesFile.load(path: path)
        let location = rules.locate(contactJob(phone: "+17875550123"))
        #expect(location.country == "PR" && location.region == nil && location.source == "phone +1 787, Puerto Rico")
        // Guam is not named: still the US.
        #expect(rules.locate(contactJob(phone: "+16715550123")).country == "US")
        // Mon 30 Nov 2026 18:00 in San Juan: Regulation F allows it, the territory's own rule does not.
        guard case .defer(_, "hours-PR", _) = decide(contactJob(phone: "+17875550123"), at("2026-11-30T22:00:00Z"), rules: rules) else {
            Issue.record("Puerto Rico's own rule was not used")
            return
        }
    }

    /// The laws for these numbers, written out again apart from the rules file and the engine: the
    /// US territories keep Regulation F's 08:00-21:00 on their own clock, the Dominican Republic
    /// INDOTEL's Mon-Fri 07:00-18:00 and Sat 09:00-13:00, Canada Mon-Sat 08:00-20:00 in every zone;
    /// both never on their public holidays (the local date in the zone looked up in the holiday file).
    static func lawAllows(phone: String, zone: String, date: Date) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zone)!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: date)
        let minute = c.hour! * 60 + c.minute!
        let day = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
        func holiday(_ country: String) -> Bool { shippedRules.hours.holidays[country]?[day] != nil }
        func within(_ from: Int, _ to: Int) -> Bool { minute >= from * 60 && minute < to * 60 }
        switch phone.prefix(5) {
        case "+1787", "+1671", "+1684", "+1340", "+1670": return within(8, 21)
        case "+1809": return !holiday("DO") && ((2...6).contains(c.weekday!) ? within(7, 18) : c.weekday! == 7 && within(9, 13))
        case "+1709", "+1514": return !holiday("CA") && (2...7).contains(c.weekday!) && within(8, 20)
        default: return false
        }
    }

    @Test func noSendOutsideTheTerritorysHoursAndNoDeferralPastAnAllowedMoment() {
        // SplitMix64, seeded by TEST_SEED when set, so a failure can be replayed.
        var state = ProcessInfo.processInfo.environment["TEST_SEED"].flatMap { UInt64($0) } ?? 20_261_130
        let seed = "seed \(state); rerun with TEST_SEED=\(state)"
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let phones = ["+17875550123", "+16715550123", "+16845550123", "+13405550123", "+16705550123", "+18095550123", "+17095550123", "+15145550123"]
        let start = at("2026-01-01T00:00:00Z").timeIntervalSince1970
        var sends = 0
        var deferrals = 0
        for _ in 0..<1500 {
            let phone = phones[Int(next() % UInt64(phones.count))]
            // A minute within three years, so both sides of every DST change come up.
            let now = Date(timeIntervalSince1970: start + Double(next() % (3 * 365 * 1440)) * 60)
            let job = contactJob(phone: phone)
            let zones = shippedRules.locate(job).timeZones
            func open(_ date: Date) -> Bool { zones.allSatisfy { Self.lawAllows(phone: phone, zone: $0, date: date) } }
            switch decide(job, now) {
            case .send:
                sends += 1
                #expect(open(now), "sent \(phone) at \(now), \(seed)")
            case .defer(let until, _, _):
                deferrals += 1
                #expect(open(until), "\(phone) deferred to a forbidden moment \(until), \(seed)")
                var probe = now.addingTimeInterval(300 - now.timeIntervalSince1970.truncatingRemainder(dividingBy: 300))
                while probe < until {
                    if open(probe) {
                        Issue.record("\(phone) deferred from \(now) to \(until) but \(probe) was allowed, \(seed)")
                        break
                    }
                    probe = probe.addingTimeInterval(300)
                }
            default:
                Issue.record("unexpected decision for \(phone) at \(now), \(seed)")
            }
        }
        #expect(sends > 200 && deferrals > 200, "\(sends) sends, \(deferrals) deferrals, \(seed)")
    }
}

