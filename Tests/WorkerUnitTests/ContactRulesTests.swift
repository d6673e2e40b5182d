import Foundation
import GatewayCore
import Templates
import Testing
import TestSupport
@testable import Worker

let shippedRules = try! ContactRulesFile.load(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path)

func at(_ text: String) -> Date { parseTimestamp(text)! }

func contactJob(phone: String? = "+573001234567", timezone: String? = nil, channels: [Channel] = [.sms], category: Category? = nil,
                expiresAt: Date? = nil, debt: String? = "LN-1", email: String? = "a@b.co") -> Job {
    Job(id: "J-\(UUID().uuidString.prefix(6))", template: "t", channels: channels,
        contact: .init(id: "C-1", phone: phone, email: email, push: .init(fcm: "tok"), timezone: timezone), debtID: debt,
        category: category, expiresAt: expiresAt)
}

/// Plan and resolve with every cap free.
func decide(_ job: Job, _ now: Date, optOuts: [OptOut] = [], rules: ContactRules = shippedRules) -> RuledDecision {
    let plan = RulesEngine.plan(job: job, now: now, rules: rules, optOuts: optOuts) { _ in nil }
    var caps: [Channel: CapResult] = [:]
    if let first = plan.allowedNow.first { caps[first] = .reserved }
    return RulesEngine.resolve(job: job, now: now, plan: plan, caps: caps, rules: rules)
}

@Suite struct AllowedHoursTests {
    @Test(arguments: [
        // Colombia: 07:00-19:00 Mon-Fri, 08:00-15:00 Sat, never Sundays or holidays. Bogota is UTC-5.
        ("+573001234567" as String?, nil as String?, "2026-12-04T14:00:00Z", nil as String?),                  // Fri 09:00
        ("+573001234567", nil, "2026-12-04T11:59:00Z", "2026-12-04T12:00:00Z"),                     // Fri 06:59 → 07:00
        ("+573001234567", nil, "2026-12-05T15:00:00Z", nil),                                        // Sat 10:00
        ("+573001234567", nil, "2026-12-05T20:30:00Z", "2026-12-07T12:00:00Z"),                     // Sat 15:30 → Mon 07:00
        ("+573001234567", nil, "2026-12-06T02:14:00Z", "2026-12-07T12:00:00Z"),                     // Sat 21:14 → Mon 07:00
        ("+573001234567", nil, "2026-12-08T15:00:00Z", "2026-12-09T12:00:00Z"),                     // Tue 8 Dec, a holiday → Wed
        // Peru: Mon-Fri 08:00-20:00, no Saturdays, Sundays or holidays. Lima is UTC-5.
        ("+51987654321", nil, "2026-12-05T15:00:00Z", "2026-12-07T13:00:00Z"),                      // Sat → Mon 08:00
        ("+51987654321", nil, "2026-07-28T15:00:00Z", "2026-07-30T13:00:00Z"),                      // 28-29 Jul: holidays
        // Chile: Mon-Sat 08:00-20:00, several zones (Easter Island is UTC-6/-5).
        ("+56912345678", "America/Santiago", "2026-12-06T15:00:00Z", "2026-12-07T11:00:00Z"),      // Sun → Mon 08:00 (UTC-3)
        // Mexico: 07:00-22:00; Mexico City has no DST any more (UTC-6 all year).
        ("+525512345678", "America/Mexico_City", "2026-07-01T12:30:00Z", "2026-07-01T13:00:00Z"),
        ("+525512345678", "America/Mexico_City", "2026-07-02T03:59:00Z", nil),                      // 21:59
        ("+525512345678", "America/Mexico_City", "2026-07-02T04:00:00Z", "2026-07-02T13:00:00Z"),   // 22:00 → next 07:00
        // US Regulation F: 08:00-21:00 local. With only a +1 number, every US zone must allow it:
        // 08:00 in Honolulu (18:00Z) to 21:00 in New York (02:00Z).
        ("+14155550123", nil, "2026-12-01T17:59:00Z", "2026-12-01T18:00:00Z"),
        ("+14155550123", nil, "2026-12-02T01:59:00Z", nil),
        ("+14155550123", nil, "2026-12-02T02:00:00Z", "2026-12-02T18:00:00Z"),
        ("+14155550123", "America/New_York", "2026-12-01T13:00:00Z", nil),                          // 08:00 EST
        // DST: New York springs forward on 8 Mar 2026. 12:30Z is 07:30 EST the day before, 08:30 EDT that day.
        ("+14155550123", "America/New_York", "2026-03-07T12:30:00Z", "2026-03-07T13:00:00Z"),
        ("+14155550123", "America/New_York", "2026-03-08T12:30:00Z", nil),
        // Santiago falls back at midnight on 5 Apr 2026 (UTC-3 → UTC-4): Saturday 20:30 → Monday 08:00 at UTC-4.
        ("+56912345678", "America/Santiago", "2026-04-04T23:30:00Z", "2026-04-06T12:00:00Z"),
        // Costa Rica (the default): Mon-Sat 08:00-20:00, UTC-6.
        (nil, nil, "2026-12-01T13:59:00Z", "2026-12-01T14:00:00Z"),
    ])
    func sendOrDeferUntil(phone: String?, zone: String?, now: String, expectedDeferral: String?) {
        let decision = decide(contactJob(phone: phone, timezone: zone, channels: phone == nil ? [.email] : [.sms]), at(now))
        switch (decision, expectedDeferral) {
        case (.send, nil): break
        case (.defer(let until, _, _), let expected?): #expect(until == at(expected), "\(now): deferred to \(formatTimestamp(until))")
        default: Issue.record("\(now) \(phone ?? "-"): got \(decision), expected \(expectedDeferral ?? "send")")
        }
    }

    @Test func theDeferralSentenceSaysWhy() {
        guard case .defer(_, let rule, let detail) = decide(contactJob(), at("2026-12-06T02:14:00Z")) else {
            Issue.record("not deferred")
            return
        }
        #expect(rule == "hours-CO")
        #expect(detail == "deferred to 2026-12-07 07:00 America/Bogota: Colombia allows 07:00-19:00 Mon-Fri, 08:00-15:00 Sat; never Sundays or holidays; now 21:14 Sat America/Bogota (phone +57)")
    }

    @Test func anotherChannelThatIsOpenIsUsedNow() {
        // Spain has no rule of its own: SMS follows the default (Mon-Sat 08:00-20:00), push its own default (every day to 21:00).
        let job = contactJob(phone: "+34600123456", channels: [.sms, .push])
        guard case .send(.push, let detail) = decide(job, at("2026-12-06T10:00:00Z")) else {
            Issue.record("push was not used on a Sunday")
            return
        }
        #expect(detail.hasPrefix("push allowed: Push notifications: 08:00-21:00 every day"))
        // A country's own rule is never loosened by a channel default.
        #expect(decide(contactJob(phone: "+573001234567", channels: [.push]), at("2026-12-06T15:00:00Z")) != .send(channel: .push, detail: ""))
    }

    @Test func optOutsAndDoNotContact() {
        let sms = OptOut(contactID: "C-1", channel: .sms, kind: .optOut, setBy: "reply:STOP", setAt: at("2026-11-01T00:00:00Z"))
        guard case .send(.email, _) = decide(contactJob(channels: [.sms, .email]), at("2026-12-04T14:00:00Z"), optOuts: [sms]) else {
            Issue.record("email was not used after an sms opt-out")
            return
        }
        guard case .suppress(.optedOut, _, let detail) = decide(contactJob(channels: [.sms]), at("2026-12-04T14:00:00Z"), optOuts: [sms]) else {
            Issue.record("opted-out channel was not suppressed")
            return
        }
        #expect(detail == "no requested channel can be used: sms: opted out (sms) by reply:STOP at 2026-11-01T00:00:00.000Z")
        let dnc = OptOut(contactID: "C-1", channel: nil, kind: .doNotContact, setBy: "legal", setAt: at("2026-11-01T00:00:00Z"), reason: "attorney")
        guard case .suppress(.doNotContact, _, _) = decide(contactJob(channels: [.email, .push]), at("2026-12-04T14:00:00Z"), optOuts: [dnc]) else {
            Issue.record("do-not-contact was not honoured")
            return
        }
        // Opt-outs hold for transactional messages too.
        guard case .suppress = decide(contactJob(channels: [.sms], category: .transactional), at("2026-12-04T14:00:00Z"), optOuts: [sms]) else {
            Issue.record("transactional message ignored an opt-out")
            return
        }
    }

    @Test func capsDeferUntilTheSlotReopensWithinAllowedHours() {
        let job = contactJob()
        let now = at("2026-12-04T14:00:00Z")  // Fri 09:00 Bogota
        let plan = RulesEngine.plan(job: job, now: now, rules: shippedRules, optOuts: []) { _ in nil }
        // The slot reopens Friday 22:00 Bogota, after hours: the job waits for Monday 07:00.
        let blocked = CapResult.blocked(ruleID: "sms-1-per-day", reopensAt: at("2026-12-05T03:00:00Z"), sentence: "at most 1 message in 1 day per contact and channel")
        guard case .defer(let until, "sms-1-per-day", _) = RulesEngine.resolve(job: job, now: now, plan: plan, caps: [.sms: blocked], rules: shippedRules) else {
            Issue.record("not deferred by the cap")
            return
        }
        #expect(until == at("2026-12-05T13:00:00Z"))  // Saturday 08:00 Bogota
        // If the job expires first, it is suppressed, naming the cap.
        var expiring = job
        expiring.expiresAt = at("2026-12-05T00:00:00Z")
        guard case .suppress(.noWindowBeforeExpiry, "sms-1-per-day", _) = RulesEngine.resolve(job: expiring, now: now, plan: plan, caps: [.sms: blocked], rules: shippedRules) else {
            Issue.record("not suppressed before expiry")
            return
        }
    }

    @Test func capChecksFollowScopeCountryAndCategory() {
        let chile = contactJob(phone: "+56912345678")
        let checks = shippedRules.capChecks(job: chile, channel: .sms, country: "CL", category: .collection)
        #expect(checks.map(\.ruleID) == ["debt-7-in-7-days", "contact-7-in-7-days", "contact-2-per-day", "sms-1-per-day", "chile-2-per-week", "chile-two-days"])
        #expect(checks.map(\.key) == ["debt:LN-1", "contact:C-1", "contact:C-1", "contact:C-1:sms", "contact:C-1", "contact:C-1"])
        let colombia = shippedRules.capChecks(job: chile, channel: .email, country: "CO", category: .collection, zone: "America/Bogota")
        #expect(colombia.map(\.ruleID) == ["debt-7-in-7-days", "contact-7-in-7-days", "contact-2-per-day", "colombia-1-per-day", "colombia-one-channel-per-week"])
        #expect(colombia.last == CapCheck(key: "contact:C-1:channels", ruleID: "colombia-one-channel-per-week", limit: .channels(max: 1, window: 7 * 86_400, channel: .email),
                                          description: "Colombia Ley 2300 art. 3: one channel per week", timeZone: "America/Bogota"))
        #expect(shippedRules.capChecks(job: chile, channel: .sms, country: "CL", category: .transactional).isEmpty)
    }

    @Test func timeZonesComeFromTheContactThePhoneOrTheDefault() {
        #expect(shippedRules.locate(contactJob(phone: "+573001234567", timezone: "America/Bogota")).source == "contact.timezone")
        #expect(shippedRules.locate(contactJob(phone: "+573001234567", timezone: "Mars/Olympus")).timeZones == ["America/Bogota"])
        #expect(shippedRules.locate(contactJob(phone: "+14155550123")).timeZones.count == 7)
        let nowhere = shippedRules.locate(contactJob(phone: nil, timezone: nil))
        #expect(nowhere.country == "CR" && nowhere.timeZones == ["America/Costa_Rica"] && nowhere.source == "default")
        #expect(shippedRules.locate(contactJob(phone: nil, timezone: "America/Lima")).country == "PE")
    }
}

@Suite struct ContactRulesFileTests {
    func load(_ yaml: String) throws -> ContactRules {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("contact-rules.yml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return try ContactRulesFile.load(path: path)
    }

    static let base = "default_country: CR\ndefault_timezone: America/Costa_Rica\nallowed_hours:\n  default: {mon-fri: \"08:00-20:00\"}\n"

    @Test func theTemplatesSectionIsReadWithTheRulesInOnePlace() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("contact-rules.yml").path
        try (Self.base + "templates:\n  opt_out_keywords: {sms: [STOP, BAJA]}\n  collection_disclosure_partials: [disclosure]\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let contents = try ContactRulesFile.read(path: path)
        #expect(contents.templates.optOutKeywords == [.sms: ["STOP", "BAJA"]])
        #expect(contents.templates.disclosurePartials == ["disclosure"])
        #expect(try ContactRulesFile.templateRequirements(path: dir.appendingPathComponent("none.yml").path) == ComplianceRequirements())
        let shipped = try ContactRulesFile.templateRequirements(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path)
        #expect(shipped.optOutKeywords[.sms] == ["STOP"])
        for (section, message) in [
            ("templates: [STOP]", "templates must be a mapping"),
            ("templates:\n  opt_out_keywords: {fax: [STOP]}", "templates.opt_out_keywords: \"fax\" is not sms, email or push"),
            ("templates:\n  opt_out_keyword: {sms: [STOP]}", "templates: unknown key \"opt_out_keyword\""),
        ] {
            #expect { try load(Self.base + section + "\n") } throws: { "\($0)".contains("contact-rules.yml: \(message)") }
        }
    }

    @Test func theShippedFileLoads() throws {
        #expect(shippedRules.hours.byCountry.keys.sorted() == ["CA", "CL", "CO", "CR", "DO", "MX", "PE", "US"])
        #expect(shippedRules.hours.holidays["CO"]?["2028-12-25"] == "Navidad")
        #expect(shippedRules.hours.byCountry["CL"]?.holidaysClosed == true)
        #expect(shippedRules.hours.byCountry["CA"]?.holidaysClosed == true && shippedRules.hours.byCountry["DO"]?.holidaysClosed == true)
        #expect(shippedRules.hours.holidays["CA"]?["2026-06-24"] == "Saint Jean Baptiste Day")
        #expect(shippedRules.hours.holidays["DO"]?["2028-12-25"] == "Día de Navidad")
        #expect(shippedRules.caps.count == 7 && shippedRules.gaps.count == 1)
        #expect(try load(Self.base).hours.fallback.description == "Other countries: allows 08:00-20:00 Mon-Fri")
    }

    @Test(arguments: [
        ("default_country: CR\nallowed_hours: {default: {mon: \"08:00-20:00\"}}", "default_timezone is required"),
        (base + "caps:\n  - {id: x, scope: contact, max: 0, window: 7d}", "caps[0] (x): max must be a whole number of at least 1"),
        (base + "caps:\n  - {id: x, scope: contact, max: 2, window: week}", "caps[0] (x): window must be a duration like 7d, 24h or 30m"),
        (base + "caps:\n  - {id: x, scope: household, max: 2, window: 7d}", "caps[0] (x): scope must be contact, contact_channel or debt"),
        (base + "caps:\n  - {id: x, scope: contact, max: 2, window: 7d}\n  - {id: x, scope: debt, max: 2, window: 7d}", "caps[1]: id \"x\" is used twice"),
        (base + "quiet_hours: {}", "unknown key \"quiet_hours\""),
        ("default_country: CR\ndefault_timezone: America/Costa_Rica\nallowed_hours:\n  default: {mon-fri: \"20:00-08:00\"}", "allowed_hours.default.mon-fri: \"20:00-08:00\" is not a window like 08:00-20:00"),
        ("default_country: CR\ndefault_timezone: America/Costa_Rica\nallowed_hours:\n  default: {weekdays: \"08:00-20:00\"}", "\"weekdays\" is not a day or day range"),
        ("default_country: CR\ndefault_timezone: America/Costa_Rica\nallowed_hours:\n  default: {mon: \"08:00-20:00\"}\n  PE: {mon: \"08:00-20:00\", holidays: closed}", "allowed_hours.PE closes on holidays, but config/holidays/PE.yml does not exist"),
    ])
    func mistakesAreExplained(yaml: String, message: String) {
        #expect { try load(yaml) } throws: { "\($0)".contains(message) }
    }
}

/// Property tests with a fixed seed, so a failure is reproducible: over thousands of random jobs and
/// clocks, no send is ever decided in forbidden hours, and no deferral skips an allowed moment.
@Suite struct ContactRulesPropertyTests {
    /// The laws, written out again independently of the rules file and the engine.
    static func lawAllows(country: String, zone: String, date: Date, channel: Channel) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zone)!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: date)
        let minute = c.hour! * 60 + c.minute!
        let day = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
        let holiday = shippedRules.hours.holidays[country]?[day] != nil
        let weekday = c.weekday!  // 1 = Sunday
        func within(_ from: Int, _ to: Int) -> Bool { minute >= from * 60 && minute < to * 60 }
        switch country {
        case "US": return within(8, 21)
        case "MX": return within(7, 22)
        case "CO": return !holiday && ((2...6).contains(weekday) ? within(7, 19) : weekday == 7 ? within(8, 15) : false)
        case "CL": return !holiday && (2...7).contains(weekday) && within(8, 20)
        case "CR": return (2...7).contains(weekday) && within(8, 20)
        case "PE": return !holiday && (2...6).contains(weekday) && within(8, 20)
        default: return channel == .push ? within(8, 21) : (2...7).contains(weekday) && within(8, 20)
        }
    }

    @Test func noSendInForbiddenHoursAndNoDeferralPastAnAllowedMoment() {
        var random = SeededRandom()
        let seed = random.description
        let phones = ["+573001234567", "+51987654321", "+56912345678", "+525512345678", "+14155550123", "+50688887777", "+34600123456"]
        let zones: [String?] = [nil, nil, "America/Bogota", "America/Santiago", "America/New_York", "America/Los_Angeles", "America/Mexico_City", "Pacific/Easter"]
        let start = at("2026-01-01T00:00:00Z").timeIntervalSince1970
        let end = at("2028-12-20T00:00:00Z").timeIntervalSince1970
        var sends = 0
        var deferrals = 0
        for _ in 0..<3000 {
            let phone = phones.randomElement(using: &random)!
            let zone = zones.randomElement(using: &random)!
            let channels: [Channel] = [[.sms], [.push], [.sms, .push], [.push, .sms]].randomElement(using: &random)!
            let now = Date(timeIntervalSince1970: Double.random(in: start...end, using: &random).rounded())
            let job = contactJob(phone: phone, timezone: zone, channels: channels)
            let location = shippedRules.locate(job)
            switch decide(job, now) {
            case .send(let channel, _):
                sends += 1
                for zone in location.timeZones {
                    #expect(Self.lawAllows(country: location.country, zone: zone, date: now, channel: channel), "sent \(channel) at \(now) in \(zone), \(seed)")
                }
            case .defer(let until, _, _):
                deferrals += 1
                // The moment chosen is allowed for some requested channel in every zone...
                #expect(channels.contains { channel in location.timeZones.allSatisfy { Self.lawAllows(country: location.country, zone: $0, date: until, channel: channel) } },
                        "deferred to a forbidden moment \(until), \(seed)")
                // ...and no earlier moment (on the 5-minute grid) was allowed for any of them.
                var probe = now.addingTimeInterval(300 - now.timeIntervalSince1970.truncatingRemainder(dividingBy: 300))
                while probe < until {
                    let open = channels.contains { channel in location.timeZones.allSatisfy { Self.lawAllows(country: location.country, zone: $0, date: probe, channel: channel) } }
                    #expect(!open, "deferred to \(until) but \(probe) was allowed, \(seed)")
                    if open { break }
                    probe = probe.addingTimeInterval(300)
                }
            default:
                Issue.record("unexpected decision at \(now), \(seed)")
            }
        }
        #expect(sends > 300 && deferrals > 300, "\(seed)")
    }
}

@Suite struct AddressOptOutTests {
    /// A reply's opt-out holds its number for every contact id, those the gateway never wrote to there
    /// included; only the gateway's own answer to a reply passes it.
    @Test func anAddressOptOutSuppressesAnotherContactAtTheAddressButNotTheGatewaysOwnAnswer() {
        let now = at("2026-12-04T14:00:00Z")   // Friday 09:00 in Bogotá: hours allow
        let hold = Hold(id: "H-0123456789abcdef", kind: .optOut, scope: .address, intent: "opt_out", contactID: "C-OLD", debtID: nil,
                        address: "+573001234567", since: now.addingTimeInterval(-3600), until: nil, escalationID: nil, replyText: "STOP", source: "twilio:SM-1")
        let job = contactJob(channels: [.sms, .email])
        let plan = RulesEngine.plan(job: job, now: now, rules: shippedRules, optOuts: [], state: ContactStateSnapshot(holds: [hold])) { _ in nil }
        guard case .optedOut(let mark) = plan.verdicts.first?.verdict else { Issue.record("sms not opted out: \(plan.verdicts)"); return }
        #expect(mark.contactID == "C-1" && mark.setBy == "reply:twilio:SM-1" && mark.sentence.contains("H-0123456789abcdef"))
        #expect(plan.allowedNow == [.email], "the hold is the number's: the e-mail still goes")
        let smsOnly = contactJob()
        let suppressed = RulesEngine.plan(job: smsOnly, now: now, rules: shippedRules, optOuts: [], state: ContactStateSnapshot(holds: [hold])) { _ in nil }
        guard case .suppress(let code, _, let detail) = RulesEngine.resolve(job: smsOnly, now: now, plan: suppressed, caps: [:], rules: shippedRules) else {
            Issue.record("not suppressed"); return
        }
        #expect(code == .optedOut && detail.contains("+573001234567 replied \"STOP\""))
        let answer = RulesEngine.plan(job: smsOnly, now: now, rules: shippedRules, optOuts: [], category: .reply, state: ContactStateSnapshot(holds: [hold])) { _ in nil }
        #expect(answer.allowedNow == [.sms])
        var lifted = hold
        lifted.liftedAt = now.addingTimeInterval(-60)
        #expect(RulesEngine.plan(job: smsOnly, now: now, rules: shippedRules, optOuts: [], state: ContactStateSnapshot(holds: [lifted])) { _ in nil }.allowedNow == [.sms])
    }
}
