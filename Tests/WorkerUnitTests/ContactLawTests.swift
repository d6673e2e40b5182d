import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import Worker

/// The shipped rules against the laws they cite, case by case: the public holidays of Chile, Canada
/// and the Dominican Republic; the caps' sentences and mistakes. The frequency laws (Chile's two
/// messages a week, Colombia's one contact a day and one channel a week) go through the shared
/// ledger in Redis, in WorkerTests' ContactLawTests.
@Suite struct ContactLawTests {
    static let santiago = "America/Santiago"

    // MARK: Chile's public holidays (Ley 19.496 art. 37: business days and hours only)

    @Test(arguments: [
        // Christmas, a Friday, at noon (UTC-3, Chilean summer time): Saturday 26 December 08:00.
        ("2026-12-25T15:00:00Z", "2026-12-26T11:00:00Z", "closed: Navidad (public holiday)"),
        // Independence Day, a Friday; Saturday is Army Day and Sunday is closed: Monday 08:00.
        ("2026-09-18T15:00:00Z", "2026-09-21T11:00:00Z",
         "closed: Día de la Independencia (public holiday), Día de las Glorias del Ejército (public holiday, Sat 2026-09-19)"),
        // Christmas Eve after 20:00: the next day is a holiday, and the sentence says so.
        ("2026-12-24T23:30:00Z", "2026-12-26T11:00:00Z", "closed: Navidad (public holiday, Fri 2026-12-25)"),
    ])
    func chileIsClosedOnItsHolidaysAndTheSentenceNamesThem(now: String, until: String, note: String) {
        let decision = decide(contactJob(phone: "+56912345678", timezone: Self.santiago), at(now))
        guard case .defer(let deferredTo, let rule, let detail) = decision else {
            Issue.record("\(now): \(decision), expected a deferral")
            return
        }
        #expect(rule == "hours-CL")
        #expect(deferredTo == at(until), "deferred to \(formatTimestamp(deferredTo))")
        #expect(detail.contains("; \(note); now "), "\(detail)")
    }

    @Test func theChristmasSentenceInFull() {
        guard case .defer(_, _, let detail) = decide(contactJob(phone: "+56912345678", timezone: Self.santiago), at("2026-12-25T15:00:00Z")) else {
            Issue.record("sent on Christmas Day")
            return
        }
        #expect(detail == "deferred to 2026-12-26 08:00 America/Santiago: Chile, Ley 19.496 art. 37: 08:00-20:00 Mon-Sat; never Sundays or holidays; "
                + "closed: Navidad (public holiday); now 12:00 Fri America/Santiago (contact.timezone)")
    }

    /// Every Chilean holiday of 2026-2028 that falls Monday to Saturday, at 07:30 and at noon local
    /// time, in Santiago and with only a +56 number (three zones): never sent, and the deferral
    /// lands on an allowed moment of a day that is not a holiday.
    @Test func noChileanHolidayIsUsedAndNoDeferralLandsOnOne() throws {
        let holidays = try #require(shippedRules.hours.holidays["CL"])
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: Self.santiago)!
        var checked = 0
        for day in holidays.keys.sorted() {
            let date = try #require(CalendarDate(day))
            for (hour, minute) in [(7, 30), (12, 0)] {
                let now = try #require(calendar.date(from: DateComponents(year: date.year, month: date.month, day: date.day, hour: hour, minute: minute)))
                guard calendar.component(.weekday, from: now) != 1 else { continue }  // Sundays are closed anyway
                for zone in [Self.santiago, nil] {
                    let job = contactJob(phone: "+56912345678", timezone: zone)
                    guard case .defer(let until, _, let detail) = decide(job, now) else {
                        Issue.record("\(day) \(hour):\(minute) \(zone ?? "+56"): not deferred")
                        continue
                    }
                    checked += 1
                    #expect(detail.contains("(public holiday"), "\(day): \(detail)")
                    for zone in shippedRules.locate(job).timeZones {
                        let localDay = String(HoursPolicy.describeLocal(until, zone: zone).prefix(10))
                        #expect(holidays[localDay] == nil, "\(day): deferred onto the holiday \(localDay) in \(zone)")
                        #expect(ContactRulesPropertyTests.lawAllows(country: "CL", zone: zone, date: until, channel: .sms), "\(day): deferred to \(until) in \(zone)")
                    }
                }
            }
        }
        #expect(checked > 60, "only \(checked) holiday moments checked")
    }

    // MARK: Canada's and the Dominican Republic's public holidays (Quebec's collection act; INDOTEL Res. 019-16)

    /// (phone, now, deferred until, the holiday note the sentence must carry). Canada is every Canadian
    /// zone at once: its next moment is 08:00 in Vancouver, and its holidays are every province's.
    @Test(arguments: [
        // Christmas, a Friday, at noon in Montreal (UTC-5): Saturday is Boxing Day (Ontario), Sunday is
        // closed, Monday is Boxing Day observed: Tuesday 29 December 08:00 in Vancouver.
        ("+15145550123", "2026-12-25T17:00:00Z", "2026-12-29T16:00:00Z",
         "closed: Christmas Day (public holiday), Boxing Day (public holiday, Sat 2026-12-26), Boxing Day (observed) (public holiday, Mon 2026-12-28)"),
        // Quebec's Fête nationale, a Wednesday, at noon in Montreal (UTC-4): Thursday 08:00 in Vancouver (UTC-7).
        ("+15145550123", "2026-06-24T16:00:00Z", "2026-06-25T15:00:00Z", "closed: Saint Jean Baptiste Day (public holiday)"),
        // Christmas at noon in Santo Domingo (UTC-4): Saturday 26 December 09:00.
        ("+18095550123", "2026-12-25T16:00:00Z", "2026-12-26T13:00:00Z", "closed: Día de Navidad (public holiday)"),
        // Christmas Eve after 18:00: the next day is the holiday, and the sentence says so.
        ("+18095550123", "2026-12-24T23:00:00Z", "2026-12-26T13:00:00Z", "closed: Día de Navidad (public holiday, Fri 2026-12-25)"),
        // Independence Day, a Friday: Saturday 09:00.
        ("+18095550123", "2026-02-27T16:00:00Z", "2026-02-28T13:00:00Z", "closed: Día de la Independencia Nacional (public holiday)"),
    ])
    func canadaAndTheDominicanRepublicAreClosedOnTheirHolidays(phone: String, now: String, until: String, note: String) throws {
        let job = contactJob(phone: phone)
        let location = shippedRules.locate(job)
        let decision = decide(job, at(now))
        guard case .defer(let deferredTo, let rule, let detail) = decision else {
            Issue.record("\(phone) at \(now): \(decision), expected a deferral")
            return
        }
        #expect(rule == "hours-\(location.country)")
        #expect(deferredTo == at(until), "deferred to \(formatTimestamp(deferredTo))")
        #expect(detail.contains("never Sundays or holidays; \(note); now "), "\(detail)")
        let holidays = try #require(shippedRules.hours.holidays[location.country])
        for zone in location.timeZones {
            let localDay = String(HoursPolicy.describeLocal(deferredTo, zone: zone).prefix(10))
            #expect(holidays[localDay] == nil, "\(phone): deferred onto the holiday \(localDay) in \(zone)")
            #expect(PhoneRegionRulesTests.lawAllows(phone: phone, zone: zone, date: deferredTo), "\(phone): deferred to \(deferredTo) in \(zone)")
        }
    }

    /// Every Canadian and Dominican holiday of 2026-2028 that falls Monday to Saturday, at noon local
    /// time (Montreal for Canada): never sent, and the deferral lands on an allowed moment that is not a holiday.
    @Test(arguments: [("+15145550123", "CA", "America/Toronto"), ("+18095550123", "DO", "America/Santo_Domingo")])
    func noCanadianOrDominicanHolidayIsUsed(phone: String, country: String, zone: String) throws {
        let holidays = try #require(shippedRules.hours.holidays[country])
        let job = contactJob(phone: phone)
        let zones = shippedRules.locate(job).timeZones
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zone)!
        var checked = 0
        for day in holidays.keys.sorted() {
            let date = try #require(CalendarDate(day))
            let now = try #require(calendar.date(from: DateComponents(year: date.year, month: date.month, day: date.day, hour: 12)))
            guard calendar.component(.weekday, from: now) != 1 else { continue }  // Sundays are closed anyway
            guard case .defer(let until, _, let detail) = decide(job, now) else {
                Issue.record("\(phone) \(day) 12:00: not deferred")
                continue
            }
            checked += 1
            #expect(detail.contains("closed: \(holidays[day]!) (public holiday)"), "\(day): \(detail)")
            for zone in zones {
                let localDay = String(HoursPolicy.describeLocal(until, zone: zone).prefix(10))
                #expect(holidays[localDay] == nil, "\(day): deferred onto the holiday \(localDay) in \(zone)")
                #expect(PhoneRegionRulesTests.lawAllows(phone: phone, zone: zone, date: until), "\(day): deferred to \(until) in \(zone)")
            }
        }
        #expect(checked > 25, "only \(checked) holiday moments checked")
    }

    // MARK: The file

    @Test(arguments: [
        ("caps:\n  - {id: x, scope: contact, max: 1, max_channels: 1, window: 7d}", "caps[0] (x): give max (messages in the window) or max_channels (distinct channels in the window), not both"),
        ("caps:\n  - {id: x, scope: contact_channel, max_channels: 1, window: 7d}", "caps[0] (x): max_channels counts the channels of a contact or a debt: scope must be contact or debt"),
        ("caps:\n  - {id: x, scope: contact, max_channels: 0, window: 7d}", "caps[0] (x): max_channels must be a whole number of at least 1"),
        ("caps:\n  - {id: x, scope: contact, window: 7d}", "caps[0] (x): max must be a whole number of at least 1 (or max_channels"),
        ("caps:\n  - {id: x, scope: contact, max: 1, window: 7d, countries: [co]}", "caps[0] (x): countries must be a list of two-letter country codes, like [CO, CL]"),
        ("min_gap:\n  - {id: x, scope: contact, gap: 2d, description: \"\"}", "min_gap[0] (x): description must be a sentence"),
    ])
    func capMistakesAreExplained(yaml: String, message: String) {
        #expect { try ContactRulesFileTests().load(ContactRulesFileTests.base + yaml) } throws: { "\($0)".contains(message) }
    }

    @Test func aChannelCapIsReadWithItsSentence() throws {
        let rules = try ContactRulesFileTests().load(ContactRulesFileTests.base
            + "caps:\n  - {id: one-channel, scope: debt, max_channels: 2, window: 7d}\n  - {id: cited, description: \"Ley X: one a day\", scope: contact, max: 1, window: 1d}")
        #expect(rules.caps[0].kind == .channels && rules.caps[0].max == 2 && rules.caps[0].description == "at most 2 channels in 7 days per debt")
        #expect(rules.caps[1].kind == .messages && rules.caps[1].description == "Ley X: one a day")
        let job = contactJob()
        #expect(rules.capChecks(job: job, channel: .push, country: "CO", category: .collection).map(\.key) == ["debt:LN-1:channels", "contact:C-1"])
    }

    @Test func holidaysWithoutANameAreRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("holidays"), withIntermediateDirectories: true)
        try "country: CL\nholidays:\n  - {date: 2026-12-25}\n".write(to: dir.appendingPathComponent("holidays/CL.yml"), atomically: true, encoding: .utf8)
        let path = dir.appendingPathComponent("contact-rules.yml").path
        try ContactRulesFileTests.base.write(toFile: path, atomically: true, encoding: .utf8)
        #expect { try ContactRulesFile.load(path: path) } throws: { "\($0)".contains("the holiday on 2026-12-25 needs a name") }
    }
}
